package otelaudit

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

// TestTraceTableMatchesAMap drives the table and a Go map with the same
// random inserts and removals, many sharing probe runs (few bits of the ID
// vary), and checks they always agree: backward-shift deletion must never
// hide an entry behind a hole.
func TestTraceTableMatchesAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tt := newTraceTable()
	model := map[trace.TraceID]int{}
	id := func() trace.TraceID {
		return trace.TraceID{0: 1, 15: byte(r.IntN(256)), 14: byte(r.IntN(8))}
	}
	for i := 0; i < 200_000; i++ {
		k := id()
		if r.IntN(3) == 0 {
			tt.remove(k)
			delete(model, k)
		} else {
			tt.get(k).n = i
			model[k] = i
		}
		if i%1000 == 0 {
			require.Equal(t, len(model), tt.n)
			for k, v := range model {
				c := tt.find(k)
				require.NotNil(t, c, "lost %s at step %d", k, i)
				require.Equal(t, v, c.n)
			}
		}
	}
	for k := range model {
		tt.remove(k)
	}
	require.Zero(t, tt.n)
	for _, e := range tt.slots {
		require.False(t, e.id.IsValid())
	}
}
