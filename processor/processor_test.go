package processor_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// setup returns a tracer whose provider has only our processor.
func setup(t *testing.T, opts ...processor.Option) (*otelaudit.Generator, trace.Tracer, *resource.Resource) {
	t.Helper()
	return setupWith(t, nil, opts...)
}

// setupWith is setup with options for the Generator too.
func setupWith(t *testing.T, gopts []otelaudit.Option, opts ...processor.Option) (*otelaudit.Generator, trace.Tracer, *resource.Resource) {
	t.Helper()
	g := otelaudit.NewGenerator(gopts...)
	res := resource.NewSchemaless(attribute.String("service.name", "runtime"))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(processor.New(g, opts...)),
	)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return g, tp.Tracer("agent-runtime", trace.WithInstrumentationVersion("1.2.3")), res
}

func types(es []otelaudit.Event) []otelaudit.EventType {
	out := []otelaudit.EventType{}
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

func TestDefaultClassification(t *testing.T) {
	tests := []struct {
		name  string
		attrs []attribute.KeyValue
		fail  bool
		want  []otelaudit.EventType
	}{
		{"workflow.id", []attribute.KeyValue{attribute.String("workflow.id", "wf")}, false,
			[]otelaudit.EventType{otelaudit.WorkflowStart, otelaudit.WorkflowEnd}},
		{"workflow.name failing", []attribute.KeyValue{attribute.String("workflow.name", "wf")}, true,
			[]otelaudit.EventType{otelaudit.WorkflowStart, otelaudit.WorkflowError}},
		{"invoke_agent", []attribute.KeyValue{attribute.String("gen_ai.operation.name", "invoke_agent")}, false,
			[]otelaudit.EventType{otelaudit.WorkflowStart, otelaudit.WorkflowEnd}},
		{"invoke_workflow", []attribute.KeyValue{attribute.String("gen_ai.operation.name", "invoke_workflow")}, false,
			[]otelaudit.EventType{otelaudit.WorkflowStart, otelaudit.WorkflowEnd}},
		{"create_agent", []attribute.KeyValue{attribute.String("gen_ai.operation.name", "create_agent")}, false,
			[]otelaudit.EventType{otelaudit.WorkflowStart, otelaudit.WorkflowEnd}},
		{"plan", []attribute.KeyValue{attribute.String("gen_ai.operation.name", "plan")}, false,
			[]otelaudit.EventType{otelaudit.WorkflowStart, otelaudit.WorkflowEnd}},
		{"node.id", []attribute.KeyValue{attribute.String("node.id", "n1")}, false,
			[]otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd}},
		{"node inside a workflow is a node", []attribute.KeyValue{attribute.String("workflow.id", "wf"), attribute.String("node.id", "n1")}, true,
			[]otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeError}},
		{"execute_tool", []attribute.KeyValue{attribute.String("gen_ai.operation.name", "execute_tool")}, false,
			[]otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd}},
		{"explicit type: one event at end", []attribute.KeyValue{attribute.String("audit.event.type", "resource_access"), attribute.String("node.id", "n1")}, false,
			[]otelaudit.EventType{otelaudit.ResourceAccess}},
		{"chat is a model call", []attribute.KeyValue{attribute.String("gen_ai.operation.name", "chat")}, false,
			[]otelaudit.EventType{otelaudit.ResourceAccess}},
		{"plain span is not audited", nil, false, []otelaudit.EventType{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, tr, _ := setup(t)
			_, sp := tr.Start(context.Background(), "span", trace.WithAttributes(tt.attrs...))
			if tt.fail {
				sp.SetStatus(codes.Error, "boom")
			}
			sp.End()
			assert.Equal(t, tt.want, types(g.Events(0)))
		})
	}
}

