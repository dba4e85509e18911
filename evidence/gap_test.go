package evidence_test

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// Leaves are not Seqs: a trail written without a key, adopted by a run
// with one (a HeadAdopted record), cut by a crash (a SeqGap record over
// the Seqs the dead run reserved) and continued, holds one leaf per
// record, whatever the Seqs. Bundles of a trace that spans all of it, and
// receipts given after the gap, prove every event at its leaf, and the
// store verifies.
func TestProofsAcrossAdoptionAndCrashGap(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	path := filepath.Join(t.TempDir(), "gap.db")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := trace.TraceID{0x9a, 1}
	ev := func(i int) otelaudit.Event {
		return otelaudit.Event{Type: otelaudit.ResourceAccess, TraceID: id, SpanID: trace.SpanID{byte(i + 1)}, Action: "pay"}
	}

	// Run 1: no key, 3 events.
	st, err := store.Open(path)
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithCapacity(16), otelaudit.WithStoreWait(10*time.Second))
	require.NoError(t, err)
	for i := range 3 {
		_, err := g.Record(ctx, ev(i))
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(ctx))

	// Run 2: adopts the unsigned head with the key, records 3, and dies:
	// its store is closed under it, its reservation left in place.
	st, err = store.Open(path, store.WithAdoptHead())
	require.NoError(t, err)
	g, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCapacity(16))
	require.NoError(t, err)
	for i := 3; i < 6; i++ {
		_, err := g.Record(ctx, ev(i))
		require.NoError(t, err)
	}
	require.NoError(t, g.ForceFlush(ctx))
	require.NoError(t, st.Close())
	short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	_ = g.Shutdown(short)
	stop()

	// Run 3: records the gap, then 3 more, one with a receipt.
	st, err = store.Open(path, store.WithPublicKey(pub))
	require.NoError(t, err)
	g, err = otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCapacity(16))
	require.NoError(t, err)
	for i := 6; i < 8; i++ {
		_, err := g.Record(ctx, ev(i))
		require.NoError(t, err)
	}
	r, err := g.Require(ctx, ev(8))
	require.NoError(t, err)
	require.NoError(t, r.Verify(pub))
	require.NoError(t, g.Shutdown(ctx))

	st, err = store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Verify(pub, nil)
	require.NoError(t, err)
	all, err := st.Events(store.Query{})
	require.NoError(t, err)
	var types []otelaudit.EventType
	for _, e := range all {
		types = append(types, e.Type)
	}
	require.Equal(t, []otelaudit.EventType{
		otelaudit.ResourceAccess, otelaudit.ResourceAccess, otelaudit.ResourceAccess, otelaudit.HeadAdopted,
		otelaudit.ResourceAccess, otelaudit.ResourceAccess, otelaudit.ResourceAccess, otelaudit.SeqGap,
		otelaudit.ResourceAccess, otelaudit.ResourceAccess, otelaudit.ResourceAccess,
	}, types)
	gap, ok := all[7].Gap()
	require.True(t, ok)
	require.Equal(t, uint64(7+16), gap.Last, "the dead run reserved its capacity past its head")
	// Leaf 8 is Seq 24: the receipt's Index is the leaf, not the Seq.
	assert.Equal(t, uint64(10), r.Index)
	assert.Equal(t, all[10].Seq, r.Seq)
	assert.Greater(t, r.Seq, r.Index+10)

	b, err := st.Evidence(id)
	require.NoError(t, err)
	res, err := b.Verify(pub)
	require.NoError(t, err)
	require.Len(t, res.Events, 9)
	wantLeaves := []uint64{0, 1, 2, 4, 5, 6, 8, 9, 10}
	for i, e := range b.Events {
		assert.Equal(t, wantLeaves[i], e.LeafIndex, "event %d", i)
	}
	assert.Equal(t, uint64(11), res.Checkpoint.Size)
	assert.Equal(t, all[10].Seq, res.Events[8].Seq)

	// The receipt's checkpoint is consistent with the newest.
	c, err := st.Consistency(r.Checkpoint)
	require.NoError(t, err)
	_, _, err = c.Verify(pub)
	require.NoError(t, err)
}
