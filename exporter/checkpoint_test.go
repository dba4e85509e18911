package exporter_test

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// A Stream that follows a signed store ships its milestone checkpoints
// after the events they cover: each span carries the signed note, which
// verifies with the public key and matches the store's.
func TestStreamShipsCheckpoints(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	st, err := store.Open(filepath.Join(t.TempDir(), "audit.db"))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(10, time.Hour))
	require.NoError(t, err)
	exp := tracetest.NewInMemoryExporter()
	s, err := exporter.NewStream(st, exp, exporter.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	ctx := context.Background()
	for range 35 {
		_, err := g.Record(ctx, otelaudit.Event{Type: otelaudit.NodeStart})
		require.NoError(t, err)
	}
	require.NoError(t, g.ForceFlush(ctx))
	require.NoError(t, s.ForceFlush(ctx))
	spans := exp.GetSpans() // the in-memory exporter forgets them at Shutdown
	require.NoError(t, s.Shutdown(ctx))
	stored, err := st.Checkpoints()
	require.NoError(t, err)
	require.NoError(t, g.Shutdown(ctx))

	var shipped []otelaudit.Checkpoint
	events := 0
	for _, sp := range spans {
		if sp.Name != "audit."+string(exporter.CheckpointType) {
			events++
			continue
		}
		var note string
		for _, kv := range sp.Attributes {
			if string(kv.Key) == exporter.AttrCheckpointNote {
				note = kv.Value.AsString()
			}
		}
		c, err := otelaudit.ParseNote([]byte(note))
		require.NoError(t, err)
		require.NoError(t, c.VerifySignature(pub))
		shipped = append(shipped, c)
	}
	assert.Equal(t, 35, events)
	assert.Equal(t, int(s.Stats().Exported), 35, "checkpoints are not counted as events")
	require.NotEmpty(t, shipped)
	var milestones []uint64
	for _, c := range stored {
		milestones = append(milestones, c.Size)
	}
	var sizes []uint64
	for _, c := range shipped {
		sizes = append(sizes, c.Size)
	}
	assert.Subset(t, milestones, sizes)
	assert.Contains(t, sizes, uint64(10))
	assert.Contains(t, sizes, uint64(30))
}
