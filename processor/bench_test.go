package processor_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
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
		// With a Stream following the Generator and exporting every event
		// (to a discarding exporter, so that only our side is measured):
		// it seals, copies and replays on its own goroutine, on the same
		// two cores.
		{"otelaudit+stream", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			g := otelaudit.NewGenerator()
			s, err := exporter.NewStream(exporter.FollowGenerator(g), discard{}, exporter.WithPollInterval(10*time.Millisecond))
			if err != nil {
				panic(err)
			}
			return processor.New(g), func() { _ = s.Shutdown(context.Background()) }
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

// BenchmarkSpanOverheadStore measures the per-span cost with a store
// attached in two ways, beside a bare SDK in the same run (x-bare):
//
//   - burst: spans come in bursts of 10,000 from GOMAXPROCS goroutines
//     while the Generator's writer seals and commits them on the same
//     cores; between bursts (untimed) it catches up. This is the hot path
//     a runtime feels while its bursts fit the Generator's queue.
//   - sustained: spans without pause until all are durable; the figure is
//     then bound by durable throughput (see store's BenchmarkDurable).
func BenchmarkSpanOverheadStore(b *testing.B) {
	const burst = 10_000
	workers := runtime.GOMAXPROCS(0)
	var bare float64
	for _, mode := range []string{"bare", "burst", "sustained"} {
		b.Run(mode, func(b *testing.B) {
			opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sdktrace.AlwaysSample())}
			var g *otelaudit.Generator
			if mode != "bare" {
				st, err := store.Open(filepath.Join(b.TempDir(), "audit.db"))
				if err != nil {
					b.Fatal(err)
				}
				g = otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithStoreWait(time.Minute))
				opts = append(opts, sdktrace.WithSpanProcessor(processor.New(g)))
			}
			tp := sdktrace.NewTracerProvider(opts...)
			tr := tp.Tracer("bench")
			ctx := context.Background()
			spans := func(n int) {
				var wg sync.WaitGroup
				for w := range workers {
					wg.Go(func() {
						for i := w; i < n; i += workers {
							_, sp := tr.Start(ctx, "tool call", trace.WithAttributes(nodeAttrs...))
							sp.End()
						}
					})
				}
				wg.Wait()
			}
			b.ResetTimer()
			if mode == "burst" {
				for done := 0; done < b.N; done += burst {
					spans(min(burst, b.N-done))
					b.StopTimer()
					if err := tp.ForceFlush(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			} else {
				spans(b.N)
				if err := tp.ForceFlush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if mode == "bare" {
				bare = ns
			} else if bare > 0 {
				b.ReportMetric(ns/bare, "x-bare")
			}
			_ = tp.Shutdown(ctx)
			if g != nil {
				_ = g.Shutdown(ctx)
			}
		})
	}
}
