package otelaudit

import "runtime"

// Long work under the lock (catching up the indexes and seals, a query's
// walk, copying a batch out for the store, verifying) is cut into chunks
// of about a thousand events, a few hundred microseconds each. Between
// chunks the lock is let go and the processor yielded, so that a writer
// waiting for the lock gets it within a chunk: sync.Mutex is not
// first-come-first-served, and without the yield the goroutine that let
// go would usually take the lock straight back.
//
// Two waits under the lock stay spins of their own: slotOf and
// arena.release wait for a writer that needs no lock to finish (a few
// hundred nanoseconds), so letting go of the lock would only let more
// writers in ahead of it. The follower lets go of the lock between its
// chunks without yielding, and stops at the first event still being
// written (see followRound and published); gather and Shutdown spin
// without holding the lock at all.

// inChunks runs step with g.mu held, repeatedly, until it reports that
// the work is done, letting go of the lock and yielding the processor
// between steps. again tells step that the lock was let go since its last
// call: writers, eviction or Clear may have moved what it works on, and it
// must look again. g.mu is held on entry and on return.
func (g *Generator) inChunks(step func(again bool) (done bool)) {
	for again := false; !step(again); again = true {
		g.mu.Unlock()
		runtime.Gosched()
		g.mu.Lock()
	}
}
