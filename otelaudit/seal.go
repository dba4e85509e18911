package otelaudit

import (
	"time"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// Sealing chains held events: it gives each its Hash (see ChainHash), in
// Seq order. Like indexing (index.go) it is off the hot path: Append only
// stores an event, and the event is sealed, once, by whatever needs its
// Hash first: the follower (follow.go), a query, Verify, Head, the store
// writer, or at the latest its own eviction, since the anchor left behind
// is the Hash of the last event dropped.

// sealState is the hash chain of the held events. Invariants, under the
// Generator's lock:
//   - first <= sealed <= next: the held events in [first, sealed) are
//     sealed, those in [sealed, next) are not; no event leaves unsealed;
//   - head is the Hash of event sealed-1, or anchor.Hash when sealed-1 is
//     the anchor (no held event is sealed yet);
//   - anchor is the Seq and Hash of the last event dropped (evicted or
//     cleared), always first-1, or where the trail started:
//     GenesisAnchor, or the head of the store the Generator resumed;
//   - memTree, kept by a signing Generator without a store, is the Merkle
//     tree of every event sealed (see tree.go): its last leaf is head.
type sealState struct {
	sealed  uint64
	hasher  wire.Hasher
	head    Hash
	anchor  Anchor
	memTree *tlog.Tree
}

// sealChunk is how many events a catch-up seals per hold of the lock
// (about the same time as an indexing chunk).
const sealChunk = 1024

// sealTo seals the held events up to, not including, target, signing a
// checkpoint at every Seq that is due one (see WithCheckpointInterval).
// Lock only.
func (g *Generator) sealTo(target uint64) {
	// Without a store, a signing Generator grows its tree here, in Seq
	// order; with one, the writer does, outside the lock (see tree.go).
	signing := g.seal.memTree != nil
	for seq := g.seal.sealed; seq < target; seq++ {
		// The writer left SHA-256's state before PrevHash where the Hash
		// goes (see Generator.hold): sealing is one 64-byte block per
		// event, and never reads the event itself.
		s := g.slotOf(seq)
		hp := g.held.ring.hashAt(seq)
		h := Hash(g.seal.hasher.Link(g.seal.head, *hp, int(s.at.n)))
		*hp = h
		g.seal.head = h
		if signing {
			g.seal.memTree.Append(h, nil)
		}
		if signing && seq-g.cps.lastSeq >= uint64(g.cfg.cpEvents) {
			g.seal.sealed = seq + 1
			g.addCheckpoint()
		}
	}
	if target > g.seal.sealed {
		g.seal.sealed = target
	}
	if signing {
		g.maybeCheckpoint()
	}
}

// lockCurrent takes g.mu with every event recorded before the call sealed
// and indexed, catching up a chunk at a time and letting writers in between
// chunks.
func (g *Generator) lockCurrent() {
	g.mu.Lock()
	target := g.held.next
	// Eviction or Clear between chunks may move sealed and indexed past
	// what the chunks did; current takes it from there.
	g.inChunks(func(bool) bool {
		if !g.current(target) {
			g.catchUpChunk(target, indexChunk)
		}
		return g.current(target)
	})
}

// current reports whether every event before target is sealed and
// indexed, and the indexes hold no evicted event. Lock only.
func (g *Generator) current(target uint64) bool {
	return g.idx.indexed >= target && g.seal.sealed >= target && g.idx.unlinks.n == 0
}

// catchUpChunk seals and indexes up to n events of those before target
// not yet sealed or indexed. Lock only.
func (g *Generator) catchUpChunk(target, n uint64) {
	g.sealTo(min(target, g.seal.sealed+n))
	if g.idx.unlinks.n > 0 {
		// Nothing is linked while evicted events are still in the chains
		// (see unlink.go).
		g.unlinkPending(min(g.idx.unlinks.n, int(n)))
		if g.idx.unlinks.n > 0 {
			return
		}
	}
	end := min(target, g.idx.indexed+n)
	for seq := g.idx.indexed; seq < end; seq++ {
		g.link(seq)
	}
	g.idx.indexed = max(g.idx.indexed, end)
}

// lockSealed takes g.mu with every event recorded before the call sealed.
func (g *Generator) lockSealed() {
	g.mu.Lock()
	g.sealUpTo(g.held.next)
}

// sealUpTo seals the held events before target, with g.mu held on entry
// and on return, a chunk per hold of the lock: writers get in between
// chunks. Eviction or Clear meanwhile only move sealed further.
func (g *Generator) sealUpTo(target uint64) {
	if g.seal.sealed >= target {
		return
	}
	g.inChunks(func(bool) bool {
		if g.seal.sealed < target {
			g.sealTo(min(target, g.seal.sealed+sealChunk))
		}
		return g.seal.sealed >= target
	})
}

// hashOf returns the Hash of event seq if it is sealed and held, or is the
// anchor. Lock only.
func (g *Generator) hashOf(seq uint64) (Hash, bool) {
	switch {
	case seq == g.seal.anchor.Seq:
		return g.seal.anchor.Hash, true
	case seq >= g.held.first && seq < g.seal.sealed:
		return *g.held.ring.hashAt(seq), true
	}
	return Hash{}, false
}

// Head returns the chain head: the Seq and Hash of the newest event, sealing
// what is not sealed yet, at the time of the call. It is unsigned; see
// Checkpoint for a signed one. With no events held it is the anchor.
func (g *Generator) Head() Checkpoint {
	if g.invalid() {
		return Checkpoint{}
	}
	g.lockSealed()
	defer g.mu.Unlock()
	return Checkpoint{Seq: g.seal.sealed - 1, Hash: g.seal.head, Time: time.Now()}
}

// Anchor returns where verification of the held events starts: the Seq
// and Hash of the last event dropped, or the trail's start.
func (g *Generator) Anchor() Anchor {
	if g.invalid() {
		return Anchor{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seal.anchor
}

// sealOne seals the events up to seq, if they are not yet, and returns the
// PrevHash and Hash of seq; zero if seq is no longer held.
func (g *Generator) sealOne(seq uint64) (prev, h Hash) {
	g.mu.Lock()
	defer g.mu.Unlock()
	// An event no longer held has sealed >= first > seq: nothing to do.
	g.sealUpTo(seq + 1)
	prev, _ = g.hashOf(seq - 1)
	h, _ = g.hashOf(seq)
	return prev, h
}
