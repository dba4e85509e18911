package processor_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// workflow runs one agent workflow: an invoke_agent root, a tool, an
// internal span below the tool that reports a trust denial as a span
// event, and an HTTP call whose attributes come after its start (as
// otelhttp's). 4 spans, 6 audit events.
func workflow(tr trace.Tracer, ctx context.Context) trace.TraceID {
	ctx, wf := tr.Start(ctx, "invoke_agent a", trace.WithAttributes(
		kv("gen_ai.operation.name", "invoke_agent"), kv("gen_ai.agent.id", "a"), kv("enduser.id", "u")))
	tctx, tool := tr.Start(ctx, "execute_tool t", trace.WithAttributes(kv("gen_ai.operation.name", "execute_tool")))
	_, check := tr.Start(tctx, "policy check")
	check.AddEvent("audit.trust_denied", trace.WithAttributes(kv("audit.resource", "payments")))
	check.End()
	_, c := tr.Start(tctx, "HTTP GET", trace.WithSpanKind(trace.SpanKindClient))
	c.SetAttributes(kv("http.request.method", "GET"), kv("url.full", "https://a.example/x"), attribute.Int("http.response.status_code", 200))
	c.End()
	tool.End()
	wf.End()
	return wf.SpanContext().TraceID()
}

var workflowEvents = []otelaudit.EventType{
	otelaudit.WorkflowStart, otelaudit.NodeStart, otelaudit.TrustDenied, otelaudit.ResourceAccess, otelaudit.NodeEnd, otelaudit.WorkflowEnd,
}

// TestSamplerCompletesTheTrail: under ParentBased(TraceIDRatioBased(0.1)),
// every workflow is in the trail, and the exporter gets the traces the
// ratio samples, each whole. Without the Sampler the trail has only those.
func TestSamplerCompletesTheTrail(t *testing.T) {
	const n = 200
	base := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))
	for _, wrap := range []bool{true, false} {
		g := otelaudit.NewGenerator()
		p := processor.New(g)
		sampler := base
		if wrap {
			sampler = p.Sampler(base)
		}
		exp := tracetest.NewInMemoryExporter()
		tr := newProvider(t, p, sdktrace.WithSampler(sampler), sdktrace.WithSyncer(exp))
		var audited, sampled int
		for range n {
			id := workflow(tr, context.Background())
			if len(g.EventsByTrace(id)) == len(workflowEvents) {
				audited++
			}
		}
		perTrace := map[trace.TraceID]int{}
		for _, s := range exp.GetSpans() {
			perTrace[s.SpanContext.TraceID()]++
		}
		for id, spans := range perTrace {
			assert.Equal(t, 4, spans, "trace %s exported whole", id)
			sampled++
		}
		// 10% of 200: 20 expected; outside [5, 45] has odds below 1e-6.
		assert.GreaterOrEqual(t, sampled, 5)
		assert.LessOrEqual(t, sampled, 45)
		if wrap {
			assert.Equal(t, n, audited, "every workflow audited")
			assert.Equal(t, uint64(n*len(workflowEvents)), g.Stats().Recorded)
			assert.Zero(t, processor.OpenSpans(p))
		} else {
			assert.Equal(t, sampled, audited, "without the Sampler, the trail is what the sampler keeps")
		}
	}
}

// TestSamplerIgnoresUnsampledTraceparent: a caller whose traceparent ends
// in -00 cannot switch auditing off, with the SDK's default sampler (nil
// base) or any other; nothing reaches the exporter.
func TestSamplerIgnoresUnsampledTraceparent(t *testing.T) {
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{9}, SpanID: trace.SpanID{9}, Remote: true})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), remote)
	for _, base := range []sdktrace.Sampler{nil, sdktrace.ParentBased(sdktrace.TraceIDRatioBased(1)), sdktrace.NeverSample()} {
		g := otelaudit.NewGenerator()
		p := processor.New(g)
		exp := tracetest.NewInMemoryExporter()
		tr := newProvider(t, p, sdktrace.WithSampler(p.Sampler(base)), sdktrace.WithSyncer(exp))
		id := workflow(tr, ctx)
		require.Equal(t, remote.TraceID(), id)
		assert.Equal(t, workflowEvents, types(g.EventsByTrace(id)))
		assert.Empty(t, exp.GetSpans())
	}
}

