package otelaudit

import (
	"context"
	"fmt"
)

// Ready reports whether Require can give receipts: nil once a commit to
// the store that began after the call succeeded. With nothing waiting to
// be written, the writer makes one for it (a transaction with fsync that
// writes what the store already holds), so a store that was closed, or
// whose file system turned read-only or full, is found out, not assumed
// well. Concurrent calls share commits.
//
// Its error wraps ErrNoReceipt and the reason: no store (ErrNoStore), the
// store refused (ErrStoreRefused), shut down (ErrShutdown), the last
// commit failed (ErrStoreFailed, at once, without a new attempt: the
// writer retries on its own, with backoff up to a second), or ctx ended
// first. Put it behind a runtime's readiness endpoint, with a deadline of
// a second or so, when the runtime's high-risk actions Require receipts.
func (g *Generator) Ready(ctx context.Context) error {
	if err := g.usable(); err != nil {
		return fmt.Errorf("%w: %w", ErrNoReceipt, err)
	}
	if g.dur.w == nil {
		return fmt.Errorf("%w: %w: nothing is durable without one (see WithStore)", ErrNoReceipt, ErrNoStore)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrNoReceipt, ErrShutdown)
	}
	if err := g.refuseRequire(); err != nil {
		g.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrNoReceipt, err)
	}
	// Only an attempt numbered after this one began after the call.
	from := g.req.attempts
	g.req.probe = true
	for {
		switch {
		case g.req.okAt > from:
			g.mu.Unlock()
			return nil
		case g.req.failedAt > from:
			err := g.dur.err
			g.mu.Unlock()
			return fmt.Errorf("%w: %w: %w", ErrNoReceipt, ErrStoreFailed, err)
		case g.dur.writerDone:
			g.mu.Unlock()
			return fmt.Errorf("%w: %w", ErrNoReceipt, ErrShutdown)
		}
		if !g.awaitWriter(ctx.Done()) {
			g.mu.Unlock()
			return fmt.Errorf("%w: no commit to the store ended within the context: %w", ErrNoReceipt, ctx.Err())
		}
	}
}
