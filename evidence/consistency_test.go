package evidence_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/evidence"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// smallTrail writes n events, a milestone checkpoint every `every`, to a
// new signed store; the event at rewrite (when >= 0) says another thing.
func smallTrail(t *testing.T, priv ed25519.PrivateKey, n, every, rewrite int) *store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trail.db")
	st, err := store.Open(path)
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(every, time.Hour))
	require.NoError(t, err)
	for i := range n {
		action := fmt.Sprintf("pay %d.00 EUR", i)
		if i == rewrite {
			action = "pay 0.00 EUR"
		}
		_, err := g.Append(context.Background(), otelaudit.Event{
			Type: otelaudit.ResourceAccess, Time: time.Unix(1_800_000_000+int64(i), 0),
			TraceID: trace.TraceID{byte(i % 7), 1}, SpanID: trace.SpanID{byte(i), 1}, Action: action,
		})
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(context.Background()))
	st, err = store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// Consistency proofs between every pair of 20 checkpoints verify, with
// this package and with the library's own verifier; against a store the
// key holder rebuilt with one event rewritten, every checkpoint kept from
// after the rewrite fails, and those from before it still hold.
func TestConsistencyEveryPair(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	const n, every, rewritten = 1000, 50, 500
	st := smallTrail(t, priv, n, every, -1)
	cps, err := st.Checkpoints()
	require.NoError(t, err)
	require.Len(t, cps, n/every)
	pairs := 0
	for i := range cps {
		for j := i; j < len(cps); j++ {
			c, err := st.ConsistencyBetween(cps[i], cps[j])
			require.NoError(t, err)
			from, to, err := c.Verify(pub)
			require.NoError(t, err, "from %d to %d", cps[i].Size, cps[j].Size)
			assert.Equal(t, cps[i].Size, from.Size)
			assert.Equal(t, cps[j].Size, to.Size)
			hs := make([][]byte, len(c.Proof))
			for k := range c.Proof {
				hs[k] = c.Proof[k][:]
			}
			require.NoError(t, proof.VerifyConsistency(rfc6962.DefaultHasher, cps[i].Size, cps[j].Size, hs, cps[i].Root[:], cps[j].Root[:]))
			pairs++
		}
	}
	// From each kept checkpoint to the store's newest.
	for _, kept := range cps {
		c, err := st.Consistency(kept)
		require.NoError(t, err)
		_, _, err = c.Verify(pub)
		require.NoError(t, err)
	}
	t.Logf("%d pairs of %d checkpoints verified", pairs, len(cps))

	// The key holder rebuilds the store with event 500 (leaf 499) saying
	// another thing: every signature in it is good.
	forged := smallTrail(t, priv, n, every, rewritten-1)
	_, err = forged.Verify(pub, nil)
	require.NoError(t, err, "the rebuilt store verifies on its own")
	for _, kept := range cps {
		c, err := forged.Consistency(kept)
		require.NoError(t, err)
		_, _, err = c.Verify(pub)
		if kept.Size < rewritten {
			assert.NoError(t, err, "kept before the rewrite, size %d", kept.Size)
			continue
		}
		assert.ErrorIs(t, err, evidence.ErrInvalid, "kept after the rewrite, size %d", kept.Size)
		assert.ErrorIs(t, err, otelaudit.ErrBadProof, "size %d", kept.Size)
		// And verify --checkpoint with the kept one fails too.
		_, err = forged.Verify(pub, []otelaudit.Checkpoint{kept})
		assert.ErrorIs(t, err, otelaudit.ErrChainBroken, "size %d", kept.Size)
	}
	// A proof whose hash was changed, or checked with another key, fails.
	c, err := st.ConsistencyBetween(cps[3], cps[17])
	require.NoError(t, err)
	c.Proof[0][0] ^= 1
	_, _, err = c.Verify(pub)
	assert.ErrorIs(t, err, otelaudit.ErrBadProof)
	c.Proof[0][0] ^= 1
	other, _, _ := ed25519.GenerateKey(nil)
	_, _, err = c.Verify(other)
	assert.ErrorIs(t, err, otelaudit.ErrBadSignature)
}
