package otelaudit

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

func sealTestEvent(i int) Event {
	return Event{
		Type: NodeEnd, Outcome: Success, Action: "lookup",
		TraceID: trace.TraceID{0: byte(i), 15: 1},
		Time:    time.Unix(1_700_000_000+int64(i), 0),
	}
}

// wantHashes computes the chain of events from the genesis, apart from
// the Generator: each Hash from its predecessor's and its encoding.
func wantHashes(t *testing.T, events []Event) []Hash {
	t.Helper()
	hs := make([]Hash, len(events))
	prev := GenesisAnchor.Hash
	for i := range events {
		data, err := events[i].MarshalBinary()
		require.NoError(t, err)
		hs[i] = ChainHash(prev, Hash{}, data)
		prev = hs[i]
	}
	return hs
}

// Events appended are sealed later, in Seq order, whoever seals them:
// Head seals them all, and each Hash follows from the one before.
func TestSealingOrder(t *testing.T) {
	g := NewGenerator(WithCatchUpInterval(0))
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	for i := 1; i <= 10; i++ {
		_, err := g.Append(context.Background(), sealTestEvent(i))
		require.NoError(t, err)
	}
	g.mu.Lock()
	assert.Equal(t, uint64(1), g.seal.sealed, "Append seals nothing")
	g.mu.Unlock()

	head := g.Head()
	held := g.Query(Query{Oldest: true}).Events
	require.Len(t, held, 10)
	want := wantHashes(t, held)
	for i, e := range held {
		assert.Equal(t, uint64(i+1), e.Seq)
		assert.Equal(t, want[i], e.Hash, "seq %d", e.Seq)
	}
	assert.Equal(t, uint64(10), head.Seq)
	assert.Equal(t, want[9], head.Hash)
	g.mu.Lock()
	assert.Equal(t, uint64(11), g.seal.sealed)
	assert.Equal(t, want[9], g.seal.head)
	g.mu.Unlock()
}

// Eviction seals what it drops: the anchor left behind is the Hash of the
// last event dropped, and the head goes on from it.
func TestSealHeadAnchorAfterEviction(t *testing.T) {
	g := NewGenerator(WithCapacity(4), WithCatchUpInterval(0))
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	var recorded []Event
	for i := 1; i <= 6; i++ {
		// Appended, not recorded: nothing is sealed but by eviction.
		_, err := g.Append(context.Background(), sealTestEvent(i))
		require.NoError(t, err)
	}
	g.mu.Lock()
	assert.Equal(t, uint64(3), g.held.first)
	assert.Equal(t, uint64(3), g.seal.sealed, "eviction sealed events 1 and 2, and no more")
	anchor := g.seal.anchor
	g.mu.Unlock()

	for i := 7; i <= 10; i++ {
		e, err := g.Record(context.Background(), sealTestEvent(i))
		require.NoError(t, err)
		recorded = append(recorded, e)
	}
	// The events as stored, 1 to 10, rebuilt from what was given: the
	// held ones as queries return them, the evicted ones as encoded.
	held := g.Query(Query{Oldest: true}).Events
	require.Len(t, held, 4)
	all := make([]Event, 0, 10)
	for i := 1; i <= 6; i++ {
		e := sealTestEvent(i)
		e.Seq = uint64(i)
		// The policy keeps what these events carry.
		all = append(all, e)
	}
	all = append(all, held...)
	want := wantHashes(t, all)

	assert.Equal(t, Anchor{Seq: 2, Hash: want[1]}, anchor)
	assert.Equal(t, Anchor{Seq: 6, Hash: want[5]}, g.Anchor())
	assert.Equal(t, want[5], held[0].PrevHash, "the oldest held event follows the anchor")
	assert.Equal(t, uint64(10), g.Head().Seq)
	assert.Equal(t, want[9], g.Head().Hash)
	for i, e := range recorded {
		assert.Equal(t, want[6+i], e.Hash, "Record returns the sealed Hash of seq %d", e.Seq)
		assert.Equal(t, want[5+i], e.PrevHash)
	}
	require.NoError(t, g.Verify())
}

// Verify reads the held bytes: a byte flipped in memory is found, at its
// Seq.
func TestVerifyFindsFlippedByte(t *testing.T) {
	g := NewGenerator(WithCatchUpInterval(0))
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	for i := 1; i <= 5; i++ {
		_, err := g.Append(context.Background(), sealTestEvent(i))
		require.NoError(t, err)
	}
	require.NoError(t, g.Verify())

	g.mu.Lock()
	b := g.held.arena.read(g.slotOf(3).at)
	at := bytes.Index(b, []byte("lookup"))
	require.GreaterOrEqual(t, at, 0)
	b[at] = 'L'
	g.mu.Unlock()

	err := g.Verify()
	require.ErrorIs(t, err, ErrChainBroken)
	var ce *ChainError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, uint64(3), ce.Seq)
	assert.Contains(t, ce.Reason, "do not match")
}
