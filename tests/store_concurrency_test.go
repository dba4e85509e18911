package tests

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// TestStoreUnderConcurrency: eight writers record into a small Generator
// with a store attached, so its queue (the ring) is often full of events
// not yet durable, while others query, verify, flush and Clear. Afterwards
// the store must hold every event, each writer's in its own order, chained.
func TestStoreUnderConcurrency(t *testing.T) {
	const writers, each = 8, 1500
	path := filepath.Join(t.TempDir(), "audit.db")
	st, err := store.Open(path)
	require.NoError(t, err)
	g := otelaudit.NewGenerator(concKeep, otelaudit.WithStore(st), otelaudit.WithCapacity(256), otelaudit.WithStoreWait(concTimeout))
	ctx := context.Background()

	stop := make(chan struct{})
	var side sync.WaitGroup
	var verified, flushes, clears int
	side.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if !assert.NoError(t, g.Verify()) {
				return
			}
			verified++
			_ = g.EventsByAgent("writer-3")
			_ = g.Events(50)
		}
	})
	side.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			before := g.Stats().LastSeq
			if !assert.NoError(t, g.ForceFlush(ctx)) {
				return
			}
			assert.GreaterOrEqual(t, g.Stats().Durable, before, "ForceFlush returned before its events were durable")
			flushes++
		}
	})
	side.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
			}
			g.Clear()
			clears++
		}
	})

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := g.Append(ctx, otelaudit.Event{
					Type:       concType(i),
					TraceID:    concTrace(w),
					SpanID:     trace.SpanID{1},
					AgentID:    fmt.Sprintf("writer-%d", w),
					Attributes: []attribute.KeyValue{attribute.Int("conc.i", i)},
				})
				if !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	concWait(t, &wg, concTimeout, "writers")
	close(stop)
	concWait(t, &side, concTimeout, "side goroutines")
	require.NoError(t, g.Shutdown(ctx))
	stats := g.Stats()
	assert.Equal(t, uint64(writers*each), stats.Recorded)
	assert.Zero(t, stats.Rejected)
	assert.Equal(t, stats.LastSeq, stats.Durable)
	t.Logf("%d verifies, %d flushes, %d clears during the run", verified, flushes, clears)

	st, err = store.Open(path, store.WithReadOnly())
	require.NoError(t, err)
	defer st.Close()
	rep, err := st.Verify(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(writers*each), rep.Events)
	for w := range writers {
		events, err := st.EventsByTrace(concTrace(w))
		require.NoError(t, err)
		require.Len(t, events, each, "writer %d", w)
		for i, e := range events {
			require.Equal(t, attribute.Int("conc.i", i), e.Attributes[0], "writer %d's events out of order", w)
		}
	}
}
