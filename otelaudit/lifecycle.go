package otelaudit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// The end of a Generator's life: ForceFlush, which waits for the store
// writer, and Shutdown, which stops the follower and the writer and closes
// the store, each within its ctx.

// ForceFlush returns once every event accepted before the call is durable
// in the Generator's store, with the milestones Checkpoint asked for
// before it, or with an error wrapping ErrNotFlushed and ctx's error when
// ctx ends first (ErrShutdown when the writer stopped first), saying how
// many are not. Without a store it returns nil at once: held events
// are as final as they get.
func (g *Generator) ForceFlush(ctx context.Context) error {
	if err := g.usable(); err != nil {
		return err
	}
	if g.dur.w == nil {
		return nil
	}
	g.mu.Lock()
	target, ms := g.held.next-1, g.cps.msAsked
	for !g.flushedTo(target, ms) {
		if g.dur.writerDone {
			err := g.notFlushed(target, ms)
			g.mu.Unlock()
			return fmt.Errorf("%w: %w", ErrShutdown, err)
		}
		if !g.awaitWriter(ctx.Done()) {
			defer g.mu.Unlock()
			if g.flushedTo(target, ms) {
				return nil
			}
			err := g.notFlushed(target, ms)
			if g.dur.err != nil {
				return fmt.Errorf("%w (store: %v): %w", err, g.dur.err, ctx.Err())
			}
			return fmt.Errorf("%w: %w", err, ctx.Err())
		}
	}
	g.mu.Unlock()
	return nil
}

// flushedTo reports whether every event up to target is in the store
// (with a key, signed: every commit is), with the milestones asked for up
// to ms, and, once shut down, whether the Seqs reserved past them are
// released. Lock only.
func (g *Generator) flushedTo(target, ms uint64) bool {
	return g.dur.seq >= target && g.cps.msDone >= ms && (!g.closed || g.dur.reserved == g.held.next-1)
}

// notFlushed says what flushedTo(target, ms) found missing. Lock only.
func (g *Generator) notFlushed(target, ms uint64) error {
	if n := target - min(target, g.dur.seq); n > 0 {
		return fmt.Errorf("%w: %d events not durable yet", ErrNotFlushed, n)
	}
	if g.cps.msDone < ms {
		return fmt.Errorf("%w: the milestone checkpoint asked for is not in the store", ErrNotFlushed)
	}
	return fmt.Errorf("%w: the Seqs reserved past the last event are not released", ErrNotFlushed)
}

// Shutdown stops the Generator: later Record and Append calls are refused
// with ErrShutdown. With a signing key and no store it signs a last
// checkpoint of the head, so that whatever is cut off the trail after the
// process ends shows (with a store, every commit signs its last event).
// With a store, it then flushes (see ForceFlush), releases the Seqs it
// reserved past the last event (see Batch.Reserved), stops the writer and
// closes the store, within ctx; the error says what could not be done in
// time (wrapping ErrNotFlushed where events or milestones are not
// durable, or ctx's error), and a next run then records the Seqs it may have lost. Held events
// stay queryable. Calls after the first return nil.
func (g *Generator) Shutdown(ctx context.Context) error {
	if g.invalid() {
		return ErrNilGenerator
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	following := g.fol.done
	if g.startErr != nil {
		// The store was never the Generator's: its caller closes it.
		g.mu.Unlock()
		if g.metrics != nil {
			_ = g.metrics.Unregister()
		}
		return g.stopFollower(ctx, following)
	}
	reg := g.metrics
	if g.dur.w != nil {
		// Records waiting for room see closed and give up.
		g.dur.signal()
	}
	g.mu.Unlock()
	if reg != nil {
		// Stats stay readable; the metrics stop with the Generator.
		_ = reg.Unregister()
	}
	// The follower ends within a chunk; queries still catch up on their
	// own (held events stay queryable).
	ferr := g.stopFollower(ctx, following)
	if g.cfg.signer != nil && g.dur.w == nil {
		// With a store every commit signs its last event, the last one
		// included: a checkpoint here would say the same thing twice.
		g.lockSealed()
		if g.seal.sealed-1 > g.cps.lastSeq {
			g.addCheckpoint()
		}
		g.mu.Unlock()
	}
	if g.dur.w == nil {
		return ferr
	}
	err := errors.Join(ferr, g.ForceFlush(ctx))
	close(g.dur.w.quit)
	// An idle writer exits at once: let it, even if ForceFlush used up
	// ctx, so that the store is closed when Shutdown returns.
	for range 100 {
		select {
		case <-g.dur.w.done:
			return errors.Join(err, g.dur.w.closeErr)
		default:
			runtime.Gosched()
		}
	}
	select {
	case <-g.dur.w.done:
		return errors.Join(err, g.dur.w.closeErr)
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("otelaudit: store writer still busy: %w", ctx.Err()))
	}
}
