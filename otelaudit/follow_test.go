package otelaudit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Queries answer exactly what is held while writers evict, with the
// catch-up worker on (evicted events wait in a queue to leave the indexes)
// and off, against a model of the last capacity events.
func TestQueriesExactUnderEviction(t *testing.T) {
	for _, setup := range []struct {
		name string
		opts []otelaudit.Option
	}{
		{"follower", nil},
		{"lazy", []otelaudit.Option{otelaudit.WithCatchUpInterval(0)}},
	} {
		t.Run(setup.name, func(t *testing.T) {
			const capacity = 300
			g := otelaudit.NewGenerator(append(setup.opts, otelaudit.WithCapacity(capacity), otelaudit.WithMaxBytes(1<<30))...)
			defer func() { require.NoError(t, g.Shutdown(context.Background())) }()
			r := rand.New(rand.NewPCG(1, 2))
			var model []otelaudit.Event
			for round := range 200 {
				// A burst from two writers, of up to twice the capacity.
				n := r.IntN(2 * capacity)
				burst := make([]otelaudit.Event, n)
				for i := range burst {
					burst[i] = otelaudit.Event{
						Type:    []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd, otelaudit.ResourceAccess}[r.IntN(3)],
						TraceID: trace.TraceID{0: byte(r.IntN(40)), 15: 1},
						AgentID: fmt.Sprintf("agent-%d", r.IntN(5)), Outcome: otelaudit.Success,
					}
				}
				var mu sync.Mutex
				var wg sync.WaitGroup
				for w := range 2 {
					wg.Go(func() {
						for i := w; i < n; i += 2 {
							mu.Lock() // Seq order is the model's order
							seq, err := g.Append(context.Background(), burst[i])
							require.NoError(t, err)
							e := burst[i]
							e.Seq = seq
							model = append(model, e)
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				if len(model) > capacity {
					model = model[len(model)-capacity:]
				}
				// Ask by every key, both ways, with and without a limit.
				want := func(keep func(otelaudit.Event) bool) []uint64 {
					out := []uint64{}
					for _, e := range model {
						if keep(e) {
							out = append(out, e.Seq)
						}
					}
					return out
				}
				seqs := func(es []otelaudit.Event) []uint64 {
					out := make([]uint64, 0, len(es))
					for _, e := range es {
						out = append(out, e.Seq)
					}
					return out
				}
				id := trace.TraceID{0: byte(r.IntN(40)), 15: 1}
				agent := fmt.Sprintf("agent-%d", r.IntN(5))
				wt := want(func(e otelaudit.Event) bool { return e.TraceID == id })
				require.Equal(t, wt, seqs(g.EventsByTrace(id)), "round %d: trace", round)
				require.Equal(t, want(func(e otelaudit.Event) bool { return e.AgentID == agent }), seqs(g.EventsByAgent(agent)), "round %d: agent", round)
				wty := want(func(e otelaudit.Event) bool { return e.Type == otelaudit.ResourceAccess })
				res := g.Query(otelaudit.Query{Type: otelaudit.ResourceAccess, Limit: 5})
				if len(wty) > 5 {
					wty = wty[len(wty)-5:]
				}
				require.Equal(t, wty, seqs(res.Events), "round %d: newest resource accesses", round)
				require.Equal(t, len(want(func(e otelaudit.Event) bool { return e.Type == otelaudit.ResourceAccess })), res.Total, "round %d: total", round)
			}
			require.NoError(t, g.Verify())
		})
	}
}
