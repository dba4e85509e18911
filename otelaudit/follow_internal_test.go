package otelaudit

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

func followTestEvent(i int) Event {
	return Event{
		Type: NodeEnd, TraceID: trace.TraceID{0: byte(i % 7), 15: 1}, SpanID: trace.SpanID{0: byte(i), 7: 1},
		AgentID: []string{"a", "b", "c"}[i%3], Outcome: Success,
	}
}

// caughtUp reports whether every recorded event is sealed and indexed, no
// evicted event is left in the indexes, and the follower has ended.
func (g *Generator) caughtUp() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.current(g.held.next) && g.fol.done == nil && !g.fol.running.Load()
}

// The follower seals and indexes what writers record without any query,
// evicted events included, then ends on its own: no goroutine stays behind
// an idle Generator. The wait is for a state, not for a time.
func TestFollowerCatchesUpAndEnds(t *testing.T) {
	g := NewGenerator(WithCapacity(5000), WithMaxBytes(1<<30))
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < 20_000; i += 2 {
				_, err := g.Append(context.Background(), followTestEvent(i))
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()
	for !g.caughtUp() {
		runtime.Gosched()
	}
	g.mu.Lock()
	require.Equal(t, g.held.next, g.idx.indexed)
	require.Equal(t, g.held.next, g.seal.sealed)
	require.Zero(t, g.idx.unlinks.n)
	// Every held event is in exactly its chains.
	held := int(g.held.next - g.held.first)
	n := 0
	for _, c := range g.idx.agents {
		n += c.n
	}
	require.Equal(t, held, n)
	n = 0
	for i := range g.idx.traces.slots {
		if g.idx.traces.slots[i].id.IsValid() {
			n += g.idx.traces.slots[i].chain.n
		}
	}
	require.Equal(t, held, n)
	g.mu.Unlock()
	require.NoError(t, g.Verify())
	require.NoError(t, g.Shutdown(context.Background()))
}

// Shutdown stops a running follower and waits for it; later Appends are
// refused and start none.
func TestShutdownStopsFollower(t *testing.T) {
	g := NewGenerator(WithCapacity(1000))
	for i := range 3000 {
		_, err := g.Append(context.Background(), followTestEvent(i))
		require.NoError(t, err)
	}
	g.mu.Lock()
	done := g.fol.done
	g.mu.Unlock()
	require.NoError(t, g.Shutdown(context.Background()))
	if done != nil {
		select {
		case <-done:
		default:
			t.Fatal("Shutdown returned before the follower ended")
		}
	}
	require.False(t, g.fol.running.Load())
	_, err := g.Append(context.Background(), followTestEvent(0))
	require.ErrorIs(t, err, ErrShutdown)
	require.False(t, g.fol.running.Load())
	g.mu.Lock()
	require.Nil(t, g.fol.done)
	g.mu.Unlock()
	// Held events stay queryable: the query catches up on its own.
	require.Len(t, g.Events(0), 1000)
}

// A Generator with the worker off indexes nothing until a query asks.
func TestCatchUpIntervalZeroIsLazy(t *testing.T) {
	g := NewGenerator(WithCatchUpInterval(0), WithCapacity(100))
	for i := range 50 {
		_, err := g.Append(context.Background(), followTestEvent(i))
		require.NoError(t, err)
	}
	require.False(t, g.fol.running.Load())
	g.mu.Lock()
	require.Equal(t, g.held.first, g.idx.indexed)
	g.mu.Unlock()
	require.Len(t, g.EventsByAgent("a"), 17)
	g.mu.Lock()
	require.Equal(t, g.held.next, g.idx.indexed)
	g.mu.Unlock()
	require.NoError(t, g.Shutdown(context.Background()))
}
