package otelaudit

import (
	"runtime"
	"sync/atomic"
)

// arena holds the encoded events. It is a FIFO of byte chunks: room for a
// record is reserved at the end of the newest chunk, and a chunk is released
// once the last record reserved in it is evicted and every record in it has
// been written. Events leave in Seq order, so by then none of its records is
// held any more.
//
// Chunks are plain []byte: the garbage collector never scans them, however
// many events are held. That, more than anything, is what keeps the span
// processor's cost flat as the trail grows.
//
// reserve and release run under the Generator's lock; the bytes are copied
// in by each writer after it has released the lock, which it reports by
// adding to written.
type arena struct {
	chunks []*arenaChunk // oldest first; chunks[i] has number base+i
	base   uint64
	spare  [][]byte // released chunks kept for reuse
}

type arenaChunk struct {
	buf      []byte       // len(buf) bytes are reserved
	last     uint64       // Seq of the newest record reserved in buf
	reserved int64        // == len(buf), kept beside written for clarity
	written  atomic.Int64 // bytes whose writers have finished copying
}

const (
	// arenaChunkSize is the size of a chunk: big enough that chunk
	// bookkeeping is rare, small enough that a released chunk frees memory
	// soon after its events are evicted.
	arenaChunkSize = 256 << 10
	// arenaSpares is how many released chunks are kept to be reused,
	// sparing the allocator and the collector in steady state.
	arenaSpares = 4
)

// loc is where a record lives: chunk number, offset and length. It holds no
// pointer, so neither do the slots that keep it.
type loc struct {
	chunk uint64
	off   uint32
	n     uint32
}

// reserve makes room for the n-byte encoding of event seq at the end of the
// newest chunk. It returns the room, where it is, and its chunk, whose
// written counter the caller must add n to once it has copied the bytes in.
// The room is the caller's alone, and a chunk's backing array never moves.
func (a *arena) reserve(seq uint64, n int) ([]byte, loc, *arenaChunk) {
	var c *arenaChunk
	if k := len(a.chunks); k > 0 && cap(a.chunks[k-1].buf)-len(a.chunks[k-1].buf) >= n {
		c = a.chunks[k-1]
	} else {
		c = &arenaChunk{buf: a.newBuf(n)}
		a.chunks = append(a.chunks, c)
	}
	off := len(c.buf)
	c.buf = c.buf[:off+n]
	c.last = seq
	c.reserved += int64(n)
	l := loc{chunk: a.base + uint64(len(a.chunks)-1), off: uint32(off), n: uint32(n)}
	return c.buf[off : off+n : off+n], l, c
}

func (a *arena) newBuf(need int) []byte {
	if need > arenaChunkSize {
		// A record larger than a chunk gets a chunk of its own.
		return make([]byte, 0, need)
	}
	if n := len(a.spare); n > 0 {
		b := a.spare[n-1]
		a.spare = a.spare[:n-1]
		return b[:0]
	}
	return make([]byte, 0, arenaChunkSize)
}

// read returns the bytes of the record at l, which must be written (see
// Generator.slotOf). They stay valid only until the record's chunk is
// released: callers copy them, or convert them to a string, before giving up
// the lock.
func (a *arena) read(l loc) []byte {
	c := a.chunks[l.chunk-a.base]
	return c.buf[l.off : l.off+l.n : l.off+l.n]
}

// release frees the chunks whose newest record is at or before seq, the
// event being evicted. A writer may still be copying into such a chunk
// (only when the ring is smaller than a chunk's worth of events): release
// waits for it, since reusing the chunk would hand its room to another.
func (a *arena) release(seq uint64) {
	i := 0
	for i < len(a.chunks)-1 && a.chunks[i].last <= seq {
		c := a.chunks[i]
		for c.written.Load() != c.reserved {
			runtime.Gosched()
		}
		a.recycle(c.buf)
		a.chunks[i] = nil
		i++
	}
	if i > 0 {
		a.chunks = a.chunks[i:]
		a.base += uint64(i)
	}
}

func (a *arena) recycle(b []byte) {
	if cap(b) == arenaChunkSize && len(a.spare) < arenaSpares {
		a.spare = append(a.spare, b)
	}
}

// reset releases everything. Writers still copying into the dropped chunks
// finish harmlessly: nothing reads or reuses those chunks again.
func (a *arena) reset() {
	a.base += uint64(len(a.chunks))
	a.chunks = nil
	a.spare = nil
}
