package exporter

import "errors"

// Errors of the exporters, streams and OTLP clients, wrapped; test for
// them with errors.Is.
var (
	// ErrNilExporter is returned by every method of a nil *Exporter or
	// *LogExporter, of the zero value of either, and of one created with a
	// nil SDK exporter; by NewStream and NewLogStream given a nil exporter;
	// and by the methods of a nil or zero Stream, which no constructor made.
	ErrNilExporter = errors.New("exporter: nil exporter")

	// ErrNilTrail is returned by NewStream, NewLogStream, NewOTLPStream
	// and NewOTLPLogStream given a nil Trail.
	ErrNilTrail = errors.New("exporter: nil trail")

	// ErrShutdown is returned by Replay once Shutdown has been called.
	ErrShutdown = errors.New("exporter: shut down")

	// ErrInvalidEvent is returned by Replay for an event that cannot become
	// a span or log record: one with an empty Type, which no Generator
	// accepts.
	ErrInvalidEvent = errors.New("exporter: invalid event")

	// ErrExportFailed wraps every failure of an OTLPClient made here to
	// deliver a request: a gRPC status other than OK (the gRPC error is
	// wrapped too: status.Code reads it), an HTTP status other than 2xx, or a
	// transport error. A Stream retries it.
	ErrExportFailed = errors.New("exporter: otlp export failed")
)
