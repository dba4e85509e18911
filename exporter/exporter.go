package exporter

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Errors returned by the Exporter, wrapped; test for them with errors.Is.
var (
	// ErrNilExporter is returned by every method of a nil *Exporter, of the
	// zero Exporter, and of one created by New with a nil SpanExporter.
	ErrNilExporter = errors.New("nil exporter")

	// ErrShutdown is returned by Replay once Shutdown has been called.
	ErrShutdown = errors.New("exporter is shut down")

	// ErrInvalidEvent is returned by Replay for an event that cannot become
	// a span (today: one with an empty Type, which no Generator accepts).
	ErrInvalidEvent = errors.New("invalid event")
)

// Exporter replays audit events as spans to an sdktrace.SpanExporter. It is
// safe for concurrent use; Replay calls are serialized because a
// SpanExporter must never see concurrent ExportSpans calls.
type Exporter struct {
	exp sdktrace.SpanExporter
	cfg config

	// lock is a 1-buffered channel used as a mutex that a waiter can give up
	// on when its context ends: holding it means a value sits in the buffer.
	// It guards every call into exp, and expShut.
	lock chan struct{}

	// closed is set by the first Shutdown before it waits for the lock, so
	// that replays queued behind an in-flight one are refused rather than run
	// ahead of the shutdown. It is atomic so Replay can refuse early, without
	// queueing for the lock.
	closed atomic.Bool
	// expShut records that exp.Shutdown has been called: it is called once.
	expShut bool
}

// New returns an Exporter that replays to exp. New never fails: with a nil
// exp every method returns ErrNilExporter, so the mistake surfaces at the
// first use with a clear error rather than a panic.
func New(exp sdktrace.SpanExporter, opts ...Option) *Exporter {
	return &Exporter{
		exp:  exp,
		cfg:  newConfig(opts),
		lock: make(chan struct{}, 1),
	}
}

// usable reports ErrNilExporter for an Exporter that did not come from New
// with a non-nil SpanExporter; the zero Exporter's nil lock would block
// forever.
func (x *Exporter) usable(op string) error {
	if x == nil || x.exp == nil || x.lock == nil {
		return fmt.Errorf("exporter: %s: %w", op, ErrNilExporter)
	}
	return nil
}

// acquire takes the lock, or gives up with ctx's error when ctx ends first.
func (x *Exporter) acquire(ctx context.Context) error {
	// select picks at random among ready cases; checking first means a
	// cancelled ctx always wins over a free lock.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case x.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (x *Exporter) release() { <-x.lock }

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
	if x.closed.Load() {
		return fmt.Errorf("exporter: replay: %w", ErrShutdown)
	}
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if events[i].Type == "" {
			return fmt.Errorf("exporter: replay: nothing exported: event %d (seq %d) has an empty type: %w",
				i, events[i].Seq, ErrInvalidEvent)
		}
	}

	if err := x.acquire(ctx); err != nil {
		return fmt.Errorf("exporter: replay: nothing exported: waiting for another replay: %w", err)
	}
	defer x.release()
	// Checked again under the lock: Shutdown may have run while we waited.
	if x.closed.Load() {
		return fmt.Errorf("exporter: replay: %w", ErrShutdown)
	}

	exported := 0
	for exported < len(events) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("exporter: replay stopped after %d of %d events: %w", exported, len(events), err)
		}
		n := min(x.cfg.batchSize, len(events)-exported)
		// A fresh slice per batch: exporters must not keep the slice, but a
		// new one costs little and keeps a misbehaving exporter from seeing
		// its earlier batch overwritten.
		spans := make([]sdktrace.ReadOnlySpan, n)
		for i := range spans {
			spans[i] = x.span(&events[exported+i])
		}
		if err := x.exp.ExportSpans(ctx, spans); err != nil {
			return fmt.Errorf("exporter: replay stopped after %d of %d events: export: %w", exported, len(events), err)
		}
		exported += n
	}
	return nil
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
	if x.closed.Load() {
		return nil
	}
	if err := x.acquire(ctx); err != nil {
		return fmt.Errorf("exporter: force flush: %w", err)
	}
	x.release()
	return nil
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
	x.closed.Store(true)
	if err := x.acquire(ctx); err != nil {
		return fmt.Errorf("exporter: shutdown: waiting for in-flight replay: %w", err)
	}
	defer x.release()
	if x.expShut {
		return nil
	}
	x.expShut = true
	if err := x.exp.Shutdown(ctx); err != nil {
		return fmt.Errorf("exporter: shutdown: %w", err)
	}
	return nil
}
