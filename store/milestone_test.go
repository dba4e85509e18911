package store_test

import (
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// TestWriteKeepsTheHeadAsMilestone: a commit with no records may keep the
// newest commit's checkpoint as a milestone (Generator.Checkpoint asks for
// one after its events were committed), and only a checkpoint of exactly
// the stored tree and head, signed; a kept milestone is never replaced.
func TestWriteKeepsTheHeadAsMilestone(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.db")
	record(t, path, 0, 5, otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(1<<30, time.Hour))

	st := openStore(t, path, store.WithPublicKey(pub))
	defer st.Close()
	head := st.Head()
	cps, err := st.Checkpoints()
	require.NoError(t, err)
	signed := cps[len(cps)-1]
	require.Equal(t, head.Seq, signed.Seq)
	kept, err := st.CheckpointsAfter(0, otelaudit.MaxSeq)
	require.NoError(t, err)
	require.Empty(t, kept)

	write := func(c otelaudit.Checkpoint) error {
		return st.Write(otelaudit.Batch{Checkpoints: []otelaudit.Checkpoint{c}, Reserved: head.Seq})
	}
	wrongRoot := signed
	wrongRoot.Root[0] ^= 1
	assert.ErrorIs(t, write(wrongRoot.Sign(priv)), store.ErrOutOfOrder, "a root the tree does not have")
	wrongSeq := signed
	wrongSeq.Seq--
	assert.ErrorIs(t, write(wrongSeq.Sign(priv)), store.ErrOutOfOrder, "a last leaf that is not the head")
	smaller := signed
	smaller.Size--
	assert.ErrorIs(t, write(smaller.Sign(priv)), store.ErrOutOfOrder, "a tree before the head")
	larger := signed
	larger.Size++
	assert.ErrorIs(t, write(larger.Sign(priv)), store.ErrOutOfOrder, "a tree past it")
	tooLong := signed
	tooLong.Origin = strings.Repeat("o", otelaudit.MaxOrigin+1)
	assert.ErrorIs(t, write(tooLong), otelaudit.ErrBadOrigin, "an origin the store cannot read back")
	kept, err = st.CheckpointsAfter(0, otelaudit.MaxSeq)
	require.NoError(t, err)
	require.Empty(t, kept, "nothing refused was kept")

	require.NoError(t, write(signed))
	kept, err = st.CheckpointsAfter(0, otelaudit.MaxSeq)
	require.NoError(t, err)
	require.Len(t, kept, 1)
	assert.Equal(t, signed.Root, kept[0].Root)
	assert.True(t, signed.Time.Equal(kept[0].Time))

	later := signed
	later.Time = later.Time.Add(time.Hour)
	require.NoError(t, write(later))
	kept, err = st.CheckpointsAfter(0, otelaudit.MaxSeq)
	require.NoError(t, err)
	require.Len(t, kept, 1)
	assert.True(t, signed.Time.Equal(kept[0].Time), "a kept milestone is never replaced")

	_, err = st.Verify(pub, nil)
	assert.NoError(t, err)
	cps, err = st.Checkpoints()
	require.NoError(t, err)
	assert.Len(t, cps, 1, "the milestone is the signed head: listed once")
}
