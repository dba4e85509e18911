package store_test

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

// TestTreeAcrossTileLevels: commits as large as the writer makes them grow
// the tree past its first tile of level 1 (65,536 leaves), whose tiles a
// Write reads before the tree grows beside its puts. Open then recomputes
// the tree from the events and compares every tile, and the signed head's
// root.
func TestTreeAcrossTileLevels(t *testing.T) {
	if testing.Short() {
		t.Skip("records 65,836 events")
	}
	const n = 1<<16 + 300
	path := filepath.Join(t.TempDir(), "audit.db")
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(openStore(t, path, store.WithPublicKey(pub))),
		otelaudit.WithSigningKey(priv), otelaudit.WithStoreWait(time.Minute))
	require.NoError(t, err)
	ctx := context.Background()
	events := benchEvents["scattered"]
	for i := range n {
		_, err := g.Append(ctx, events[i%len(events)])
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(ctx))

	st := openStore(t, path, store.WithPublicKey(pub))
	defer st.Close()
	rep, err := st.Verify(pub, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(n), rep.Events)
	cps, err := st.Checkpoints()
	require.NoError(t, err)
	require.NotEmpty(t, cps)
	assert.Equal(t, uint64(n), cps[len(cps)-1].Size)
}
