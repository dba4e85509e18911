package processor_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// newProvider returns a provider with p as its only processor.
func newProvider(t *testing.T, p *processor.Processor, opts ...sdktrace.TracerProviderOption) trace.Tracer {
	t.Helper()
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithSpanProcessor(p))...)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp.Tracer("agent-runtime")
}

type who struct{ agent, human, workflow, node string }

func whoOf(e otelaudit.Event) who { return who{e.AgentID, e.HumanOriginID, e.WorkflowID, e.NodeID} }

// TestIdentityInherited: the GenAI conventions put the agent and the user
// on the invoke_agent span only; every event below it carries them, from
// the nearest enclosing span that has each.
func TestIdentityInherited(t *testing.T) {
	g := otelaudit.NewGenerator()
	p := processor.New(g)
	tr := newProvider(t, p)
	ctx, wf := tr.Start(context.Background(), "invoke_agent planner", trace.WithAttributes(
		kv("gen_ai.operation.name", "invoke_agent"), kv("gen_ai.agent.id", "planner"),
		kv("enduser.id", "alice"), kv("workflow.id", "trip-1")))
	toolCtx, tool := tr.Start(ctx, "execute_tool search", trace.WithAttributes(
		kv("gen_ai.operation.name", "execute_tool"), kv("node.id", "search")))
	_, inner := tr.Start(toolCtx, "parse results") // not audited, but passes the identity on
	innerCtx := trace.ContextWithSpan(toolCtx, inner)
	call{name: "HTTP GET", kind: client, end: []attribute.KeyValue{kv("http.request.method", "GET"), kv("url.full", "https://flights.example/s")}}.
		run(t, tr, innerCtx)
	inner.End()
	// A sub-agent: its own agent for its subtree; the user and workflow
	// still come from the root.
	subCtx, sub := tr.Start(toolCtx, "invoke_agent pricing", trace.WithAttributes(
		kv("gen_ai.operation.name", "invoke_agent"), kv("gen_ai.agent.id", "pricer")))
	call{name: "chat", kind: client, start: []attribute.KeyValue{kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "m")}}.
		run(t, tr, subCtx)
	sub.End()
	tool.End()
	wf.End()

	got := map[string]who{}
	for _, e := range g.EventsByTrace(wf.SpanContext().TraceID()) {
		got[string(e.Type)+" "+e.Action] = whoOf(e)
	}
	assert.Equal(t, map[string]who{
		"workflow_start invoke_agent planner": {"planner", "alice", "trip-1", ""},
		"node_start execute_tool search":      {"planner", "alice", "trip-1", "search"},
		"resource_access GET":                 {"planner", "alice", "trip-1", "search"},
		"workflow_start invoke_agent pricing": {"pricer", "alice", "trip-1", "search"},
		"resource_access chat":                {"pricer", "alice", "trip-1", "search"},
		"workflow_end invoke_agent pricing":   {"pricer", "alice", "trip-1", "search"},
		"node_end execute_tool search":        {"planner", "alice", "trip-1", "search"},
		"workflow_end invoke_agent planner":   {"planner", "alice", "trip-1", ""},
	}, got)
	assert.Zero(t, processor.OpenSpans(p), "every entry released when its span ended")
}

// TestIdentityOutlivesParent: a span started inside an open parent keeps
// what it inherited when the parent ends first (fire and forget).
func TestIdentityOutlivesParent(t *testing.T) {
	g := otelaudit.NewGenerator()
	p := processor.New(g)
	tr := newProvider(t, p)
	ctx, wf := tr.Start(context.Background(), "wf", trace.WithAttributes(kv("workflow.id", "w"), kv("enduser.id", "bob")))
	_, late := tr.Start(ctx, "late", trace.WithSpanKind(client))
	wf.End()
	late.SetAttributes(kv("http.request.method", "POST"), kv("url.full", "https://hooks.example/x"))
	late.End()
	es := g.EventsByType(otelaudit.ResourceAccess)
	require.Len(t, es, 1)
	assert.Equal(t, who{"", "bob", "w", ""}, whoOf(es[0]))
	assert.Zero(t, processor.OpenSpans(p))
}

