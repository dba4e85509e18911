package otelaudit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An index list links held events through the ring in Seq order, from
// either end, across the ring's wrap, and pops its head in O(1).
func TestChainPushWalkPop(t *testing.T) {
	r := newRing(16)
	// Within 16 of each other, and wrapping: 20 and 33 are slots 4 and 1.
	seqs := []uint64{20, 21, 25, 30, 33}
	var c chain
	for _, seq := range seqs {
		r.push(&c, seq, r.alloc(seq), linkType)
	}
	assert.Equal(t, chain{head: 20, tail: 33, n: 5}, c)

	var fwd, back []uint64
	for seq := c.head; seq != 0; seq = after(seq, r.at(seq), linkType) {
		fwd = append(fwd, seq)
	}
	for seq := c.tail; seq != 0; seq = before(seq, r.at(seq), linkType) {
		back = append([]uint64{seq}, back...)
	}
	assert.Equal(t, seqs, fwd)
	assert.Equal(t, seqs, back)
	// Another list's links in the same slots are untouched.
	for _, seq := range seqs {
		assert.Zero(t, r.at(seq).next[linkAgent])
		assert.Zero(t, r.at(seq).prev[linkAgent])
	}

	for i, seq := range seqs {
		empty := r.pop(&c, r.at(seq), linkType)
		require.Equal(t, i == len(seqs)-1, empty, "pop of seq %d", seq)
		if empty {
			break
		}
		assert.Equal(t, seqs[i+1], c.head)
		assert.Zero(t, r.at(c.head).prev[linkType], "the new head has nothing before it")
		assert.Equal(t, len(seqs)-1-i, c.n)
	}

	// An emptied chain starts over.
	r.push(&c, 40, r.alloc(40), linkType)
	assert.Equal(t, chain{head: 40, tail: 40, n: 1}, c)
	assert.Zero(t, after(40, r.at(40), linkType))
	assert.Zero(t, before(40, r.at(40), linkType))
}
