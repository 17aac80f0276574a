// Package exitcode carries a command's process exit status from the package
// that decides it (a verdict, a usage error, an unreadable input) to
// cmd/edge, which only prints the error and exits with it.
package exitcode

import "errors"

// The statuses the commands share; a command's help names its own meaning.
const (
	// Failed is a check that ran and found a problem (also any other error).
	Failed = 1
	// Usage is a command line or an input the command cannot work with.
	Usage = 2
)

// Error is err with the exit status a command ends with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New wraps err (which must not be nil) with the exit status code.
func New(code int, err error) error { return &Error{Code: code, Err: err} }

// Code is the exit status for err: 0 for nil, the outermost Error's code,
// else Failed.
func Code(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return Failed
}
