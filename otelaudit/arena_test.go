package otelaudit

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// put reserves room for b as event seq, copies it in and reports it
// written, as a writer does.
func put(a *arena, seq uint64, b []byte) loc {
	dst, l, c := a.reserve(seq, len(b))
	copy(dst, b)
	c.written.Add(int64(len(b)))
	return l
}

func TestArenaReserveRead(t *testing.T) {
	var a arena
	dst, l1, c := a.reserve(1, 5)
	assert.Equal(t, 5, len(dst))
	assert.Equal(t, 5, cap(dst), "the room ends where the record does")
	copy(dst, "hello")
	c.written.Add(5)
	l2 := put(&a, 2, []byte("world!"))
	assert.Equal(t, loc{chunk: 0, off: 0, n: 5}, l1)
	assert.Equal(t, loc{chunk: 0, off: 5, n: 6}, l2)
	assert.Equal(t, "hello", string(a.read(l1)))
	assert.Equal(t, "world!", string(a.read(l2)))
	assert.Equal(t, 5, cap(a.read(l1)), "a read cannot reach the next record")
}

// A record that does not fit the newest chunk starts a new one; one larger
// than a chunk gets a chunk of its own.
func TestArenaChunkBounds(t *testing.T) {
	var a arena
	l1 := put(&a, 1, make([]byte, arenaChunkSize-10))
	l2 := put(&a, 2, make([]byte, 10))
	l3 := put(&a, 3, []byte("x"))
	assert.Equal(t, loc{chunk: 0, off: 0, n: arenaChunkSize - 10}, l1)
	assert.Equal(t, loc{chunk: 0, off: arenaChunkSize - 10, n: 10}, l2, "exactly full")
	assert.Equal(t, loc{chunk: 1, off: 0, n: 1}, l3)

	big := make([]byte, arenaChunkSize+1)
	big[arenaChunkSize] = 7
	l4 := put(&a, 4, big)
	assert.Equal(t, loc{chunk: 2, off: 0, n: arenaChunkSize + 1}, l4)
	assert.Equal(t, arenaChunkSize+1, cap(a.chunks[2].buf))
	assert.Equal(t, byte(7), a.read(l4)[arenaChunkSize])
	l5 := put(&a, 5, []byte("y"))
	assert.Equal(t, uint64(3), l5.chunk, "nothing is added to an oversized chunk")

	for _, c := range a.chunks {
		assert.LessOrEqual(t, len(c.buf), cap(c.buf))
		assert.Equal(t, int64(len(c.buf)), c.reserved)
		assert.Equal(t, c.reserved, c.written.Load())
	}
}

// Release frees the chunks whose records are all evicted, never the
// newest, keeps chunk numbers stable, and reuses freed chunks.
func TestArenaReleaseReuse(t *testing.T) {
	var a arena
	put(&a, 1, make([]byte, arenaChunkSize))
	first := unsafe.SliceData(a.chunks[0].buf)
	put(&a, 2, make([]byte, arenaChunkSize))
	second := unsafe.SliceData(a.chunks[1].buf)
	l3 := put(&a, 3, []byte("three"))
	require.Len(t, a.chunks, 3)

	a.release(1)
	assert.Len(t, a.chunks, 2)
	assert.Equal(t, uint64(1), a.base)
	assert.Len(t, a.spare, 1)
	assert.Equal(t, "three", string(a.read(l3)), "locs still read after a release")

	a.release(100)
	assert.Len(t, a.chunks, 1, "the newest chunk is never released")
	assert.Equal(t, uint64(2), a.base)
	assert.Equal(t, "three", string(a.read(l3)))

	// The next new chunk is a released one, reused: no allocation.
	l4 := put(&a, 4, make([]byte, arenaChunkSize))
	require.Equal(t, uint64(3), l4.chunk)
	reused := unsafe.SliceData(a.chunks[1].buf)
	assert.True(t, reused == first || reused == second, "a new chunk takes a released one")
	assert.Len(t, a.spare, 1, "one of two spares taken")

	a.reset()
	assert.Empty(t, a.chunks)
	assert.Empty(t, a.spare)
	assert.Equal(t, uint64(4), a.base, "chunk numbers go on after a reset")
	assert.Equal(t, uint64(4), put(&a, 5, []byte("z")).chunk)
}

// Release waits for a writer still copying into a chunk it frees: the
// chunk's room must not be handed out again before the copy is done.
func TestArenaReleaseWaitsForWriter(t *testing.T) {
	var a arena
	_, _, c := a.reserve(1, arenaChunkSize)
	put(&a, 2, []byte("next"))
	done := make(chan struct{})
	go func() {
		a.release(1)
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("release returned while the writer of seq 1 was still copying")
	case <-time.After(50 * time.Millisecond):
	}
	c.written.Add(arenaChunkSize)
	<-done
	assert.Len(t, a.chunks, 1)
}
