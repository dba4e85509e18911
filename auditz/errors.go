package auditz

import "errors"

// The errors a request can get, as the "error" of its JSON answer; tests
// and callers of the Go API match them with errors.Is.
var (
	// ErrBadRequest is wrapped by every complaint about a request's path or
	// parameters (a malformed trace ID, limit or time).
	ErrBadRequest = errors.New("auditz: bad request")
	// ErrMethod refuses every method but GET and HEAD: the handler is
	// read-only.
	ErrMethod = errors.New("auditz: method not allowed, the handler is read-only (GET, HEAD)")
	// ErrForbidden answers a request the WithAuth hook refused.
	ErrForbidden = errors.New("auditz: forbidden")
	// ErrNotFound answers a path the handler does not serve.
	ErrNotFound = errors.New("auditz: not found")
	// ErrNoGenerator answers every data request of a handler made with a nil
	// Generator, rather than panicking or pretending the trail is empty.
	ErrNoGenerator = errors.New("auditz: no generator")
	// ErrNoEvidence answers the evidence endpoints of a handler without
	// WithEvidence.
	ErrNoEvidence = errors.New("auditz: no store to prove traces from (see WithEvidence)")
)
