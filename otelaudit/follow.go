package otelaudit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// The follower keeps the indexes and the seals current behind the writers,
// so that a query finds them ready: it pays only for the events recorded
// since the follower's last round, a catch-up interval's worth at most
// (see WithCatchUpInterval), instead of for everything recorded since the
// last query.
//
// It is a goroutine that exists only while there is work: the first Append
// that finds none running starts it, and it ends after a round that finds
// nothing new. Appends meanwhile only read a flag: they never signal it. A
// round waits for the interval, so that it takes the events of the whole
// interval in a few holds of the lock (followChunk events each) rather
// than one hold per event, then seals and indexes up to the newest event,
// as lockCurrent would. An idle Generator costs no goroutine, and one
// dropped without Shutdown can still be collected once its follower ends.

// DefaultCatchUpInterval is how long the follower lets events accumulate
// before it seals and indexes them: the lag a first query may have to make
// up.
const DefaultCatchUpInterval = time.Millisecond

// followChunk is how many events the follower seals, indexes and unlinks
// per hold of the lock: some ten microseconds, far shorter than a query's
// catch-up chunk, since writers are busy whenever the follower runs, and
// a writer that waits long for the lock parks, which costs it more than
// the wait. (On two busy cores, 32 costs the span processor measurably
// less CPU than 256.)
const followChunk = 32

// WithCatchUpInterval sets how often a background worker brings the
// indexes and the seals up to date while events arrive (see
// DefaultCatchUpInterval), so that a query after a burst pays for the
// events of the last interval only. Zero or less turns the worker off:
// the first query after new events then indexes and seals all of them
// itself, which suits a process that records much and queries rarely, and
// has no core to spare.
func WithCatchUpInterval(d time.Duration) Option {
	return optionFunc(func(c config) config {
		c.catchUp = max(d, 0)
		return c
	})
}

// follower is the state of the Generator's follower.
type follower struct {
	// running is set while a follower goroutine lives: Appends that see it
	// clear start one. It is cleared under g.mu, by the follower as it
	// ends.
	running atomic.Bool
	// stop is closed by Shutdown.
	stop chan struct{}
	// done is closed when the running follower ends; nil when none runs.
	// Under g.mu.
	done chan struct{}
}

// wakeFollower starts the follower unless it runs or is turned off.
// Called by every Append, outside the lock, after the event is published.
func (g *Generator) wakeFollower() {
	if g.cfg.catchUp <= 0 || g.fol.running.Load() || !g.fol.running.CompareAndSwap(false, true) {
		return
	}
	g.mu.Lock()
	if g.closed {
		g.fol.running.Store(false)
		g.mu.Unlock()
		return
	}
	done := make(chan struct{})
	g.fol.done = done
	g.mu.Unlock()
	go g.follow(done)
}

// follow is the follower: a round per interval until a round finds nothing
// to do, or Shutdown.
func (g *Generator) follow(done chan struct{}) {
	// Closed last, so that Shutdown, which waits for it, returns once
	// nothing of the follower runs but its return.
	defer close(done)
	t := time.NewTimer(g.cfg.catchUp)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-g.fol.stop:
			g.mu.Lock()
			g.endFollower(done)
			g.mu.Unlock()
			return
		}
		if !g.followRound(done) {
			return
		}
		t.Reset(g.cfg.catchUp)
	}
}

// followRound seals and indexes every event recorded before it, a chunk
// per hold of the lock, and reports whether the follower goes on: not
// when there was nothing to do or the Generator is shut down.
func (g *Generator) followRound(done chan struct{}) bool {
	g.mu.Lock()
	target := g.held.next
	if g.closed || g.current(target) {
		// Under the lock: an Append that numbers its event after this
		// sees running cleared and starts a new follower; one that
		// numbered it before is in target.
		g.endFollower(done)
		g.mu.Unlock()
		return false
	}
	for {
		// Only events whose writers have finished: waiting for one under
		// the lock would hold up every writer, while the writer it
		// waits for is the one place the wait could end. The rest is
		// the next round's.
		lo := min(g.idx.indexed, g.seal.sealed)
		hi := g.published(lo, min(target, lo+followChunk))
		g.catchUpChunk(hi, followChunk)
		if g.closed || g.current(target) || hi == lo && g.idx.unlinks.n == 0 {
			break
		}
		// No yield between chunks: writers waiting for the lock get it
		// now, and a yield would send the follower behind writers that
		// never block, for a scheduler time slice.
		g.mu.Unlock()
		g.mu.Lock()
	}
	g.mu.Unlock()
	return true
}

// published returns the first event in [from, target) whose writer has
// not finished writing it, or target. Lock only.
func (g *Generator) published(from, target uint64) uint64 {
	for seq := from; seq < target; seq++ {
		if g.held.ring.at(seq).pub.Load() != seq {
			return seq
		}
	}
	return target
}

// endFollower marks the follower ended; it closes done as it returns.
// Lock only.
func (g *Generator) endFollower(done chan struct{}) {
	g.fol.running.Store(false)
	if g.fol.done == done {
		g.fol.done = nil
	}
}

// stopFollower stops the follower and waits for it to end, within the
// context's deadline: it ends within one chunk. Called by Shutdown once
// closed is set, so that no new follower starts.
func (g *Generator) stopFollower(ctx context.Context, done <-chan struct{}) error {
	close(g.fol.stop)
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("otelaudit: catch-up worker still busy: %w", ctx.Err())
	}
}
