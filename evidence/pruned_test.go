package evidence_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// What the README says a pruned log still proves: every event it holds,
// in a bundle against its newest checkpoint; consistency to it from every
// kept checkpoint whose tree ends no earlier than the first tile left; and
// from older ones either a proof that verifies or ErrNoCheckpoint, never
// a wrong proof.
func TestPrunedLogProves(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	path := filepath.Join(t.TempDir(), "pruned.db")
	const n, keep, every = 3000, 1000, 100
	st, err := store.Open(path, store.WithRetention(0, keep))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(every, time.Hour))
	require.NoError(t, err)
	ctx := context.Background()
	for i := range n {
		_, err := g.Append(ctx, otelaudit.Event{
			Type: otelaudit.ResourceAccess, TraceID: trace.TraceID{byte(i % 7), 2}, SpanID: trace.SpanID{byte(i), 2},
		})
		require.NoError(t, err)
		if i%500 == 499 {
			require.NoError(t, g.ForceFlush(ctx)) // several commits, each pruning
		}
	}
	// Kept elsewhere, as a witness or otelaudit checkpoints --json keeps
	// them: the store drops those of the events it removes.
	kept := g.Checkpoints()
	require.Len(t, kept, n/every)
	require.NoError(t, g.Shutdown(ctx))
	st, err = store.Open(path, store.WithRetention(0, keep))
	require.NoError(t, err)
	_, err = st.Prune()
	require.NoError(t, err)
	require.NoError(t, st.Close())

	st, err = store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Verify(pub, nil)
	require.NoError(t, err)
	left, err := st.Events(store.Query{})
	require.NoError(t, err)
	require.Len(t, left, keep)
	firstTile := uint64(n-keep) / 256 * 256

	for tr := range 7 {
		b, err := st.Evidence(trace.TraceID{byte(tr), 2})
		require.NoError(t, err)
		res, err := b.Verify(pub)
		require.NoError(t, err)
		assert.Greater(t, res.Events[0].Seq, uint64(n-keep), "only events still held")
	}
	proved, refused := 0, 0
	for _, c := range kept {
		cons, err := st.Consistency(c)
		if c.Size >= firstTile {
			require.NoError(t, err, "from the tree of %d", c.Size)
		}
		if errors.Is(err, store.ErrNoCheckpoint) {
			refused++
			continue
		}
		require.NoError(t, err)
		_, _, err = cons.Verify(pub)
		require.NoError(t, err, "from the tree of %d", c.Size)
		proved++
	}
	t.Logf("first tile left starts at leaf %d; consistency from %d kept checkpoints proved, %d refused", firstTile, proved, refused)
	assert.Positive(t, refused, "older checkpoints need pruned nodes")
}
