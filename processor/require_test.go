package processor_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
	"github.com/otelaudit/otelaudit-go/store"
)

func durableSetup(t *testing.T, gopts ...otelaudit.Option) (*otelaudit.Generator, *processor.Processor, trace.Tracer) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "audit.db"))
	require.NoError(t, err)
	g, err := otelaudit.New(append([]otelaudit.Option{otelaudit.WithStore(st)}, gopts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	p := processor.New(g)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "runtime"))),
		sdktrace.WithSpanProcessor(p),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return g, p, tp.Tracer("agent-runtime")
}

func TestRequireTakesTheSpansIdentity(t *testing.T) {
	g, p, tracer := durableSetup(t, otelaudit.WithPolicy(otelaudit.Policy{Drop: []string{"enduser.id"}}))
	ctx, wf := tracer.Start(context.Background(), "invoke_agent")
	ctx, tool := tracer.Start(ctx, "execute_tool charge_card", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.agent.id", "billing-agent"),
		attribute.String("workflow.id", "trip"),
		attribute.String("node.id", "pay"),
		attribute.String("enduser.id", "alice"), // dropped: not copied
		attribute.String("audit.resource", "payments://cards/alice"),
	))
	start := g.Events(0)
	require.Len(t, start, 1, "the processor recorded node_start when the span began")

	r, err := p.Require(ctx, otelaudit.Event{Type: otelaudit.ResourceAccess, Action: "charge 42.00 EUR"})
	require.NoError(t, err)
	e := r.Event
	assert.Equal(t, "billing-agent", e.AgentID)
	assert.Equal(t, "trip", e.WorkflowID)
	assert.Equal(t, "pay", e.NodeID)
	assert.Equal(t, "payments://cards/alice", e.Resource)
	assert.Empty(t, e.HumanOriginID, "the Policy's Drop holds for Require too")
	assert.Equal(t, "charge 42.00 EUR", e.Action, "the caller's own fields stay")
	assert.Equal(t, tool.SpanContext().TraceID(), e.TraceID)
	assert.Equal(t, tool.SpanContext().SpanID(), e.SpanID)
	assert.Equal(t, wf.SpanContext().SpanID(), e.ParentSpanID)
	require.NotNil(t, e.Source)
	assert.Equal(t, start[0].Source.Resource(), e.Source.Resource(), "the span's resource and scope")
	assert.Equal(t, start[0].Seq+1, r.Seq)
	assert.GreaterOrEqual(t, g.Stats().Durable, start[0].Seq, "the receipt covers the span's start event")

	// The caller's fields win over the span's, and an event without a
	// span in ctx is recorded as given.
	r, err = p.Require(ctx, otelaudit.Event{Type: otelaudit.ResourceAccess, AgentID: "other", Resource: "r"})
	require.NoError(t, err)
	assert.Equal(t, "other", r.Event.AgentID)
	assert.Equal(t, "r", r.Event.Resource)
	assert.Equal(t, "execute_tool charge_card", r.Event.Action, "the span name, as for the span's own events")
	r, err = p.Require(context.Background(), otelaudit.Event{Type: otelaudit.ResourceAccess})
	require.NoError(t, err)
	assert.Empty(t, r.Event.AgentID)
	assert.False(t, r.Event.TraceID.IsValid())
	tool.End()
	wf.End()
}

func TestRequireWithoutAGenerator(t *testing.T) {
	var p *processor.Processor
	_, err := p.Require(context.Background(), otelaudit.Event{Type: otelaudit.ResourceAccess})
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	_, err = processor.New(nil).Require(context.Background(), otelaudit.Event{Type: otelaudit.ResourceAccess})
	assert.ErrorIs(t, err, otelaudit.ErrNoReceipt)
	// A Generator without a store gives no receipt, whatever the span.
	g := otelaudit.NewGenerator()
	_, err = processor.New(g).Require(context.Background(), otelaudit.Event{Type: otelaudit.ResourceAccess})
	assert.ErrorIs(t, err, otelaudit.ErrNoStore)
	assert.Zero(t, g.Stats().Recorded)
}

// A tool's span that names only its node inherits who acts from the
// workflow's root span, as the processor's own events do; so does the
// intent the tool requires from inside it.
func TestRequireInheritsTheIdentity(t *testing.T) {
	g, p, tracer := durableSetup(t)
	ctx, wf := tracer.Start(context.Background(), "invoke_agent planner", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.id", "planner"),
		attribute.String("enduser.id", "alice"),
		attribute.String("workflow.id", "trip"),
	))
	ctx, tool := tracer.Start(ctx, "execute_tool charge_card", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("node.id", "pay"),
	))
	r, err := p.Require(ctx, otelaudit.Event{Type: otelaudit.ResourceAccess, Action: "charge 42.00 EUR"})
	require.NoError(t, err)
	tool.End()
	wf.End()
	assert.Equal(t, "planner", r.Event.AgentID)
	assert.Equal(t, "alice", r.Event.HumanOriginID)
	assert.Equal(t, "trip", r.Event.WorkflowID)
	assert.Equal(t, "pay", r.Event.NodeID)
	var start otelaudit.Event
	for _, e := range g.EventsByTrace(tool.SpanContext().TraceID()) {
		if e.Type == otelaudit.NodeStart {
			start = e
		}
	}
	assert.Equal(t, start.AgentID, r.Event.AgentID, "as the span's own start event")
	assert.Equal(t, start.HumanOriginID, r.Event.HumanOriginID)
}