func TestFieldMapping(t *testing.T) {
	g, tr, res := setupWith(t, []otelaudit.Option{fullLevel})
	ctx, parent := tr.Start(context.Background(), "parent")
	start := time.Now().Add(-2 * time.Second)
	_, sp := tr.Start(ctx, "call weather tool",
		trace.WithTimestamp(start),
		trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "execute_tool"),
			attribute.String("gen_ai.agent.name", "planner-name"),
			attribute.String("gen_ai.agent.id", "planner-7"),
			attribute.String("agent.id", "ignored"),
			attribute.String("workflow.id", "wf-1"),
			attribute.String("node.id", "n-9"),
			attribute.String("enduser.id", "alice"),
			attribute.String("audit.resource", "https://weather.example/api"),
			attribute.Int("retry", 2),
		))
	end := start.Add(1500 * time.Millisecond)
	sp.SetStatus(codes.Error, "timeout")
	sp.End(trace.WithTimestamp(end))
	parent.End()

	es := g.EventsByTrace(sp.SpanContext().TraceID())
	require.Len(t, es, 2)
	st, en := es[0], es[1]
	for _, e := range es {
		assert.Equal(t, sp.SpanContext().SpanID(), e.SpanID)
		assert.Equal(t, parent.SpanContext().SpanID(), e.ParentSpanID)
		assert.Equal(t, "planner-7", e.AgentID, "gen_ai.agent.id wins")
		assert.Equal(t, "alice", e.HumanOriginID)
		assert.Equal(t, "wf-1", e.WorkflowID)
		assert.Equal(t, "n-9", e.NodeID)
		assert.Equal(t, "call weather tool", e.Action, "span name when audit.action is absent")
		assert.Equal(t, "https://weather.example/api", e.Resource)
		assert.Equal(t, res, e.Source.Resource())
		assert.Equal(t, "agent-runtime", e.Source.Scope().Name)
		assert.Equal(t, "1.2.3", e.Source.Scope().Version)
		assert.Contains(t, e.Attributes, attribute.Int("retry", 2))
	}
	assert.Equal(t, otelaudit.NodeStart, st.Type)
	assert.True(t, start.Equal(st.Time))
	assert.Zero(t, st.Duration)
	assert.Empty(t, st.Outcome, "a start has no outcome yet")
	assert.Equal(t, otelaudit.NodeError, en.Type)
	assert.True(t, end.Equal(en.Time))
	assert.Equal(t, 1500*time.Millisecond, en.Duration)
	assert.Equal(t, otelaudit.Error, en.Outcome)
}

func TestAgentFallbacksAndExplicitFields(t *testing.T) {
	tests := []struct {
		attrs     []attribute.KeyValue
		agent     string
		action    string
		outcome   otelaudit.Outcome
		humanOrig string
	}{
		{[]attribute.KeyValue{attribute.String("gen_ai.agent.name", "n"), attribute.String("agent.id", "x")}, "n", "span", otelaudit.Success, ""},
		{[]attribute.KeyValue{attribute.String("agent.id", "x"), attribute.String("audit.action", "deploy")}, "x", "deploy", otelaudit.Success, ""},
		{[]attribute.KeyValue{attribute.String("audit.outcome", "denied"), attribute.String("audit.human_origin.id", "bob"), attribute.String("enduser.id", "eve")}, "", "span", otelaudit.Denied, "bob"},
		{[]attribute.KeyValue{attribute.String("audit.outcome", "not-an-outcome")}, "", "span", otelaudit.Success, ""},
	}
	for _, tt := range tests {
		g, tr, _ := setup(t)
		attrs := append([]attribute.KeyValue{attribute.String("node.id", "n")}, tt.attrs...)
		_, sp := tr.Start(context.Background(), "span", trace.WithAttributes(attrs...))
		sp.End()
		es := g.EventsByType(otelaudit.NodeEnd)
		require.Len(t, es, 1)
		assert.Equal(t, tt.agent, es[0].AgentID)
		assert.Equal(t, tt.action, es[0].Action)
		assert.Equal(t, tt.outcome, es[0].Outcome)
		assert.Equal(t, tt.humanOrig, es[0].HumanOriginID)
	}
}

func TestSpanEventsBecomeAuditEvents(t *testing.T) {
	g, tr, _ := setupWith(t, []otelaudit.Option{fullLevel})
	_, sp := tr.Start(context.Background(), "tool", trace.WithAttributes(
		attribute.String("node.id", "n1"), attribute.String("gen_ai.agent.id", "a1")))
	at := time.Now().Add(-time.Second)
	sp.AddEvent("audit.trust_denied", trace.WithTimestamp(at), trace.WithAttributes(
		attribute.String("audit.resource", "vault://prod"), attribute.String("policy", "no-prod")))
	sp.AddEvent("audit.delegation_used", trace.WithAttributes(attribute.String("gen_ai.agent.id", "delegate")))
	sp.AddEvent("not audited")
	sp.AddEvent("audit.") // no type: ignored
	sp.End()

	es := g.Events(0)
	assert.Equal(t, []otelaudit.EventType{otelaudit.NodeStart, otelaudit.TrustDenied, otelaudit.DelegationUsed, otelaudit.NodeEnd}, types(es),
		"span events come before the end of their span")
	denied := es[1]
	assert.True(t, at.Equal(denied.Time), "a span event keeps its own time")
	assert.Equal(t, otelaudit.Denied, denied.Outcome)
	assert.Equal(t, "vault://prod", denied.Resource)
	assert.Equal(t, "a1", denied.AgentID, "inherits the span's agent")
	assert.Equal(t, "n1", denied.NodeID)
	assert.Equal(t, []attribute.KeyValue{attribute.String("policy", "no-prod")}, denied.Attributes,
		"the event's own attributes, not the span's; audit.resource became the Resource field")
	assert.Equal(t, "delegate", es[2].AgentID, "the span event's agent overrides the span's")
	assert.Equal(t, otelaudit.Success, es[2].Outcome)
	assert.Equal(t, "a1", es[3].AgentID)
}

