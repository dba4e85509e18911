package otelaudit

import (
	"fmt"
	"runtime"

	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// Holding an event: the one step of Record, Append and Require under the
// lock. hold numbers the event and hands out its slot in the ring and its
// room in the arena, evicting the oldest events when the Generator is full
// (dropOldest seals and queues for unlinking what it drops), and the
// writer fills them in after letting go of the lock. Everything else an
// event needs (indexing, sealing, the store) happens later, off the hot
// path (see follow.go, index.go, seal.go, durable.go).

// held is what the Generator holds: the events numbered [first, next),
// each in its slot of the ring (ring.go), its encoding in the arena
// (arena.go), its Source in the source table (sourcetable.go).
// Invariants, under the Generator's lock:
//   - 0 < first <= next and next-first <= ring.capacity: Seq 0 is never
//     assigned, so 0 can mean "no event" in index links;
//   - the slot of every held Seq s is ring.at(s), its meta ring.metaAt(s);
//     its at, src and encoding are its writer's until pub says s (see
//     slotOf), and never change after;
//   - bytes is what the held events and the Sources they refer to count
//     against the byte budget (see budget.go): the sum of their
//     slotMeta.charge and of the sources' costs.
type held struct {
	first, next uint64
	bytes       int64
	ring        ring
	arena       arena
	sources     sourceTable
}

// hold numbers the encoded event (whose decoded form is e, and whose Seq
// it sets), takes a slot and room in the arena for it under the lock, then
// fills them and publishes the slot after releasing it. in is the event's
// hash input: wire.PrefixLen bytes of room, then the encoding. With w (a
// Require), it refuses the event when the store cannot take it now, and
// queues w for the event's commit.
func (g *Generator) hold(in []byte, e *Event, h *chainHasher, w *receiptWait) error {
	rec := in[wire.PrefixLen:]
	need := charge(rec, e)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		g.counts.rejected.Add(1)
		return ErrShutdown
	}
	if w != nil {
		if err := g.refuseRequire(); err != nil {
			g.mu.Unlock()
			g.counts.rejected.Add(1)
			return err
		}
	}
	for g.full(need + g.held.sources.cost(e.Source)) {
		if g.cfg.policy == RejectNew {
			held, bytes := g.held.next-g.held.first, g.held.bytes
			g.mu.Unlock()
			g.counts.rejected.Add(1)
			return fmt.Errorf("%w: holding %d events, %d bytes (capacity %d, budget %d)", ErrFull, held, bytes, g.held.ring.capacity, g.cfg.maxBytes)
		}
		// With a store, only durable events may go: the held ones are the
		// writer's queue.
		if g.dur.w != nil && g.held.first > g.dur.seq {
			if err := g.waitForRoom(need+g.held.sources.cost(e.Source), w); err != nil {
				g.mu.Unlock()
				g.counts.rejected.Add(1)
				return err
			}
		}
		if g.closed {
			// Shutdown came while this waited for room.
			g.mu.Unlock()
			g.counts.rejected.Add(1)
			return ErrShutdown
		}
		if g.full(need + g.held.sources.cost(e.Source)) {
			byBytes := g.held.next-g.held.first < g.held.ring.capacity
			g.evictOldest()
			if byBytes {
				g.counts.evictedForBytes++
			}
		}
	}
	if g.held.next > MaxSeq {
		g.mu.Unlock()
		g.counts.rejected.Add(1)
		return fmt.Errorf("%w: every Seq up to MaxSeq is used", ErrFull)
	}
	seq := g.held.next
	g.held.next++
	g.counts.recorded++
	if w != nil {
		w.seq = seq
		g.req.waiting = append(g.req.waiting, w)
		g.req.queued.Add(1)
	}
	s := g.held.ring.alloc(seq)
	dst, at, ck := g.held.arena.reserve(seq, len(rec))
	src, srcDigest, srcCost := g.held.sources.index(e.Source)
	g.held.bytes += need + srcCost
	*g.held.ring.metaAt(seq) = slotMeta{src: src, charge: uint32(need)}
	if h.cut {
		g.counts.cut++
	}
	if h.redacted {
		g.counts.redacted++
	}
	content := g.held.ring.hashAt(seq)
	// The slot's previous occupant, if any, is done with: it left the ring
	// through dropOldest, which seals what it drops, and sealing waited for
	// its writer to publish (slotOf). A full Clear starts a new ring.
	g.mu.Unlock()

	// The lock only handed out the number, the slot and the room in the
	// arena; the slot and the bytes are written now, outside it, so that
	// the cache misses of writing them never hold up other writers. Readers
	// wait for pub (see slotOf), and the room is not reused before its
	// chunk is fully written (see arena.release).
	e.Seq = seq
	wire.SetSeq(rec, seq)
	// The costly part of the event's Hash, here, in parallel with other
	// writers; sealing links it into the chain later (see seal.go).
	wire.PutPrefix(in, srcDigest, len(rec))
	*content = h.Mid(in)
	s.at, s.src = at, src
	copy(dst, rec)
	ck.written.Add(int64(len(rec)))
	s.pub.Store(seq)
	// Indexing and sealing wait for the follower, the next query or the
	// store writer (see follow.go, index.go, seal.go): the hot path only
	// appends, and wakes the writer or the follower only if it is not
	// running.
	if g.dur.w != nil && g.dur.w.idle.Load() {
		g.kick()
	}
	if !g.fol.running.Load() {
		g.wakeFollower()
	}
	return nil
}

// slotOf returns the slot of held event seq once its writer has finished
// (a few hundred nanoseconds at most: the writer needs no lock to finish).
// Called with g.mu held.
func (g *Generator) slotOf(seq uint64) *slot {
	s := g.held.ring.at(seq)
	for s.pub.Load() != seq {
		runtime.Gosched()
	}
	return s
}

// evictOldest drops the oldest held event, sealing it first if it is not,
// and
// unlinking it from the indexes if it was indexed; the anchor becomes its
// Seq and Hash. Called with g.mu held.
func (g *Generator) evictOldest() {
	g.dropOldest()
	g.counts.evicted++
}

// dropOldest drops the oldest held event, sealing it first if it is not,
// and unlinking it from the indexes if it was indexed; the anchor becomes
// its Seq and Hash. Called with g.mu held.
func (g *Generator) dropOldest() {
	if g.held.first >= g.seal.sealed {
		g.sealTo(min(g.held.next, g.held.first+evictSealAhead))
	}
	g.seal.anchor = Anchor{Seq: g.held.first, Hash: *g.held.ring.hashAt(g.held.first)}
	if g.held.first < g.idx.indexed {
		// Queued for the follower or the next query to unlink (see
		// unlink.go); a full queue is worked off here, one per eviction.
		if g.idx.unlinks.full() {
			p := g.idx.unlinks.pop()
			g.unlinkOldest(g.held.ring.at(p.seq), g.held.arena.read(p.at))
		}
		g.idx.unlinks.push(g.held.first, g.slotOf(g.held.first).at)
	}
	m := g.held.ring.metaAt(g.held.first)
	g.held.bytes -= int64(m.charge) + g.held.sources.release(m.src)
	g.held.first++
	g.idx.indexed = max(g.idx.indexed, g.held.first)
	g.releaseArena()
}

// evictSealAhead is how many events an eviction seals when it finds the
// oldest unsealed: one. Sealing is one SHA-256 block per event (the costly
// part was done by each writer, see hash.go), and one at a time keeps the lock
// hold short enough that the other writers spin for it instead of parking;
// at 64 per eviction the span processor costs about 1.5x as much on two
// cores.
const evictSealAhead = 1
