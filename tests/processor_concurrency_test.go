package tests

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// TestProcessorUnderConcurrentRuntimes: 40 goroutines each run a workflow of
// 25 nodes (one span event each) through one TracerProvider with the
// processor registered. Every trace must hold exactly its 1 + 25×3 + 1
// events, in the order the runtime produced them.
func TestProcessorUnderConcurrentRuntimes(t *testing.T) {
	const runtimes, nodes = 40, 25
	g := otelaudit.NewGenerator()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(processor.New(g)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("runtime")

	traces := make([]trace.TraceID, runtimes)
	var wg sync.WaitGroup
	for r := range runtimes {
		wg.Go(func() {
			ctx, wf := tr.Start(context.Background(), "wf", trace.WithAttributes(
				attribute.String("workflow.id", fmt.Sprint("wf-", r)), attribute.String("gen_ai.agent.id", fmt.Sprint("agent-", r))))
			traces[r] = wf.SpanContext().TraceID()
			for n := range nodes {
				_, sp := tr.Start(ctx, "node", trace.WithAttributes(attribute.String("node.id", fmt.Sprint(n))))
				sp.AddEvent("audit.resource_access", trace.WithAttributes(attribute.Int("n", n)))
				sp.End()
			}
			wf.End()
		})
	}
	concWait(t, &wg, concTimeout, "runtimes")

	const perTrace = 1 + nodes*3 + 1
	require.Equal(t, uint64(runtimes*perTrace), g.Stats().Recorded)
	for r, id := range traces {
		es := g.EventsByTrace(id)
		require.Len(t, es, perTrace, "runtime %d", r)
		assert.Equal(t, otelaudit.WorkflowStart, es[0].Type)
		assert.Equal(t, otelaudit.WorkflowEnd, es[perTrace-1].Type)
		for n := range nodes {
			trio := es[1+3*n : 4+3*n]
			assert.Equal(t, []otelaudit.EventType{otelaudit.NodeStart, otelaudit.ResourceAccess, otelaudit.NodeEnd},
				[]otelaudit.EventType{trio[0].Type, trio[1].Type, trio[2].Type}, "runtime %d node %d", r, n)
			for _, e := range trio {
				assert.Equal(t, fmt.Sprint(n), e.NodeID)
				assert.Equal(t, es[0].SpanID, e.ParentSpanID, "nodes are children of the workflow span")
			}
		}
		for i := 1; i < len(es); i++ {
			assert.Less(t, es[i-1].Seq, es[i].Seq)
		}
		assert.Len(t, g.EventsByAgent(fmt.Sprint("agent-", r)), perTrace, "only the workflow span carries the agent; every event inherits it")
	}
}
