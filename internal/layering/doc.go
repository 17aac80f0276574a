// Package layering holds the test that keeps the import rule of
// docs/architecture.md: a package imports only from layers below its own.
// It has no code of its own; `go test ./internal/layering` (part of make
// test) fails on an upward import and names the file that makes it.
package layering
