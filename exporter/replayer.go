package exporter

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// replayer is what Exporter and LogExporter share: the options, the turn
// taking that keeps an SDK exporter from ever seeing concurrent export
// calls, the check of a replay's events, the batching, and the shutdown
// that happens once. Each exporter supplies the calls that differ: how a
// batch of events is exported, flushed and shut down.
type replayer struct {
	// what names the exporter in errors: "exporter" or "log exporter".
	what string
	cfg  config

	// lock is a 1-buffered channel used as a mutex that a waiter can give up
	// on when its context ends: holding it means a value sits in the buffer.
	// It guards every call into the SDK exporter, shut, and whatever the
	// owner keeps for its export calls.
	lock chan struct{}

	// closed is set by the first Shutdown before it waits for the lock, so
	// that replays queued behind an in-flight one are refused rather than run
	// ahead of the shutdown. It is atomic so Replay can refuse early, without
	// queueing for the lock.
	closed atomic.Bool
	// shut records that the SDK exporter's Shutdown has been called: it is
	// called once.
	shut bool
}

func newReplayer(what string, opts []Option) replayer {
	return replayer{what: what, cfg: newConfig(opts), lock: make(chan struct{}, 1)}
}

// usable reports whether r came from newReplayer; the zero replayer's nil
// lock would block forever.
func (r *replayer) usable() bool { return r.lock != nil }

// acquire takes the lock, or gives up with ctx's error when ctx ends first.
func (r *replayer) acquire(ctx context.Context) error {
	// select picks at random among ready cases; checking first means a
	// cancelled ctx always wins over a free lock.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case r.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *replayer) release() { <-r.lock }

// replay checks events, then hands them to export in batches of at most
// the configured batch size, in order, holding the lock. See
// Exporter.Replay for the contract.
func (r *replayer) replay(ctx context.Context, events []otelaudit.Event, export func(context.Context, []otelaudit.Event) error) error {
	if r.closed.Load() {
		return fmt.Errorf("%s: replay: %w", r.what, ErrShutdown)
	}
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if events[i].Type == "" {
			return fmt.Errorf("%s: replay: nothing exported: event %d (seq %d) has an empty type: %w",
				r.what, i, events[i].Seq, ErrInvalidEvent)
		}
	}

	if err := r.acquire(ctx); err != nil {
		return fmt.Errorf("%s: replay: nothing exported: waiting for another replay: %w", r.what, err)
	}
	defer r.release()
	// Checked again under the lock: Shutdown may have run while we waited.
	if r.closed.Load() {
		return fmt.Errorf("%s: replay: %w", r.what, ErrShutdown)
	}

	exported := 0
	for exported < len(events) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: replay stopped after %d of %d events: %w", r.what, exported, len(events), err)
		}
		n := min(r.cfg.batchSize, len(events)-exported)
		if err := export(ctx, events[exported:exported+n]); err != nil {
			return fmt.Errorf("%s: replay stopped after %d of %d events: export: %w", r.what, exported, len(events), err)
		}
		exported += n
	}
	return nil
}

// forceFlush waits, within ctx, for the replay in flight, then calls flush
// (nil: nothing to flush) under the lock. After Shutdown it returns nil at
// once, as the SDK's processors do.
func (r *replayer) forceFlush(ctx context.Context, flush func(context.Context) error) error {
	if r.closed.Load() {
		return nil
	}
	if err := r.acquire(ctx); err != nil {
		return fmt.Errorf("%s: force flush: %w", r.what, err)
	}
	defer r.release()
	if flush == nil || r.shut {
		return nil
	}
	if err := flush(ctx); err != nil {
		return fmt.Errorf("%s: force flush: %w", r.what, err)
	}
	return nil
}

// shutdown refuses new replays, waits within ctx for the one in flight and
// calls shut once. See Exporter.Shutdown for the contract.
func (r *replayer) shutdown(ctx context.Context, shut func(context.Context) error) error {
	r.closed.Store(true)
	if err := r.acquire(ctx); err != nil {
		return fmt.Errorf("%s: shutdown: waiting for in-flight replay: %w", r.what, err)
	}
	defer r.release()
	if r.shut {
		return nil
	}
	r.shut = true
	if err := shut(ctx); err != nil {
		return fmt.Errorf("%s: shutdown: %w", r.what, err)
	}
	return nil
}