func TestSpanEventsOnUnauditedSpans(t *testing.T) {
	g, tr, _ := setup(t)
	_, sp := tr.Start(context.Background(), "http request")
	sp.AddEvent("audit.resource_access", trace.WithAttributes(attribute.String("audit.outcome", "failure")))
	sp.End()
	es := g.Events(0)
	require.Len(t, es, 1)
	assert.Equal(t, otelaudit.ResourceAccess, es[0].Type)
	assert.Equal(t, otelaudit.Failure, es[0].Outcome)
}

// TestPolicyThroughTheProcessor: what of a span's attributes an event
// keeps is the Generator's Policy, the same for the span's own events and
// for its audit.* span events: the default level keeps the known safe
// keys, the full level all but known secrets; Keep and Drop and a rule
// for one tool change that.
func TestPolicyThroughTheProcessor(t *testing.T) {
	content := []attribute.KeyValue{
		attribute.String("gen_ai.input.messages", "secret prompt"),
		attribute.String("gen_ai.output.messages", "answer"),
		attribute.String("gen_ai.system_instructions", "be nice"),
		attribute.String("gen_ai.tool.call.arguments", "{}"),
		attribute.String("gen_ai.tool.call.result", "42"),
	}
	meta := []attribute.KeyValue{attribute.String("node.id", "n"), attribute.String("api.key", "k"), attribute.Int("tokens", 3)}
	path := attribute.String("path", "/x")
	redacted := func(keys ...string) attribute.KeyValue { return attribute.StringSlice(otelaudit.AttrRedacted, keys) }
	allContent := []string{"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
		"gen_ai.tool.call.arguments", "gen_ai.tool.call.result"}
	tests := []struct {
		name      string
		policy    otelaudit.Policy
		want      []attribute.KeyValue
		wantEvent []attribute.KeyValue // of the span event's audit event
	}{
		{"default level", otelaudit.Policy{},
			[]attribute.KeyValue{meta[0], redacted(allContent...)}, []attribute.KeyValue{redacted("gen_ai.input.messages")}},
		{"full level", otelaudit.Policy{Level: otelaudit.LevelFull},
			append(append([]attribute.KeyValue{}, meta...), redacted(allContent...)), []attribute.KeyValue{path, redacted("gen_ai.input.messages")}},
		{"full, keeping named content", otelaudit.Policy{Level: otelaudit.LevelFull, Keep: []string{"gen_ai.input.messages", "gen_ai.tool.call.result"}},
			append(append(append([]attribute.KeyValue{}, meta...), content[0], content[4]), redacted(allContent[1:4]...)),
			[]attribute.KeyValue{content[0], path}},
		{"a pattern keeps no secret", otelaudit.Policy{Keep: []string{"gen_ai.*", "tokens"}},
			[]attribute.KeyValue{meta[0], meta[2], redacted(allContent...)}, []attribute.KeyValue{redacted("gen_ai.input.messages")}},
		{"full, dropping a key", otelaudit.Policy{Level: otelaudit.LevelFull, Drop: []string{"api.key"}},
			[]attribute.KeyValue{meta[0], meta[2], redacted(allContent...)}, []attribute.KeyValue{path, redacted("gen_ai.input.messages")}},
		{"full for one tool only", otelaudit.Policy{Rules: []otelaudit.Rule{{Nodes: []string{"n"}, Level: otelaudit.LevelFull}}},
			append(append([]attribute.KeyValue{}, meta...), redacted(allContent...)), []attribute.KeyValue{path, redacted("gen_ai.input.messages")}},
		{"a rule for another tool", otelaudit.Policy{Rules: []otelaudit.Rule{{Nodes: []string{"m"}, Level: otelaudit.LevelFull}}},
			[]attribute.KeyValue{meta[0], redacted(allContent...)}, []attribute.KeyValue{redacted("gen_ai.input.messages")}},
		{"full for one type only", otelaudit.Policy{Rules: []otelaudit.Rule{{Types: []otelaudit.EventType{otelaudit.ResourceAccess}, Level: otelaudit.LevelFull}}},
			[]attribute.KeyValue{meta[0], redacted(allContent...)}, []attribute.KeyValue{path, redacted("gen_ai.input.messages")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, tr, _ := setupWith(t, []otelaudit.Option{otelaudit.WithPolicy(tt.policy)})
			_, sp := tr.Start(context.Background(), "tool", trace.WithAttributes(append(append([]attribute.KeyValue{}, meta...), content...)...))
			sp.AddEvent("audit.resource_access", trace.WithAttributes(content[0], path))
			sp.End()
			es := g.Events(0)
			require.Len(t, es, 3)
			assert.Equal(t, tt.want, es[0].Attributes)
			assert.Equal(t, tt.wantEvent, es[1].Attributes)
			assert.Equal(t, tt.want, es[2].Attributes)
			redactedEvents := 0
			for _, e := range es {
				if len(e.Attributes) > 0 && e.Attributes[len(e.Attributes)-1].Key == otelaudit.AttrRedacted {
					redactedEvents++
				}
			}
			assert.Equal(t, uint64(redactedEvents), g.Stats().Redacted)
		})
	}
}

