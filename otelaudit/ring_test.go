package otelaudit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ring is addressed by Seq modulo its capacity, cut into chunks made
// on first use, the last one cut to the capacity.
func TestRingChunksAndWrap(t *testing.T) {
	const capacity = chunkSize + 100
	r := newRing(capacity)
	require.Len(t, r.chunks, 2)
	assert.Nil(t, r.chunks[0], "no chunk before the first write")

	s := r.alloc(1)
	require.NotNil(t, r.chunks[0])
	assert.Len(t, r.chunks[0], chunkSize)
	assert.Nil(t, r.chunks[1], "only the chunk written to is made")
	assert.Same(t, s, r.at(1))

	// The last slot of the first chunk and the first of the last chunk.
	last := r.alloc(chunkSize - 1)
	first := r.alloc(chunkSize)
	assert.Same(t, &r.chunks[0][chunkSize-1], last)
	assert.Same(t, &r.chunks[1][0], first)
	assert.Len(t, r.chunks[1], 100, "the last chunk is cut to the capacity")
	assert.Len(t, r.hashes[1], 100)
	assert.Len(t, r.meta[1], 100)

	// Seqs a capacity apart share a slot, a hash and a meta; any capacity
	// consecutive Seqs, across the wrap, never do.
	for _, seq := range []uint64{1, chunkSize - 1, chunkSize, capacity - 1} {
		assert.Same(t, r.at(seq), r.at(seq+capacity))
		assert.Same(t, r.hashAt(seq), r.hashAt(seq+capacity))
		assert.Same(t, r.metaAt(seq), r.metaAt(seq+capacity))
	}
	slots := make(map[*slot]uint64, capacity)
	hashes := make(map[*Hash]bool, capacity)
	for seq := uint64(capacity - 50); seq < 2*capacity-50; seq++ {
		p := r.alloc(seq)
		if prev, ok := slots[p]; ok {
			t.Fatalf("seq %d and seq %d share a slot", prev, seq)
		}
		slots[p] = seq
		hashes[r.hashAt(seq)] = true
	}
	assert.Len(t, hashes, capacity)

	// A write through one Seq is seen through the Seq a capacity later.
	*r.hashAt(7) = Hash{1}
	r.metaAt(7).charge = 42
	assert.Equal(t, Hash{1}, *r.hashAt(7 + capacity))
	assert.Equal(t, uint32(42), r.metaAt(7+2*capacity).charge)

	r.reset()
	for c := range r.chunks {
		assert.Nil(t, r.chunks[c])
		assert.Nil(t, r.hashes[c])
		assert.Nil(t, r.meta[c])
	}
	// The ring is usable again after a reset, with fresh slots.
	s = r.alloc(capacity + 7)
	assert.Equal(t, Hash{}, *r.hashAt(7))
	assert.Same(t, s, r.at(7))
}

// A ring smaller than a chunk is one chunk of exactly its capacity.
func TestRingSmallerThanAChunk(t *testing.T) {
	r := newRing(3)
	require.Len(t, r.chunks, 1)
	r.alloc(5)
	assert.Len(t, r.chunks[0], 3)
	assert.Same(t, r.at(2), r.at(5))
	assert.NotSame(t, r.at(5), r.at(6))
}
