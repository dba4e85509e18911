package otelaudit

import "sync/atomic"

// counters are what Stats reports beyond the held events, so that
// nothing leaves uncounted: recorded == next-first + evicted + cleared.
// Under the Generator's lock but the atomics, which count what is refused
// or lost before the lock is taken (bad input never reaches it).
type counters struct {
	recorded, evicted, cleared uint64
	// evictedForBytes of the evicted made room under the byte budget;
	// cut and redacted count events the size cap and the policy changed.
	evictedForBytes, cut, redacted uint64
	rejected                       atomic.Uint64
	// What producers lost before an event existed (AddTruncated,
	// AddUntracked).
	truncated, untracked atomic.Uint64
}

// Stats counts what a Generator has done with the events given to it. Every
// event that Record accepted is held (Len), was evicted at the capacity bound
// (Evicted) or was dropped by Clear (Cleared):
//
//	Recorded == uint64(Len) + Evicted + Cleared
//
// and every event it refused is in Rejected. Nothing leaves uncounted.
type Stats struct {
	// Recorded is every event ever accepted; Clear does not reset it.
	Recorded uint64
	// Evicted is how many held events the EvictOldest policy dropped.
	Evicted uint64
	// Rejected is every Record or Append call that returned an error, and
	// every Require that recorded nothing: events refused for bad input,
	// under RejectNew for lack of room, and so on (see ReceiptError).
	Rejected uint64
	// Cleared is how many held events Clear dropped.
	Cleared uint64
	// Len is how many events are held now.
	Len int
	// Capacity is the most events the Generator holds.
	Capacity int
	// LastSeq is the Seq of the newest event ever accepted; 0 when none.
	LastSeq uint64
	// Durable is the Seq of the newest event made durable by the store
	// (see WithStore): LastSeq - Durable events wait for the store writer.
	// Without a store it is where the trail started (0).
	Durable uint64
	// StoreErrors counts failed store writes; each was retried.
	StoreErrors uint64
	// Truncated counts spans that reached the span processor with data
	// already dropped by the SDK's span limits (sdktrace.SpanLimits): the
	// audited spans that lost attributes, span events or links (their
	// events say how many), and the others that lost attributes or span
	// events, which may be what would have made them audited. Reported by
	// the processor (AddTruncated).
	Truncated uint64
	// Untracked counts spans the processor could not remember while open,
	// because its bounded table of open spans was full: their descendants
	// inherit no identity from them. Reported by the processor
	// (AddUntracked).
	Untracked uint64

	// Bytes is what the held events weigh against the byte budget, and
	// MaxBytes the budget (see WithMaxBytes).
	Bytes, MaxBytes int64
	// EvictedForBytes counts the evictions (of those in Evicted) that the
	// byte budget made necessary, not the capacity.
	EvictedForBytes uint64
	// Cut counts the events accepted cut to the event size cap (see
	// WithMaxEventSize); each says what was cut (AttrTruncated).
	Cut uint64
	// Redacted counts the events accepted from which the Policy removed
	// or cut a known secret; each says which (AttrRedacted, among its
	// attributes or its Source's).
	Redacted uint64
}

// AddTruncated counts n spans whose data the SDK's span limits dropped
// (Stats.Truncated). The span processor calls it; so may any other
// producer of events that loses data on the way in. Safe for concurrent
// use, and never blocks.
func (g *Generator) AddTruncated(n uint64) {
	if g != nil {
		g.counts.truncated.Add(n)
	}
}

// AddUntracked counts n spans the span processor could not track
// (Stats.Untracked). Safe for concurrent use, and never blocks.
func (g *Generator) AddUntracked(n uint64) {
	if g != nil {
		g.counts.untracked.Add(n)
	}
}

// Stats returns the Generator's counters, read at one instant.
func (g *Generator) Stats() Stats {
	if g.invalid() {
		return Stats{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return Stats{
		Recorded:    g.counts.recorded,
		Evicted:     g.counts.evicted,
		Rejected:    g.counts.rejected.Load(),
		Cleared:     g.counts.cleared,
		Len:         int(g.held.next - g.held.first),
		Capacity:    int(g.held.ring.capacity),
		LastSeq:     g.held.next - 1,
		Durable:     g.dur.seq,
		StoreErrors: g.dur.failures,
		Truncated:   g.counts.truncated.Load(),
		Untracked:   g.counts.untracked.Load(),

		Bytes:           g.held.bytes,
		MaxBytes:        g.cfg.maxBytes,
		EvictedForBytes: g.counts.evictedForBytes,
		Cut:             g.counts.cut,
		Redacted:        g.counts.redacted,
	}
}
