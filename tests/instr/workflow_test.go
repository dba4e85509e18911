package instr

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// want is one expected audit event of a workflow. call names the
// instrumentation's span the event must come from (its name); empty for
// the runtime's own spans.
type want struct {
	typ      otelaudit.EventType
	action   string
	resource string
	outcome  otelaudit.Outcome
	node     string
	call     string
}

// expected is the trail of one workflow run by runtime.workflow, in order.
func (r *runtime) expected() []want {
	rs := func(action, resource string, o otelaudit.Outcome, node, call string) want {
		return want{otelaudit.ResourceAccess, action, resource, o, node, call}
	}
	out := []want{{typ: otelaudit.WorkflowStart, action: "invoke_agent procurement-agent"}}
	tool := func(node string, calls ...want) {
		out = append(out, want{typ: otelaudit.NodeStart, action: "execute_tool " + node, node: node})
		out = append(out, calls...)
		out = append(out, want{typ: otelaudit.NodeEnd, action: "execute_tool " + node, outcome: otelaudit.Success, node: node})
	}
	const check = "grpc.health.v1.Health/Check"
	tool("catalog", rs("GET", r.web+"/catalog", otelaudit.Success, "catalog", "HTTP GET"))
	tool("vendor", rs("GET", r.web+"/vendors/acme", otelaudit.Denied, "vendor", "HTTP GET"))
	tool("admin", rs("GET", r.web+"/admin", otelaudit.Denied, "admin", "HTTP GET"))
	tool("report", rs("POST", r.web+"/reports", otelaudit.Error, "report", "HTTP POST"))
	tool("legacy", rs("GET", r.refused+"/orders", otelaudit.Error, "legacy", "HTTP GET"))
	tool("stock",
		rs("INSERT", "sqlite:inventory/items", otelaudit.Success, "stock", "sql.conn.exec"),
		rs("SELECT", "sqlite:inventory/items", otelaudit.Success, "stock", "sql.conn.query"),
		rs("SELECT", "sqlite:inventory/missing", otelaudit.Error, "stock", "sql.conn.query"))
	tool("services",
		rs("Check", check, otelaudit.Success, "services", check),
		rs("Check", check, otelaudit.Denied, "services", check),
		rs("Check", check, otelaudit.Denied, "services", check),
		rs("Check", check, otelaudit.Error, "services", check))
	return append(out, want{typ: otelaudit.WorkflowError, action: "invoke_agent procurement-agent", outcome: otelaudit.Error})
}

// assertTrail checks every event of the run's trace: type, action,
// resource, outcome, span and parent, agent, user, workflow and node; and
// that each call's event comes from the instrumentation's client span,
// a child of the tool that made the call.
func (r *runtime) assertTrail(t *testing.T, got run, user, workflowID string) {
	t.Helper()
	spans := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range r.recorded.Ended() {
		if s.SpanContext().TraceID() == got.trace {
			spans[s.SpanContext().SpanID()] = s
		}
	}
	es := r.g.EventsByTrace(got.trace)
	wants := r.expected()
	require.Len(t, es, len(wants), "trace %s: %v", got.trace, summary(es))
	for i, w := range wants {
		e := es[i]
		where := fmt.Sprintf("event %d (%s %s)", i, w.typ, w.action)
		assert.Equal(t, w.typ, e.Type, where)
		assert.Equal(t, w.action, e.Action, where)
		assert.Equal(t, w.resource, e.Resource, where)
		assert.Equal(t, w.outcome, e.Outcome, where)
		assert.Equal(t, "procurement-agent", e.AgentID, where)
		assert.Equal(t, user, e.HumanOriginID, where)
		assert.Equal(t, workflowID, e.WorkflowID, where)
		assert.Equal(t, w.node, e.NodeID, where)
		assert.NotContains(t, e.Resource+e.Action, "s3cr3t", where)
		switch {
		case w.call != "":
			s, ok := spans[e.SpanID]
			if assert.True(t, ok, where) {
				assert.Equal(t, w.call, s.Name(), where)
				assert.Equal(t, trace.SpanKindClient, s.SpanKind(), where)
			}
			assert.Equal(t, got.tools[w.node], e.ParentSpanID, "%s: the enclosing tool", where)
		case w.node != "":
			assert.Equal(t, got.tools[w.node], e.SpanID, where)
			assert.Equal(t, got.root, e.ParentSpanID, where)
		default:
			assert.Equal(t, got.root, e.SpanID, where)
		}
	}
}

func summary(es []otelaudit.Event) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s %s %s %s", e.Type, e.Action, e.Resource, e.Outcome))
	}
	return out
}

// TestWorkflowOfRealCalls: a workflow of tool calls through the real
// otelhttp, otelsql over SQLite and otelgrpc, with a 403, a 401, a 500, a
// refused connection, a failing query, PermissionDenied, Unauthenticated
// and Internal: every event as expected, and nothing from the servers'
// spans or the driver's bookkeeping (sql.rows, sql.conn.reset_session).
func TestWorkflowOfRealCalls(t *testing.T) {
	r := newRuntime(t, sdktrace.AlwaysSample())
	got := r.workflow(t, context.Background(), "po-1", "alice")
	r.assertTrail(t, got, "alice", "po-1")

	var kinds = map[trace.SpanKind]int{}
	var names = map[string]bool{}
	for _, s := range r.recorded.Ended() {
		if s.SpanContext().TraceID() == got.trace {
			kinds[s.SpanKind()]++
			names[s.Name()] = true
		}
	}
	assert.Positive(t, kinds[trace.SpanKindServer], "the servers are instrumented too, and not audited")
	assert.True(t, names["sql.rows"], "the driver's bookkeeping spans ran, and are not audited")
	assert.Zero(t, r.g.Stats().Rejected)
	assert.Zero(t, r.g.Stats().Truncated)
}

