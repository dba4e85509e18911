package tests

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// otlpReceiver is an in-process OTLP/gRPC trace endpoint, standing in for a
// Collector's otlp receiver: it keeps every request it is sent.
type otlpReceiver struct {
	coltracepb.UnimplementedTraceServiceServer

	mu   sync.Mutex
	reqs []*coltracepb.ExportTraceServiceRequest
}

func (r *otlpReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (r *otlpReceiver) requests() []*coltracepb.ExportTraceServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*coltracepb.ExportTraceServiceRequest(nil), r.reqs...)
}

// startOTLPReceiver serves a otlpReceiver on a free loopback port until the
// test ends, and returns it with its address.
func startOTLPReceiver(t *testing.T) (*otlpReceiver, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	rcv := &otlpReceiver{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, rcv)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis) // returns once Stop has been called
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})
	return rcv, lis.Addr().String()
}

// newOTLPReplayer returns an Exporter replaying over OTLP/gRPC to addr, shut
// down when the test ends. Retries are off so that a failure shows at once.
func newOTLPReplayer(t *testing.T, addr string, opts ...exporter.Option) *exporter.Exporter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	otlp, err := otlptracegrpc.New(ctx,
		otlptracegrpc.WithEndpoint(addr),
		otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
	)
	require.NoError(t, err)
	x := exporter.New(otlp, opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = x.Shutdown(ctx) // the test may have shut it down already
	})
	return x
}

func otlpTraceID(t *testing.T, h string) trace.TraceID {
	t.Helper()
	id, err := trace.TraceIDFromHex(h)
	require.NoError(t, err)
	return id
}

func otlpSpanID(t *testing.T, h string) trace.SpanID {
	t.Helper()
	id, err := trace.SpanIDFromHex(h)
	require.NoError(t, err)
	return id
}

// otlpSpan is one span as the receiver got it, with the resource and scope
// it was grouped under.
type otlpSpan struct {
	span    *tracepb.Span
	service string // service.name of the resource
	scope   *commonpb.InstrumentationScope
}

func otlpFlatten(reqs []*coltracepb.ExportTraceServiceRequest) map[trace.SpanID]otlpSpan {
	out := map[trace.SpanID]otlpSpan{}
	for _, req := range reqs {
		for _, rs := range req.GetResourceSpans() {
			service := otlpStringAttr(rs.GetResource().GetAttributes(), "service.name")
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					out[trace.SpanID(s.GetSpanId())] = otlpSpan{span: s, service: service, scope: ss.GetScope()}
				}
			}
		}
	}
	return out
}

func otlpStringAttr(kvs []*commonpb.KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

func otlpAttrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = v.IntValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = v.BoolValue
		default:
			m[kv.GetKey()] = kv.GetValue().String()
		}
	}
	return m
}

