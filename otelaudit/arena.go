package otelaudit

// arena holds the encoded events. It is a FIFO of byte chunks: records are
// appended to the newest chunk, and a chunk is released once the last record
// written to it is evicted. Events leave in Seq order, so that is exactly
// when none of its records is held any more.
//
// Chunks are plain []byte: the garbage collector never scans them, however
// many events are held. That, more than anything, is what keeps the span
// processor's cost flat as the trail grows.
type arena struct {
	chunks []arenaChunk // oldest first; chunks[i] has number base+i
	base   uint64
	spare  [][]byte // released chunks kept for reuse
}

type arenaChunk struct {
	buf  []byte
	last uint64 // Seq of the newest record in buf
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
// newest chunk and returns it, with where it is. The caller copies the bytes
// in, after the Generator's lock is released: the room is the caller's
// alone, and a chunk's backing array never moves.
func (a *arena) reserve(seq uint64, n int) ([]byte, loc) {
	var c *arenaChunk
	if len(a.chunks) > 0 {
		c = &a.chunks[len(a.chunks)-1]
		if cap(c.buf)-len(c.buf) < n {
			c = nil
		}
	}
	if c == nil {
		a.chunks = append(a.chunks, arenaChunk{buf: a.newBuf(n)})
		c = &a.chunks[len(a.chunks)-1]
	}
	off := len(c.buf)
	c.buf = c.buf[:off+n]
	c.last = seq
	l := loc{chunk: a.base + uint64(len(a.chunks)-1), off: uint32(off), n: uint32(n)}
	return c.buf[off : off+n : off+n], l
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

// read returns the bytes of the record at l. They stay valid only until the
// record's chunk is released: callers copy (or convert to string) before
// giving up the lock.
func (a *arena) read(l loc) []byte {
	c := &a.chunks[l.chunk-a.base]
	return c.buf[l.off : l.off+l.n : l.off+l.n]
}

// release frees the chunks whose newest record is at or before seq, the
// event just evicted. Every record in them was evicted, in Seq order, and
// eviction waits for a record to be written: no writer is still copying
// into a released chunk.
func (a *arena) release(seq uint64) {
	i := 0
	for i < len(a.chunks)-1 && a.chunks[i].last <= seq {
		a.recycle(a.chunks[i].buf)
		a.chunks[i] = arenaChunk{}
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

// reset releases everything.
func (a *arena) reset() {
	a.base += uint64(len(a.chunks))
	a.chunks = nil
	a.spare = nil
}
