package evidence

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrTooLarge is wrapped by a builder's refusal to make the bundle of
	// a trace with more events than it was allowed to prove in one bundle
	// (see store.Store.EvidenceUpTo): a server answering untrusted
	// requests bounds what one request costs.
	ErrTooLarge = errors.New("evidence: the trace has more events than one bundle may hold here")
	// ErrInvalid is wrapped by every failure of Verify: the bundle does
	// not prove what it says. errors.As gives the *Error naming what.
	ErrInvalid = errors.New("evidence: does not verify")
)

// Error is a failure of Verify, naming the part of the bundle that does
// not hold: "checkpoint", "event seq 42", "bundle".
type Error struct {
	What string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("evidence: %s: %v", e.What, e.Err) }

// Unwrap makes errors.Is(err, ErrInvalid) hold, and errors.Is for the
// cause (otelaudit.ErrBadSignature, otelaudit.ErrBadProof, ...).
func (e *Error) Unwrap() []error { return []error{ErrInvalid, e.Err} }

func fail(what string, format string, a ...any) error {
	return &Error{What: what, Err: fmt.Errorf(format, a...)}
}
