package otelaudit

import "errors"

// Sentinel errors. Record wraps them with detail; test with errors.Is.
var (
	// ErrNilGenerator is returned by the methods of a nil *Generator.
	ErrNilGenerator = errors.New("otelaudit: nil generator")
	// ErrEmptyType refuses an event without a type: an audit entry that does
	// not say what happened cannot be queried or verified.
	ErrEmptyType = errors.New("otelaudit: event type is empty")
	// ErrInvalidEvent refuses an event whose fields contradict each other or
	// the model: an unknown outcome, a span ID without a trace ID, a negative
	// duration.
	ErrInvalidEvent = errors.New("otelaudit: invalid event")
	// ErrFull is returned when the Generator holds Capacity events and its
	// policy is RejectNew. The event is counted in Stats.Rejected.
	ErrFull = errors.New("otelaudit: generator is full")
)
