package otelaudit

import (
	"sync/atomic"
	"unsafe"
)

// The slots of held events form a ring addressed by Seq. Because the held
// events always have consecutive sequence numbers [first, next), the slot of
// Seq s is simply s % capacity: no two held events share a slot, and the
// oldest event is always the one at first % capacity.
//
// The ring is cut into chunks allocated on first write, so a Generator with
// the default capacity costs nothing until events arrive, and growing never
// copies what is held (no latency spike on the Record path). A slot holds no
// pointer: the event itself is encoded in the arena, and the ring is memory
// the garbage collector never scans.

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

// slot is one held event: where its encoding lives, its Source, what it
// counts against the byte budget, and its place in each secondary index.
// Each index is a doubly linked list through the ring in Seq order, so it
// can be walked from either end: next[i] is how far ahead the next event
// with the same key is (its Seq minus this one's), prev[i] how far back the
// previous one is, 0 for none. Held events are within capacity (at most
// 2^28) of each other, so a distance fits in 32 bits where a Seq would take
// 64, and the slot stays one cache line.
type slot struct {
	at   loc
	src  uint32
	next [numLinks]uint32
	prev [numLinks]uint32
	// pub is the Seq whose writer has finished writing at, src and the
	// bytes: the slot may be read for that Seq once pub says so. The
	// writer sets them outside the Generator's lock, before pub; the
	// links are set under the lock, when indexing, after pub.
	pub atomic.Uint64
}

// slotMeta is what eviction needs of an event: its Source and what it
// counts against the byte budget (see budget.go). Apart from the slots, and
// written under the lock when the event's room is handed out, so that
// evicting the oldest event never waits for its writer nor reads its slot,
// a cache line away: eviction reads these in Seq order, eight to a line.
type slotMeta struct {
	src    uint32
	charge uint32
}

// A slot is exactly one cache line; the build fails if a change breaks it.
var _ [64 - unsafe.Sizeof(slot{})]struct{}
var _ [unsafe.Sizeof(slot{}) - 64]struct{}

type ring struct {
	capacity uint64
	chunks   [][]slot
	// hashes[c][i] is the chain Hash of the event in chunks[c][i], once it
	// is sealed (see seal.go). Apart from the slots, because a slot is one
	// cache line already and sealing, unlike writing, happens in Seq order
	// under the lock: the hashes of consecutive events are neighbours.
	hashes [][]Hash
	// meta[c][i] is the slotMeta of the event in chunks[c][i].
	meta [][]slotMeta
}

func newRing(capacity int) ring {
	return ring{
		capacity: uint64(capacity),
		chunks:   make([][]slot, (capacity+chunkSize-1)/chunkSize),
		hashes:   make([][]Hash, (capacity+chunkSize-1)/chunkSize),
		meta:     make([][]slotMeta, (capacity+chunkSize-1)/chunkSize),
	}
}

// at returns the slot of seq, which must be held (its chunk exists). Its
// fields are valid once pub == seq: see Generator.slotOf.
func (r *ring) at(seq uint64) *slot {
	p := seq % r.capacity
	return &r.chunks[p>>chunkBits][p&chunkMask]
}

// hashAt returns where the chain Hash of held event seq is kept. Lock only.
func (r *ring) hashAt(seq uint64) *Hash {
	p := seq % r.capacity
	return &r.hashes[p>>chunkBits][p&chunkMask]
}

// metaAt returns where the slotMeta of held event seq is kept. Lock only.
func (r *ring) metaAt(seq uint64) *slotMeta {
	p := seq % r.capacity
	return &r.meta[p>>chunkBits][p&chunkMask]
}

// alloc returns the slot seq is about to be written to, allocating its chunk
// on first use; it does not touch the slot. Lock only.
func (r *ring) alloc(seq uint64) *slot {
	p := seq % r.capacity
	c := r.chunks[p>>chunkBits]
	if c == nil {
		// The last chunk is cut to the capacity, so small generators stay small.
		c = make([]slot, min(chunkSize, r.capacity-(p&^chunkMask)))
		r.chunks[p>>chunkBits] = c
		r.hashes[p>>chunkBits] = make([]Hash, len(c))
		r.meta[p>>chunkBits] = make([]slotMeta, len(c))
	}
	return &c[p&chunkMask]
}

// reset drops every chunk so the memory of cleared events can be collected.
func (r *ring) reset() {
	clear(r.chunks)
	clear(r.hashes)
	clear(r.meta)
}
