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

// shippedCheckpoints returns the checkpoints among spans, by tree size.
func shippedCheckpoints(t *testing.T, spans tracetest.SpanStubs) []uint64 {
	t.Helper()
	var sizes []uint64
	for _, sp := range spans {
		if sp.Name != "audit."+string(exporter.CheckpointType) {
			continue
		}
		for _, kv := range sp.Attributes {
			if string(kv.Key) == exporter.AttrCheckpointNote {
				c, err := otelaudit.ParseNote([]byte(kv.Value.AsString()))
				require.NoError(t, err)
				sizes = append(sizes, c.Size)
			}
		}
	}
	return sizes
}

// A milestone kept after the events it covers were shipped (Checkpoint
// asked for it once they were committed) is shipped too, once, and the
// Stream's ForceFlush waits for it as for the events.
func TestStreamShipsALateMilestone(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	st, err := store.Open(filepath.Join(t.TempDir(), "audit.db"))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(1<<30, time.Hour))
	require.NoError(t, err)
	exp := tracetest.NewInMemoryExporter()
	s, err := exporter.NewStream(st, exp, exporter.WithPollInterval(time.Hour))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 5 {
		_, err := g.Record(ctx, otelaudit.Event{Type: otelaudit.NodeStart})
		require.NoError(t, err)
	}
	require.NoError(t, g.ForceFlush(ctx))
	require.NoError(t, s.ForceFlush(ctx))
	require.Empty(t, shippedCheckpoints(t, exp.GetSpans()), "no milestone yet")

	g.Checkpoint()
	require.NoError(t, g.ForceFlush(ctx))
	require.NoError(t, s.ForceFlush(ctx))
	assert.Equal(t, []uint64{5}, shippedCheckpoints(t, exp.GetSpans()), "the milestone of events already shipped")
	require.NoError(t, s.ForceFlush(ctx))
	assert.Equal(t, []uint64{5}, shippedCheckpoints(t, exp.GetSpans()), "shipped once")

	_, err = g.Record(ctx, otelaudit.Event{Type: otelaudit.NodeEnd})
	require.NoError(t, err)
	g.Checkpoint()
	require.NoError(t, g.ForceFlush(ctx))
	require.NoError(t, s.ForceFlush(ctx))
	assert.Equal(t, []uint64{5, 6}, shippedCheckpoints(t, exp.GetSpans()))
	assert.Equal(t, uint64(6), s.Stats().Exported, "checkpoints are not counted as events")
	require.NoError(t, s.Shutdown(ctx))
	require.NoError(t, g.Shutdown(ctx))
}
