// Package console is the HTTP face of `edge run`: the operator console (a
// web page embedded in the binary, loading nothing from outside the box),
// its JSON API, server-sent events, /metrics, /healthz and /readyz.
//
// Pictures: the only image it serves is a JPEG encoded from a *mask.Frame,
// the type only the mask stage can make, and only while the camera's own
// registered sign is valid. There is no code path from an unmasked frame to
// a response.
//
// Changes (a camera's zones, the sign register) are edits of the config
// file's YAML node tree handed to the Backend, which validates them like a
// file edit, writes the file atomically, reloads, and audits the change with
// the user who made it; a rejected change leaves the file untouched and
// comes back with every problem, its path and its fix.
//
// Every request but /healthz and /readyz needs the configured user (HTTP
// basic auth, compared in constant time). Requests that change something
// must be JSON and, when the browser names an Origin, come from this
// server, so another web page cannot make them with the operator's
// credentials. Without credentials (loopback only), the Host header must be
// a loopback name, so DNS rebinding cannot reach the API either.
package console
