package auditz

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// The handler's own cost, beside the anchor: a bare EventsByTrace of the
// same 1,000-event trace in the same run. x-bare is ns/op divided by the
// bare call's ns/op, as the bare sub-benchmark measured it just before (or
// as calibrated at setup, when -bench leaves it out).

const (
	benchTraceEvents = 1000
	benchOtherEvents = 9000
)

var bench struct {
	once   sync.Once
	g      *otelaudit.Generator
	id     trace.TraceID
	bareNs float64
}

func benchSetup(b *testing.B) {
	bench.once.Do(func() {
		g := otelaudit.NewGenerator()
		bench.id = trace.TraceID{0xbe, 0x4c, 1}
		ctx := context.Background()
		// The trace's events interleave with other traces', as a runtime
		// running workflows in parallel records them.
		for i := range benchTraceEvents + benchOtherEvents {
			id := bench.id
			if i%10 != 0 {
				id = trace.TraceID{0x07, byte(i), byte(i >> 8)}
			}
			_, err := g.Record(ctx, otelaudit.Event{
				Type: otelaudit.NodeEnd, TraceID: id, SpanID: trace.SpanID{byte(i), 1},
				ParentSpanID: trace.SpanID{1}, AgentID: "planner-agent", HumanOriginID: "alice",
				WorkflowID: "trip-planner", NodeID: "search", Action: "execute_tool search_flights",
				Resource: "https://flights.example/api", Outcome: otelaudit.Success,
				Duration: time.Duration(i) * time.Microsecond,
				Attributes: []attribute.KeyValue{
					attribute.String("gen_ai.operation.name", "execute_tool"),
					attribute.String("gen_ai.tool.name", "search_flights"),
					attribute.Int64("attempt", int64(i%3)),
					attribute.String("policy", "default"),
				},
			})
			if err != nil {
				panic(err)
			}
		}
		bench.g = g
		if n := len(g.EventsByTrace(bench.id)); n != benchTraceEvents {
			panic(fmt.Sprintf("bench trace has %d events", n))
		}
		bench.bareNs = bareNsPerOp(g, bench.id)
	})
	if bench.g == nil {
		b.Fatal("benchmark setup failed")
	}
}

// bareNsPerOp times the anchor once per process, for the x-bare ratios:
// the median of a few batches, because the machine is noisy. (Calling
// testing.Benchmark from inside a benchmark would deadlock.)
func bareNsPerOp(g *otelaudit.Generator, id trace.TraceID) float64 {
	const batches, perBatch = 9, 50
	ns := make([]float64, batches)
	for i := range ns {
		start := time.Now()
		for range perBatch {
			_ = g.EventsByTrace(id)
		}
		ns[i] = float64(time.Since(start).Nanoseconds()) / perBatch
	}
	slices.Sort(ns)
	return ns[batches/2]
}

// discard is a ResponseWriter that keeps nothing, so that only the
// server's side is measured.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

func BenchmarkTrace1000(b *testing.B) {
	benchSetup(b)
	h := NewHandler(bench.g)
	serve := func(target string) func(b *testing.B) {
		return func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.n = 0
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(w.n), "B/resp")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/bench.bareNs, "x-bare")
		}
	}
	b.Run("bare_EventsByTrace", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = bench.g.EventsByTrace(bench.id)
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(ns/bench.bareNs, "x-bare")
		// The ratios of the sub-benchmarks that follow use the anchor as
		// measured now, in the same invocation, rather than the calibration.
		bench.bareNs = ns
	})
	b.Run("json_api_trace", serve("/api/trace/"+bench.id.String()))
	b.Run("page", serve("/?trace="+bench.id.String()))
	b.Run("page_script", serve("/static/app.js"))
}