func TestOTLPReplayKeepsTraceContextResourceAndScope(t *testing.T) {
	rcv, addr := startOTLPReceiver(t)

	traceA := otlpTraceID(t, "4bf92f3577b34da6a3ce929d0e0e4736")
	traceB := otlpTraceID(t, "0af7651916cd43dd8448eb211c80319c")
	nodeSpan := otlpSpanID(t, "00f067aa0ba902b7")
	trustSpan := otlpSpanID(t, "b7ad6b7169203331")
	fileSpan := otlpSpanID(t, "53995c3f42cd8ad8")

	checkout := otelaudit.NewSource(
		resource.NewSchemaless(attribute.String("service.name", "checkout")),
		instrumentation.Scope{Name: "example.com/runtime", Version: "1.4.0"})
	billing := otelaudit.NewSource(
		resource.NewSchemaless(attribute.String("service.name", "billing")),
		instrumentation.Scope{Name: "example.com/trust", Version: "2.0.0"})
	replayer := resource.NewSchemaless(attribute.String("service.name", "audit-replayer"))

	t0 := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	events := []otelaudit.Event{
		{Seq: 1, Type: otelaudit.NodeStart, Time: t0, TraceID: traceA, SpanID: nodeSpan,
			AgentID: "planner", WorkflowID: "wf-9", NodeID: "fetch", Source: checkout},
		{Seq: 2, Type: otelaudit.NodeEnd, Time: t0.Add(300 * time.Millisecond), Duration: 300 * time.Millisecond,
			TraceID: traceA, SpanID: nodeSpan, AgentID: "planner", WorkflowID: "wf-9", NodeID: "fetch",
			Outcome: otelaudit.Success, Source: checkout,
			Attributes: []attribute.KeyValue{attribute.String("gen_ai.tool.name", "http_get"), attribute.Int("retries", 1)}},
		{Seq: 3, Type: otelaudit.TrustDenied, Time: t0.Add(time.Second), TraceID: traceB, SpanID: trustSpan,
			AgentID: "planner", HumanOriginID: "alice", Action: "delegate", Outcome: otelaudit.Denied, Source: billing},
		{Seq: 4, Type: otelaudit.ResourceAccess, Time: t0.Add(2 * time.Second), TraceID: traceB, SpanID: fileSpan,
			Action: "read", Resource: "/srv/data/report.csv", Outcome: otelaudit.Success},
		// Recorded outside any trace: replayed in a derived trace, as a root.
		{Seq: 5, Type: otelaudit.DelegationUsed, Time: t0.Add(3 * time.Second), AgentID: "planner"},
	}

	x := newOTLPReplayer(t, addr, exporter.WithResource(replayer))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, x.Replay(ctx, events))
	require.NoError(t, x.Shutdown(ctx))

	reqs := rcv.requests()
	require.Len(t, reqs, 1, "five events fit one batch, so one OTLP request")

	// Grouping: one ResourceSpans per resource, each holding one ScopeSpans
	// for its scope, with the spans of that resource and scope in it.
	type group struct {
		scope, version string
		spans          int
	}
	groups := map[string]group{}
	for _, rs := range reqs[0].GetResourceSpans() {
		service := otlpStringAttr(rs.GetResource().GetAttributes(), "service.name")
		require.Len(t, rs.GetScopeSpans(), 1, "resource %s", service)
		ss := rs.GetScopeSpans()[0]
		_, dup := groups[service]
		require.False(t, dup, "resource %s split over several ResourceSpans", service)
		groups[service] = group{ss.GetScope().GetName(), ss.GetScope().GetVersion(), len(ss.GetSpans())}
	}
	assert.Equal(t, map[string]group{
		"checkout":       {"example.com/runtime", "1.4.0", 2},
		"billing":        {"example.com/trust", "2.0.0", 1},
		"audit-replayer": {exporter.ScopeName, "", 2},
	}, groups)

	got := otlpFlatten(reqs)
	require.Len(t, got, len(events))
	for _, e := range events {
		r, ok := got[exporter.SpanID(e)]
		require.True(t, ok, "no span for event seq %d", e.Seq)
		s := r.span

		wantTrace := e.TraceID
		if !e.TraceID.IsValid() {
			wantTrace = exporter.TraceID(e)
			require.True(t, wantTrace.IsValid())
		}
		assert.Equal(t, wantTrace[:], s.GetTraceId(), "seq %d: trace ID", e.Seq)
		if e.SpanID.IsValid() {
			assert.Equal(t, e.SpanID[:], s.GetParentSpanId(), "seq %d: parent", e.Seq)
		} else {
			assert.Empty(t, s.GetParentSpanId(), "seq %d: want a root span", e.Seq)
		}
		assert.Equal(t, "audit."+string(e.Type), s.GetName())
		assert.Equal(t, tracepb.Span_SPAN_KIND_INTERNAL, s.GetKind())
		assert.Equal(t, uint64(e.Time.UnixNano()), s.GetEndTimeUnixNano())
		assert.Equal(t, uint64(e.Time.Add(-e.Duration).UnixNano()), s.GetStartTimeUnixNano())

		attrs := otlpAttrMap(s.GetAttributes())
		assert.Equal(t, string(e.Type), attrs["audit.event.type"], "seq %d", e.Seq)
		assert.Equal(t, int64(e.Seq), attrs["audit.event.seq"], "seq %d", e.Seq)
		for key, val := range map[string]string{
			"audit.outcome":         string(e.Outcome),
			"audit.agent.id":        e.AgentID,
			"audit.human_origin.id": e.HumanOriginID,
			"audit.workflow.id":     e.WorkflowID,
			"audit.node.id":         e.NodeID,
			"audit.action":          e.Action,
			"audit.resource":        e.Resource,
		} {
			if val == "" {
				assert.NotContains(t, attrs, key, "seq %d", e.Seq)
			} else {
				assert.Equal(t, val, attrs[key], "seq %d: %s", e.Seq, key)
			}
		}
		for _, kv := range e.Attributes {
			assert.Equal(t, kv.Value.AsInterface(), attrs[string(kv.Key)], "seq %d: %s", e.Seq, kv.Key)
		}
		// The audit keys come first, in the documented order.
		require.GreaterOrEqual(t, len(s.GetAttributes()), 2)
		assert.Equal(t, "audit.event.type", s.GetAttributes()[0].GetKey())
		assert.Equal(t, "audit.event.seq", s.GetAttributes()[1].GetKey())

		wantService, wantScope := "audit-replayer", exporter.ScopeName
		if e.Source != nil {
			wantService = ""
			for _, kv := range e.Source.Resource().Attributes() {
				if kv.Key == "service.name" {
					wantService = kv.Value.AsString()
				}
			}
			wantScope = e.Source.Scope().Name
		}
		assert.Equal(t, wantService, r.service, "seq %d: resource", e.Seq)
		assert.Equal(t, wantScope, r.scope.GetName(), "seq %d: scope", e.Seq)
	}

	byName := map[string]*tracepb.Span{}
	for _, r := range got {
		byName[r.span.GetName()] = r.span
	}
	assert.Equal(t, tracepb.Status_STATUS_CODE_UNSET, byName["audit.node_start"].GetStatus().GetCode())
	assert.Equal(t, tracepb.Status_STATUS_CODE_OK, byName["audit.node_end"].GetStatus().GetCode())
	assert.Equal(t, tracepb.Status_STATUS_CODE_ERROR, byName["audit.trust_denied"].GetStatus().GetCode())
	assert.Equal(t, "denied", byName["audit.trust_denied"].GetStatus().GetMessage())
}

