package auditz

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// fullTrail fills a Generator at its defaults as a busy runtime would,
// until the byte budget holds it full: 100,000 events of about 3 KB (an
// HTTP call's attributes with a long URL, which the default level keeps),
// nine in ten of one type, half of them of one agent, two in seven of one
// trace (some 10,000 of those held at the end).
func fullTrail(tb testing.TB) (*otelaudit.Generator, trace.TraceID) {
	tb.Helper()
	g := otelaudit.NewGenerator()
	big := trace.TraceID{0xb1, 0x9}
	path := strings.Repeat("/segment", 180)
	ctx := context.Background()
	for i := range otelaudit.DefaultCapacity {
		id := trace.TraceID{byte(i), byte(i >> 8), byte(i >> 16), 1}
		if i%7 < 2 {
			id = big
		}
		typ := otelaudit.NodeEnd
		if i%10 == 9 {
			typ = otelaudit.TrustVerification
		}
		_, err := g.Append(ctx, otelaudit.Event{
			Type: typ, TraceID: id, SpanID: trace.SpanID{byte(i), byte(i >> 8), 1},
			AgentID: "agent-" + strconv.Itoa(i%2), HumanOriginID: "user-" + strconv.Itoa(i%10), WorkflowID: "wf",
			NodeID: "search", Action: "GET", Resource: "https://api.example/v1", Outcome: otelaudit.Success,
			Duration: time.Millisecond, Attributes: []attribute.KeyValue{
				attribute.String("http.request.method", "GET"), attribute.String("url.full", "https://api.example"+path),
				attribute.String("server.address", "api.example"), attribute.Int("http.response.status_code", 200),
				attribute.String("gen_ai.tool.call.id", "call-"+strconv.Itoa(i)),
			},
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	_ = g.EventsByType(otelaudit.TrustVerification) // indexed and sealed, as after any query
	return g, big
}

// fullTrailRequests are the requests that decoded a whole index before
// queries took a limit.
func fullTrailRequests(big trace.TraceID) []string {
	return []string{
		"/api/events?type=" + string(otelaudit.NodeEnd) + "&limit=1",
		"/api/events?agent=agent-1",
		"/api/events?user=user-4&limit=1000",
		"/api/trace/" + big.String(),
	}
}

// BenchmarkFullTrail: the requests that walk an index, on a full default
// trail (fullTrail): a type with a limit of one, an agent's newest 100, a
// user's newest 1,000, a 10,000-event trace's first 1,000. The handler is
// called directly, as in BenchmarkTrace1000.
func BenchmarkFullTrail(b *testing.B) {
	g, big := fullTrail(b)
	h := NewHandler(g)
	b.Logf("held: %+v", g.Stats())
	for _, target := range fullTrailRequests(big) {
		name := strings.TrimPrefix(target, "/api/")
		if i := strings.IndexAny(name, "/"); i >= 0 && strings.HasPrefix(name, "trace") {
			name = "trace"
		}
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.n = 0
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(w.n), "B/resp")
		})
	}
}