// TestIdentityFromBaggage: across processes, the caller's runtime
// propagates the identity in W3C Baggage; the nearest enclosing span in
// this process, and the span's own attributes, win over it.
func TestIdentityFromBaggage(t *testing.T) {
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Remote: true,
	})
	bag, err := baggage.Parse("enduser.id=carol,gen_ai.agent.id=remote-agent,workflow.id=wf-9,other=x")
	require.NoError(t, err)
	incoming := baggage.ContextWithBaggage(trace.ContextWithRemoteSpanContext(context.Background(), remote), bag)

	for _, tt := range []struct {
		name   string
		opts   []processor.Option
		policy otelaudit.Policy
		tool   who
		call   who
	}{
		{"baggage", nil, otelaudit.Policy{}, who{"local-agent", "carol", "wf-9", "n"}, who{"local-agent", "carol", "wf-9", "n"}},
		{"WithoutBaggage", []processor.Option{processor.WithoutBaggage()}, otelaudit.Policy{}, who{"local-agent", "", "", "n"}, who{"local-agent", "", "", "n"}},
		{"keys the policy drops are not taken from baggage", nil, otelaudit.Policy{Drop: []string{"enduser.*"}},
			who{"local-agent", "", "wf-9", "n"}, who{"local-agent", "", "wf-9", "n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := otelaudit.NewGenerator(otelaudit.WithPolicy(tt.policy))
			p := processor.New(g, tt.opts...)
			// The caller's traceparent says "not sampled": the SDK's
			// default sampler would drop the whole workflow.
			tr := newProvider(t, p, sdktrace.WithSampler(p.Sampler(nil)))
			ctx, tool := tr.Start(incoming, "tool", trace.WithAttributes(kv("node.id", "n"), kv("gen_ai.agent.id", "local-agent")))
			// The call's context has other baggage: the enclosing span wins.
			other, _ := baggage.Parse("enduser.id=mallory")
			call{name: "HTTP GET", kind: client, end: []attribute.KeyValue{kv("http.request.method", "GET"), kv("url.full", "https://a.example/")}}.
				run(t, tr, baggage.ContextWithBaggage(ctx, other))
			tool.End()
			es := g.Events(0)
			require.Len(t, es, 3)
			assert.Equal(t, tt.tool, whoOf(es[0]), "node_start")
			assert.Equal(t, tt.call, whoOf(es[1]), "resource_access")
			assert.Equal(t, tt.tool, whoOf(es[2]), "node_end")
			assert.Equal(t, remote.SpanID(), es[0].ParentSpanID)
		})
	}
}

// TestOpenSpansBound: past WithMaxOpenSpans a span is not remembered, and
// that is counted; its own events still inherit from a remembered parent,
// its children only what it carries itself; the table empties as spans
// end and takes new spans again. (A workflow's root span, whose own
// attributes say all it passes on, takes no entry.)
func TestOpenSpansBound(t *testing.T) {
	g := otelaudit.NewGenerator()
	p := processor.New(g, processor.WithMaxOpenSpans(2))
	tr := newProvider(t, p)
	ctx1, s1 := tr.Start(context.Background(), "wf", trace.WithAttributes(kv("workflow.id", "w"), kv("gen_ai.agent.id", "a")))
	assert.Equal(t, 0, processor.OpenSpans(p), "the root needs no entry")
	ctx2, s2 := tr.Start(ctx1, "n2", trace.WithAttributes(kv("node.id", "n2")))
	ctx3, s3 := tr.Start(ctx2, "n3", trace.WithAttributes(kv("node.id", "n3")))
	ctx4, s4 := tr.Start(ctx3, "n4", trace.WithAttributes(kv("node.id", "n4"))) // the table is full
	_, s5 := tr.Start(ctx4, "n5", trace.WithAttributes(kv("node.id", "n5")))
	assert.Equal(t, 2, processor.OpenSpans(p))
	assert.Equal(t, uint64(1), g.Stats().Untracked)
	for _, s := range []trace.Span{s5, s4, s3, s2, s1} {
		s.End()
	}
	got := map[string]who{}
	for _, e := range g.Events(0) {
		got[string(e.Type)+" "+e.Action] = whoOf(e)
	}
	assert.Equal(t, who{"a", "", "w", "n3"}, got["node_start n3"])
	assert.Equal(t, who{"a", "", "w", "n4"}, got["node_start n4"], "n4's parent is remembered")
	assert.Equal(t, who{"a", "", "w", "n4"}, got["node_end n4"])
	assert.Equal(t, who{"", "", "", "n5"}, got["node_start n5"], "n4 could pass on only what it carries")
	assert.Equal(t, who{"", "", "", "n5"}, got["node_end n5"])
	assert.Zero(t, processor.OpenSpans(p))

	ctx, s6 := tr.Start(context.Background(), "again", trace.WithAttributes(kv("workflow.id", "w2")))
	_, s7 := tr.Start(ctx, "child", trace.WithAttributes(kv("node.id", "c")))
	assert.Equal(t, 1, processor.OpenSpans(p), "room again")
	s7.End()
	s6.End()
	assert.Equal(t, uint64(1), g.Stats().Untracked)
	assert.Equal(t, who{"", "", "w2", "c"}, whoOf(g.Events(2)[0]), "node_end c")
}

// TestOpenSpansReleasedUnderLoad: many concurrent workflows leave nothing
// behind, and nothing is counted as untracked below the bound.
func TestOpenSpansReleasedUnderLoad(t *testing.T) {
	g := otelaudit.NewGenerator()
	p := processor.New(g)
	tr := newProvider(t, p)
	const workers, runs = 8, 200
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < runs; i++ {
				ctx, wf := tr.Start(context.Background(), "wf", trace.WithAttributes(kv("workflow.id", "w"), kv("enduser.id", "u")))
				tctx, tool := tr.Start(ctx, "tool", trace.WithAttributes(kv("node.id", "n")))
				_, c := tr.Start(tctx, "HTTP GET", trace.WithSpanKind(client))
				c.SetAttributes(kv("http.request.method", "GET"), kv("url.full", "https://a.example/"))
				c.End()
				tool.End()
				wf.End()
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	assert.Zero(t, processor.OpenSpans(p))
	s := g.Stats()
	assert.Zero(t, s.Untracked)
	assert.Equal(t, uint64(workers*runs*5), s.Recorded)
	for _, e := range g.EventsByType(otelaudit.ResourceAccess) {
		require.Equal(t, who{"", "u", "w", "n"}, whoOf(e))
	}
}