func TestAllSpansAndCustomClassifier(t *testing.T) {
	g, tr, _ := setup(t, processor.WithAllSpans())
	_, sp := tr.Start(context.Background(), "db query")
	sp.End()
	assert.Equal(t, []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd}, types(g.Events(0)))

	custom := func(p processor.Phase, s sdktrace.ReadOnlySpan) otelaudit.EventType {
		if p == processor.End && s.Name() == "payment" {
			return "payment_made"
		}
		return processor.DefaultClassifier(p, s)
	}
	g, tr, _ = setup(t, processor.WithClassifier(custom), processor.WithAllSpans())
	_, sp = tr.Start(context.Background(), "payment")
	sp.End()
	_, sp = tr.Start(context.Background(), "wf", trace.WithAttributes(attribute.String("workflow.id", "w")))
	sp.End()
	_, sp = tr.Start(context.Background(), "other")
	sp.End()
	assert.Equal(t, []otelaudit.EventType{"payment_made", otelaudit.WorkflowStart, otelaudit.WorkflowEnd}, types(g.Events(0)),
		"the classifier decides alone; WithAllSpans does not add to it")
}

func TestShutdownStopsAuditing(t *testing.T) {
	g := otelaudit.NewGenerator()
	p := processor.New(g)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	tr := tp.Tracer("t")
	_, sp := tr.Start(context.Background(), "wf", trace.WithAttributes(attribute.String("workflow.id", "w")))
	sp.End()
	require.NoError(t, p.ForceFlush(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()))
	require.NoError(t, p.Shutdown(context.Background()), "a second Shutdown is a no-op")
	_, sp = tr.Start(context.Background(), "wf", trace.WithAttributes(attribute.String("workflow.id", "w")))
	sp.End()
	assert.Equal(t, uint64(2), g.Stats().Recorded)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.ForceFlush(ctx), context.Canceled)
}

func TestNilGeneratorIsSafe(t *testing.T) {
	p := processor.New(nil)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	_, sp := tp.Tracer("t").Start(context.Background(), "wf", trace.WithAttributes(attribute.String("workflow.id", "w")))
	sp.AddEvent("audit.trust_denied")
	assert.NotPanics(t, func() { sp.End() })
	assert.NoError(t, p.ForceFlush(context.Background()))
	assert.NoError(t, tp.Shutdown(context.Background()))
	var nilP *processor.Processor
	assert.NotPanics(t, func() { nilP.OnEnd(nil) })
	assert.NoError(t, nilP.Shutdown(context.Background()))
}

