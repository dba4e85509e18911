package store_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// TestQueryDecodesWhatItReturns: a limited query over thousands of heavy
// stored events reads the others in place and decodes only what it
// returns: it allocates about one event's worth.
func TestQueryDecodesWhatItReturns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	st := openStore(t, path)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithPolicy(otelaudit.Policy{Keep: []string{"pad"}}))
	require.NoError(t, err)
	pad := strings.Repeat("x", 2000)
	for range 5000 {
		_, err := g.Append(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, TraceID: trace.TraceID{1}, AgentID: "a",
			HumanOriginID: "alice", Time: time.Unix(1_700_000_000, 0), Attributes: []attribute.KeyValue{attribute.String("pad", pad)}})
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(context.Background()))
	st = openStore(t, path, store.WithReadOnly())
	defer st.Close()
	for _, q := range []store.Query{
		{Type: otelaudit.NodeEnd, Limit: 1},
		{AgentID: "a", Limit: 1, Oldest: true},
		{TraceID: trace.TraceID{1}, Limit: 1},
		{HumanOriginID: "alice", Limit: 1},
		{Type: otelaudit.NodeEnd, Outcome: otelaudit.Denied}, // no match: reads all in place, decodes none
		{Since: time.Unix(1_800_000_000, 0)},
	} {
		_, _ = st.Events(q) // warm the source cache and the map
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := st.Events(q)
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(got), 1)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "query %+v allocated %d bytes", q, after.TotalAlloc-before.TotalAlloc)
	}
}
