package exporter

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Exporter replays audit events as spans to an sdktrace.SpanExporter. It is
// safe for concurrent use; Replay calls are serialized because a
// SpanExporter must never see concurrent ExportSpans calls.
//
// The zero Exporter is not usable: every method returns ErrNilExporter.
type Exporter struct {
	exp sdktrace.SpanExporter
	r   replayer
}

// New returns an Exporter that replays to exp. New never fails: with a nil
// exp every method returns ErrNilExporter, so the mistake surfaces at the
// first use with a clear error rather than a panic.
func New(exp sdktrace.SpanExporter, opts ...Option) *Exporter {
	return &Exporter{exp: exp, r: newReplayer("exporter", opts)}
}

// usable reports ErrNilExporter for an Exporter that did not come from New
// with a non-nil SpanExporter.
func (x *Exporter) usable(op string) error {
	if x == nil || x.exp == nil || !x.r.usable() {
		return fmt.Errorf("%w: %s", ErrNilExporter, op)
	}
	return nil
}

// Replay exports one span per event, in the order given, in batches of at
// most the configured batch size (see WithBatchSize), and returns once the
// last batch has been exported. The span format is described in the package
// documentation.
//
// Events are checked before anything is exported: an invalid event fails the
// whole call with ErrInvalidEvent and nothing is sent, so a batch is never
// partly dropped without the caller knowing. Events with the zero TraceID
// are not invalid: see TraceID.
//
// Replay stops at the first batch the SpanExporter fails, or when ctx ends
// (checked before each batch, and honoured by the SpanExporter during one).
// The returned error wraps the cause and says how many events were exported
// before it; the failed batch may have been partly delivered. Because span
// IDs are deterministic, replaying the whole slice again is safe: a backend
// sees the same spans again, not new ones.
//
// Concurrent Replay calls run one at a time; a call waiting for its turn
// gives up when ctx ends. After Shutdown, Replay returns ErrShutdown.
// Replay never modifies events or their attributes, and no span shares
// memory with them.
func (x *Exporter) Replay(ctx context.Context, events []otelaudit.Event) error {
	if err := x.usable("replay"); err != nil {
		return err
	}
	return x.r.replay(ctx, events, func(ctx context.Context, batch []otelaudit.Event) error {
		// A fresh slice per batch: exporters must not keep the slice, but a
		// new one costs little and keeps a misbehaving exporter from seeing
		// its earlier batch overwritten.
		spans := make([]sdktrace.ReadOnlySpan, len(batch))
		for i := range spans {
			spans[i] = x.span(&batch[i])
		}
		return x.exp.ExportSpans(ctx, spans)
	})
}

// ForceFlush waits, within ctx, for the Replay in flight, if any, to finish.
// Replay does not buffer, so once it has returned everything it accepted has
// been handed to the SpanExporter; that is all there is to flush. Replay calls
// still queued for their turn are not waited for. After Shutdown, ForceFlush
// returns nil at once, as the SDK's span processors do.
func (x *Exporter) ForceFlush(ctx context.Context) error {
	if err := x.usable("force flush"); err != nil {
		return err
	}
	return x.r.forceFlush(ctx, nil)
}

// Shutdown refuses new Replay calls from the moment it is called, waits
// within ctx for the one in flight, then shuts down the SpanExporter with
// ctx and returns its error.
//
// If ctx ends before the in-flight Replay does, Shutdown returns ctx's error
// without having shut down the SpanExporter; Replay stays refused and a later
// Shutdown tries again. Once the SpanExporter's Shutdown has been called,
// whatever it returned, further Shutdown calls return nil without calling it
// again, as the SDK's span processors do.
func (x *Exporter) Shutdown(ctx context.Context) error {
	if err := x.usable("shutdown"); err != nil {
		return err
	}
	return x.r.shutdown(ctx, x.exp.Shutdown)
}