// TestTwoHundredWorkflowsUnderRatioSampling: under
// ParentBased(TraceIDRatioBased(0.1)) wrapped by the Sampler, all 200
// workflows are in the trail, in full; the trace exporter gets about 10% of
// the traces, each whole (every span the trace recorded), and nothing of
// the others.
func TestTwoHundredWorkflowsUnderRatioSampling(t *testing.T) {
	r := newRuntime(t, sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1)))
	const n = 200
	runs := make([]run, n)
	for i := range runs {
		runs[i] = r.workflow(t, context.Background(), fmt.Sprint("po-", i), "alice")
	}
	recorded, exported := map[trace.TraceID]int{}, map[trace.TraceID]int{}
	for _, s := range r.recorded.Ended() {
		recorded[s.SpanContext().TraceID()]++
	}
	for _, s := range r.exported.GetSpans() {
		exported[s.SpanContext.TraceID()]++
	}
	sampled := 0
	for i, got := range runs {
		r.assertTrail(t, got, "alice", fmt.Sprint("po-", i))
		if exported[got.trace] > 0 {
			sampled++
			assert.Equal(t, recorded[got.trace], exported[got.trace], "a sampled trace is exported whole")
		}
	}
	t.Logf("%d of %d workflows audited; %d traces exported", len(runs), n, sampled)
	// 10% of 200 is 20; outside [5, 45] has odds below one in a million.
	assert.GreaterOrEqual(t, sampled, 5)
	assert.LessOrEqual(t, sampled, 45)
}

// TestUnsampledTraceparentIsAuditedInFull: the runtime serves its agent
// over otelhttp; a caller sends traceparent flags 00 and its user in W3C
// Baggage. With the SDK's default sampler (nil base: ParentBased of
// AlwaysSample) the workflow is audited in full, with the caller's user
// on every event, and exported to nobody.
func TestUnsampledTraceparentIsAuditedInFull(t *testing.T) {
	r := newRuntime(t, nil)
	runs := make(chan run, 1)
	agent := newAgentServer(t, r, runs)

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, err := http.NewRequest("POST", agent+"/run", nil)
	require.NoError(t, err)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-00")
	req.Header.Set("baggage", "enduser.id=bob,other=1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	got := <-runs

	assert.Equal(t, traceID, got.trace.String(), "the caller's trace")
	r.assertTrail(t, got, "bob", "po-remote")
	for _, s := range r.exported.GetSpans() {
		assert.NotEqual(t, got.trace, s.SpanContext.TraceID(), "exported to nobody: %s", s.Name)
	}
}

// newAgentServer serves the agent runtime over otelhttp: each request
// runs one workflow (without enduser.id: the caller's Baggage has it).
func newAgentServer(t *testing.T, r *runtime, runs chan<- run) string {
	t.Helper()
	srv := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		runs <- r.workflow(t, req.Context(), "po-remote", "")
		w.WriteHeader(http.StatusNoContent)
	}), "agent", otelhttp.WithTracerProvider(r.tp), otelhttp.WithPropagators(propagators)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestServerSpans: with WithServerSpans the servers' own spans (otelhttp's
// handler, otelgrpc's server handler) are resource_access too: the 403
// and 401 the service answered are denials in its trail, PermissionDenied
// and Unauthenticated as well, with the path or RPC method as resource;
// and the user the runtime put in Baggage reaches them through the real
// propagation.
func TestServerSpans(t *testing.T) {
	r := newRuntime(t, sdktrace.ParentBased(sdktrace.NeverSample()), processor.WithServerSpans())
	bag, err := baggage.Parse("enduser.id=carol")
	require.NoError(t, err)
	got := r.workflow(t, baggage.ContextWithBaggage(context.Background(), bag), "po-2", "")
	// A server span ends on the server's goroutine, after the response
	// may have reached the client: wait for all eight.
	var inbound []string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		server := map[trace.SpanID]bool{}
		for _, s := range r.recorded.Ended() {
			if s.SpanContext().TraceID() == got.trace && s.SpanKind() == trace.SpanKindServer {
				server[s.SpanContext().SpanID()] = true
			}
		}
		inbound = inbound[:0]
		for _, e := range r.g.EventsByTrace(got.trace) {
			assert.Equal(c, "carol", e.HumanOriginID, "%s %s", e.Type, e.Action)
			if server[e.SpanID] {
				inbound = append(inbound, fmt.Sprintf("%s %s %s %s", e.Type, e.Action, e.Resource, e.Outcome))
			}
		}
		assert.Len(c, inbound, 8)
	}, 5*time.Second, 10*time.Millisecond)
	assert.ElementsMatch(t, []string{
		"resource_access GET " + r.web + "/catalog success",
		"resource_access GET " + r.web + "/vendors/acme denied",
		"resource_access GET " + r.web + "/admin denied",
		"resource_access POST " + r.web + "/reports error",
		"resource_access Check grpc.health.v1.Health/Check success",
		"resource_access Check grpc.health.v1.Health/Check denied",
		"resource_access Check grpc.health.v1.Health/Check denied",
		"resource_access Check grpc.health.v1.Health/Check error",
	}, inbound)
}
