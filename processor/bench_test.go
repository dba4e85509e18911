package processor_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
	"github.com/otelaudit/otelaudit-go/store"
)

// nodeAttrs are the four attributes of an audited benchmark span: node.id
// makes it a node, so each span produces two audit events (node_start and
// node_end). The headline figure measures auditing, not skipping.
var nodeAttrs = []attribute.KeyValue{
	attribute.String("node.id", "fetch-weather"),
	attribute.String("gen_ai.agent.id", "agent-7"),
	attribute.String("workflow.id", "wf-trip-planner"),
	attribute.Int("retry", 1),
}

// plainAttrs are four attributes of a span our processor does not audit.
var plainAttrs = []attribute.KeyValue{
	attribute.String("http.request.method", "GET"),
	attribute.String("http.route", "/weather"),
	attribute.String("server.address", "api.example"),
	attribute.Int("retry", 1),
}

// discard is a SpanExporter that drops everything, so BatchSpanProcessor is
// measured without any export cost.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkSpanOverhead measures the per-span cost (start with 4
// attributes, end) of each setup in the same process, from GOMAXPROCS
// goroutines (2 on the reference machine). "bare" is the SDK with no
// processor; every other setup reports x-bare, its ns/op over bare's ns/op
// in this same run. BENCHMARKS.md quotes medians over -count runs.
func BenchmarkSpanOverhead(b *testing.B) {
	var bare float64
	setups := []struct {
		name  string
		attrs []attribute.KeyValue
		proc  func() (sdktrace.SpanProcessor, func())
	}{
		{"bare", nodeAttrs, nil},
		{"otelaudit", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			return processor.New(otelaudit.NewGenerator()), func() {}
		}},
		{"spanrecorder", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			return tracetest.NewSpanRecorder(), func() {}
		}},
		{"batchprocessor", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			bsp := sdktrace.NewBatchSpanProcessor(discard{})
			return bsp, func() { _ = bsp.Shutdown(context.Background()) }
		}},
		// With a store attached: every event is sealed and committed to
		// bbolt by the Generator's writer, fsync'd, on the same two cores;
		// the timed part ends with ForceFlush, when all of them are
		// durable.
		{"otelaudit+store", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			dir, err := os.MkdirTemp("", "otelaudit-bench")
			if err != nil {
				panic(err)
			}
			st, err := store.Open(filepath.Join(dir, "audit.db"))
			if err != nil {
				panic(err)
			}
			g := otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithStoreWait(time.Minute))
			return processor.New(g), func() {
				_ = g.Shutdown(context.Background())
				_ = os.RemoveAll(dir)
			}
		}},
		// The cost our processor puts on spans it does not audit (the SDK's
		// snapshot included), against the same bare figure.
		{"otelaudit-unaudited", plainAttrs, func() (sdktrace.SpanProcessor, func()) {
			return processor.New(otelaudit.NewGenerator()), func() {}
		}},
	}
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sdktrace.AlwaysSample())}
			done := func() {}
			if s.proc != nil {
				var sp sdktrace.SpanProcessor
				sp, done = s.proc()
				opts = append(opts, sdktrace.WithSpanProcessor(sp))
			}
			tp := sdktrace.NewTracerProvider(opts...)
			defer func() {
				_ = tp.Shutdown(context.Background())
				done()
			}()
			tr := tp.Tracer("bench")
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, sp := tr.Start(ctx, "tool call", trace.WithAttributes(s.attrs...))
					sp.End()
				}
			})
			// Flushing is the processor's business: the store setup is
			// timed until its events are durable; the others return at once.
			if err := tp.ForceFlush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if s.name == "bare" {
				bare = ns
			} else if bare > 0 {
				b.ReportMetric(ns/bare, "x-bare")
			}
		})
	}
}
