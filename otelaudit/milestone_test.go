package otelaudit_test

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// milestones returns the checkpoints the store at path keeps as
// milestones (its checkpoints bucket, without the signed head), by Seq.
func milestones(t *testing.T, st *store.Store) map[uint64]otelaudit.Checkpoint {
	t.Helper()
	cps, err := st.CheckpointsAfter(0, otelaudit.MaxSeq)
	require.NoError(t, err)
	out := map[uint64]otelaudit.Checkpoint{}
	for _, c := range cps {
		out[c.Seq] = c
	}
	return out
}

// signedStoreGenerator opens the store at path and a Generator signing
// with key on it, with milestones only on demand.
func signedStoreGenerator(t *testing.T, path string, key ed25519.PrivateKey) (*otelaudit.Generator, *store.Store) {
	t.Helper()
	st, err := store.Open(path, store.WithPublicKey(key.Public().(ed25519.PublicKey)))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(key),
		otelaudit.WithCheckpointInterval(1<<30, time.Hour))
	require.NoError(t, err)
	return g, st
}

// TestCheckpointMilestoneOfCommittedEvents: Checkpoint asks for a
// milestone; when every event is already committed and none follows, the
// writer must still keep it, and ForceFlush and Shutdown must wait for it,
// as they wait for every event accepted before them.
func TestCheckpointMilestoneOfCommittedEvents(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	g, st := signedStoreGenerator(t, path, key)
	for i := range 3 {
		_, err := g.Record(ctx, intent(i))
		require.NoError(t, err)
	}
	require.NoError(t, g.ForceFlush(ctx))
	require.Empty(t, milestones(t, st), "no milestone yet: the interval is an hour")

	// Every event is committed: the milestone cannot wait for a commit
	// of new events.
	c := g.Checkpoint()
	require.Equal(t, uint64(3), c.Seq)
	require.Equal(t, uint64(3), c.Size)
	require.NoError(t, c.VerifySignature(pub))
	require.NoError(t, g.ForceFlush(ctx))
	kept, ok := milestones(t, st)[3]
	require.True(t, ok, "ForceFlush returned before the milestone asked for was kept")
	assert.Equal(t, c.Root, kept.Root)
	assert.Equal(t, c.Signature, kept.Signature)

	// Asking again for the same head changes nothing stored.
	g.Checkpoint()
	require.NoError(t, g.ForceFlush(ctx))
	again := milestones(t, st)
	assert.Len(t, again, 1)
	assert.True(t, again[3].Time.Equal(kept.Time), "a kept milestone is never rewritten")

	// Shutdown waits for a milestone asked for before it.
	_, err = g.Record(ctx, intent(4))
	require.NoError(t, err)
	require.NoError(t, g.ForceFlush(ctx))
	g.Checkpoint()
	require.NoError(t, g.Shutdown(ctx))
	st, err = store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	_, ok = milestones(t, st)[4]
	assert.True(t, ok, "Shutdown ended before the milestone asked for was kept")
	require.NoError(t, st.Close())
}

// TestCheckpointOfAResumedStore: a Generator that continues a signed store
// and has committed nothing yet has the store's signed head as its
// newest checkpoint, and can keep it as a milestone.
func TestCheckpointOfAResumedStore(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	g, _ := signedStoreGenerator(t, path, key)
	for i := range 5 {
		_, err := g.Record(ctx, intent(i))
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(ctx))

	g, st := signedStoreGenerator(t, path, key)
	defer func() { assert.NoError(t, g.Shutdown(ctx)) }()
	c := g.Checkpoint()
	require.Equal(t, uint64(5), c.Seq, "the store's signed head")
	require.Equal(t, uint64(5), c.Size)
	require.NoError(t, c.VerifySignature(pub))
	require.NoError(t, g.ForceFlush(ctx))
	kept, ok := milestones(t, st)[5]
	require.True(t, ok, "the resumed head was not kept as a milestone")
	assert.Equal(t, c.Root, kept.Root)
	assert.Len(t, g.Checkpoints(), 1)
	_, err = st.Verify(pub, nil)
	assert.NoError(t, err)
}