// TestSamplerLeavesTheRestDropped: spans nobody audits stay dropped, which
// is what the Sampler saves over sdktrace.AlwaysRecord.
func TestSamplerLeavesTheRestDropped(t *testing.T) {
	g := otelaudit.NewGenerator()
	p := processor.New(g)
	tr := newProvider(t, p, sdktrace.WithSampler(p.Sampler(sdktrace.NeverSample())))
	ctx := context.Background()
	recording := func(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, bool) {
		ctx, s := tr.Start(ctx, name, opts...)
		defer s.End()
		return ctx, s.IsRecording()
	}
	pctx, rec := recording(ctx, "background job")
	assert.False(t, rec, "an internal span outside audited work")
	_, rec = recording(pctx, "child of it")
	assert.False(t, rec)
	_, rec = recording(ctx, "GET /healthz", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(kv("http.request.method", "GET")))
	assert.False(t, rec, "a server span, without WithServerSpans")
	_, rec = recording(pctx, "HTTP GET", trace.WithSpanKind(trace.SpanKindClient))
	assert.True(t, rec, "a client span: its attributes come later")
	_, rec = recording(ctx, "typed", trace.WithAttributes(kv("audit.event.type", "delegation_used")))
	assert.True(t, rec, "audited by its start attributes")

	// Typed only after its start, outside any audited span: not recorded,
	// as documented.
	_, late := tr.Start(ctx, "late")
	late.SetAttributes(kv("audit.event.type", "delegation_used"))
	late.End()
	// Inside an audited workflow, the same is recorded.
	wctx, wf := tr.Start(ctx, "wf", trace.WithAttributes(kv("workflow.id", "w")))
	_, inner := tr.Start(wctx, "late inside")
	inner.SetAttributes(kv("audit.event.type", "delegation_used"))
	inner.End()
	wf.End()
	var got []string
	for _, e := range g.EventsByType("delegation_used") {
		got = append(got, e.Action)
	}
	assert.Equal(t, []string{"typed", "late inside"}, got)

	g2 := otelaudit.NewGenerator()
	p2 := processor.New(g2, processor.WithServerSpans())
	tr2 := newProvider(t, p2, sdktrace.WithSampler(p2.Sampler(sdktrace.NeverSample())))
	_, s := tr2.Start(ctx, "GET /x", trace.WithSpanKind(trace.SpanKindServer))
	assert.True(t, s.IsRecording(), "a server span, with WithServerSpans")
	s.End()
}

// TestSamplerKeepsBaseDecisionAndTracestate: only Drop changes, to
// RecordOnly, with base's tracestate and attributes; so what propagates
// downstream is what base decided (sdktrace.AlwaysRecord would put the
// parent's tracestate instead).
func TestSamplerKeepsBaseDecisionAndTracestate(t *testing.T) {
	p := processor.New(otelaudit.NewGenerator())
	ts, err := trace.ParseTraceState("ot=th:fd70a4")
	require.NoError(t, err)
	parentTS, err := trace.ParseTraceState("vendor=1")
	require.NoError(t, err)
	parent := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, Remote: true, TraceState: parentTS}))
	audited := sdktrace.SamplingParameters{ParentContext: parent, TraceID: trace.TraceID{1}, Name: "tool",
		Attributes: []attribute.KeyValue{kv("node.id", "n")}}
	plain := sdktrace.SamplingParameters{ParentContext: parent, TraceID: trace.TraceID{1}, Name: "plain"}
	for _, d := range []sdktrace.SamplingDecision{sdktrace.Drop, sdktrace.RecordOnly, sdktrace.RecordAndSample} {
		base := fixed{sdktrace.SamplingResult{Decision: d, Tracestate: ts, Attributes: []attribute.KeyValue{kv("sampler", "x")}}}
		s := p.Sampler(base)
		r := s.ShouldSample(audited)
		want := d
		if d == sdktrace.Drop {
			want = sdktrace.RecordOnly
		}
		assert.Equal(t, want, r.Decision)
		assert.Equal(t, ts, r.Tracestate)
		assert.Equal(t, []attribute.KeyValue{kv("sampler", "x")}, r.Attributes)
		assert.Equal(t, d, s.ShouldSample(plain).Decision, "an unaudited span keeps base's decision")
	}
	assert.Equal(t, "otelaudit.Sampler{fixed}", p.Sampler(fixed{}).Description())
	assert.Equal(t, "otelaudit.Sampler{"+sdktrace.ParentBased(sdktrace.AlwaysSample()).Description()+"}", p.Sampler(nil).Description())

	require.NoError(t, p.Shutdown(context.Background()))
	assert.Equal(t, sdktrace.Drop, p.Sampler(fixed{}).ShouldSample(audited).Decision, "after Shutdown, base decides")
}

// TestSamplerRecordsEverythingForAClassifier: a Classifier needs the span;
// the Sampler cannot know what it will say, so it records every span.
func TestSamplerRecordsEverythingForAClassifier(t *testing.T) {
	for _, opt := range []processor.Option{processor.WithClassifier(processor.DefaultClassifier), processor.WithAllSpans()} {
		p := processor.New(otelaudit.NewGenerator(), opt)
		tr := newProvider(t, p, sdktrace.WithSampler(p.Sampler(sdktrace.NeverSample())))
		_, s := tr.Start(context.Background(), "anything")
		assert.True(t, s.IsRecording())
		assert.False(t, s.SpanContext().IsSampled())
		s.End()
	}
}

type fixed struct{ r sdktrace.SamplingResult }

func (f fixed) ShouldSample(sdktrace.SamplingParameters) sdktrace.SamplingResult { return f.r }
func (fixed) Description() string                                                { return "fixed" }