// TestDroppedKeysAreCopiedNowhere: a key the Policy drops is personal data
// or a secret; it must not reach a field either.
func TestDroppedKeysAreCopiedNowhere(t *testing.T) {
	g, tr, _ := setupWith(t, []otelaudit.Option{otelaudit.WithPolicy(otelaudit.Policy{
		Level: otelaudit.LevelFull, Drop: []string{"enduser.id", "gen_ai.agent.id", "audit.resource", "node.id"}})})
	_, sp := tr.Start(context.Background(), "tool", trace.WithAttributes(
		attribute.String("node.id", "n-secret"),
		attribute.String("enduser.id", "alice@example.com"),
		attribute.String("gen_ai.agent.id", "secret-agent"),
		attribute.String("agent.id", "public-agent"),
		attribute.String("audit.resource", "s3://secret"),
		attribute.Int("tokens", 3),
	))
	sp.End()
	es := g.Events(0)
	require.Len(t, es, 2, "a dropped node.id still classifies the span")
	for _, e := range es {
		assert.Equal(t, otelaudit.EventType([]string{"node_start", "node_end"}[e.Seq-1]), e.Type)
		assert.Empty(t, e.HumanOriginID)
		assert.Empty(t, e.NodeID)
		assert.Empty(t, e.Resource)
		assert.Equal(t, "public-agent", e.AgentID, "the next agent key that is not dropped")
		assert.Equal(t, []attribute.KeyValue{attribute.String("agent.id", "public-agent"), attribute.Int("tokens", 3)}, e.Attributes)
	}
}

// TestAuditKeysBecomeFields: the audit.* attributes the processor maps are
// fields, not attributes (the exporter writes them back under the same
// names); an invalid audit.outcome is not a field and stays an attribute.
func TestAuditKeysBecomeFields(t *testing.T) {
	g, tr, _ := setupWith(t, []otelaudit.Option{fullLevel})
	_, sp := tr.Start(context.Background(), "s", trace.WithAttributes(
		attribute.String("audit.event.type", "resource_access"),
		attribute.String("audit.action", "read"),
		attribute.String("audit.resource", "db://users"),
		attribute.String("audit.human_origin.id", "bob"),
		attribute.String("audit.outcome", "failure"),
		attribute.String("keep", "me"),
	))
	sp.End()
	_, sp = tr.Start(context.Background(), "s", trace.WithAttributes(
		attribute.String("audit.event.type", "resource_access"),
		attribute.String("audit.outcome", "so-so"),
	))
	sp.End()
	es := g.Events(0)
	require.Len(t, es, 2)
	e := es[0]
	assert.Equal(t, otelaudit.ResourceAccess, e.Type)
	assert.Equal(t, "read", e.Action)
	assert.Equal(t, "db://users", e.Resource)
	assert.Equal(t, "bob", e.HumanOriginID)
	assert.Equal(t, otelaudit.Failure, e.Outcome)
	assert.Equal(t, []attribute.KeyValue{attribute.String("keep", "me")}, e.Attributes)
	assert.Equal(t, otelaudit.Success, es[1].Outcome)
	assert.Equal(t, []attribute.KeyValue{attribute.String("audit.outcome", "so-so")}, es[1].Attributes)
}

// TestOutcomeRules pins where each event's outcome comes from.
func TestOutcomeRules(t *testing.T) {
	g, tr, _ := setup(t)
	_, sp := tr.Start(context.Background(), "n", trace.WithAttributes(
		attribute.String("node.id", "n"), attribute.String("audit.outcome", "denied")))
	sp.AddEvent("audit.resource_access")                                                                     // own: none → success
	sp.AddEvent("audit.trust_denied")                                                                        // by type → denied
	sp.AddEvent("audit.delegation_used", trace.WithAttributes(attribute.String("audit.outcome", "failure"))) // own
	sp.SetStatus(codes.Error, "x")
	sp.End()
	got := map[otelaudit.EventType]otelaudit.Outcome{}
	for _, e := range g.Events(0) {
		got[e.Type] = e.Outcome
	}
	assert.Equal(t, map[otelaudit.EventType]otelaudit.Outcome{
		otelaudit.NodeStart:      "",                // a start has no outcome, whatever the span says of its end
		otelaudit.ResourceAccess: otelaudit.Success, // span events do not inherit the span's outcome or status
		otelaudit.TrustDenied:    otelaudit.Denied,
		otelaudit.DelegationUsed: otelaudit.Failure,
		otelaudit.NodeError:      otelaudit.Denied, // explicit audit.outcome wins over the status at end
	}, got)
}

// TestRejectionsAreCounted: with a full RejectNew generator the processor
// cannot return an error to anyone; the loss must show in Stats.
func TestRejectionsAreCounted(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(3), otelaudit.WithFullPolicy(otelaudit.RejectNew))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(processor.New(g)))
	for i := 0; i < 5; i++ {
		_, sp := tp.Tracer("t").Start(context.Background(), "n", trace.WithAttributes(attribute.String("node.id", "n")))
		sp.End()
	}
	s := g.Stats()
	assert.Equal(t, uint64(3), s.Recorded)
	assert.Equal(t, uint64(7), s.Rejected)
}

// fullLevel keeps every attribute but known secrets: for the tests that
// look at how the processor maps a span's own attributes.
var fullLevel = otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull})