func TestOTLPReplaySendsOneRequestPerBatch(t *testing.T) {
	rcv, addr := startOTLPReceiver(t)
	traceID := otlpTraceID(t, "4bf92f3577b34da6a3ce929d0e0e4736")
	spanID := otlpSpanID(t, "00f067aa0ba902b7")
	t0 := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

	events := make([]otelaudit.Event, 5)
	for i := range events {
		events[i] = otelaudit.Event{Seq: uint64(i + 1), Type: otelaudit.ResourceAccess,
			Time: t0.Add(time.Duration(i) * time.Second), TraceID: traceID, SpanID: spanID}
	}

	x := newOTLPReplayer(t, addr, exporter.WithBatchSize(2))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, x.Replay(ctx, events))
	// Deterministic IDs: a second replay sends the very same spans again.
	require.NoError(t, x.Replay(ctx, events))

	var sizes []int
	for _, req := range rcv.requests() {
		n := 0
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				n += len(ss.GetSpans())
			}
		}
		sizes = append(sizes, n)
	}
	assert.Equal(t, []int{2, 2, 1, 2, 2, 1}, sizes)
	reqs := rcv.requests()
	assert.Len(t, otlpFlatten(reqs[:3]), len(events))
	assert.Equal(t, otlpFlatten(reqs[:3]), otlpFlatten(reqs[3:]), "a replay must reproduce the same spans")
}

func TestOTLPReplayToNothingFailsWithinDeadline(t *testing.T) {
	// Take a free port and close it again, so that nothing listens there.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())

	x := newOTLPReplayer(t, addr)
	const deadline = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	events := []otelaudit.Event{{Seq: 1, Type: otelaudit.WorkflowStart, Time: time.Now(),
		TraceID: otlpTraceID(t, "4bf92f3577b34da6a3ce929d0e0e4736"), SpanID: otlpSpanID(t, "00f067aa0ba902b7")}}
	start := time.Now()
	err = x.Replay(ctx, events)
	elapsed := time.Since(start)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "after 0 of 1 events")
	// A little slack over the deadline for scheduling on a loaded machine.
	assert.Less(t, elapsed, deadline+time.Second, "Replay must not outlive its context")
}
