package processor_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// benchAttrs are the four attributes of every benchmark span. node.id makes
// the span a node for our processor, so each span produces two audit events
// (node_start and node_end): the benchmark measures auditing, not skipping.
var benchAttrs = []attribute.KeyValue{
	attribute.String("node.id", "fetch-weather"),
	attribute.String("gen_ai.agent.id", "agent-7"),
	attribute.String("workflow.id", "wf-trip-planner"),
	attribute.Int("retry", 1),
}

// discard is a SpanExporter that drops everything, so BatchSpanProcessor is
// measured without any export cost.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkSpanOverhead measures the per-span cost (start, 4 attributes,
// end) of each setup in the same process, 2 goroutines per GOMAXPROCS=2.
// Every setup after "bare" also reports x-bare: its ns/op over bare's ns/op
// of this same run, the figure BENCHMARKS.md quotes.
func BenchmarkSpanOverhead(b *testing.B) {
	var bare float64
	setups := []struct {
		name string
		opts func() (sdktrace.TracerProviderOption, func())
	}{
		{"bare", func() (sdktrace.TracerProviderOption, func()) { return nil, func() {} }},
		{"otelaudit", func() (sdktrace.TracerProviderOption, func()) {
			g := otelaudit.NewGenerator()
			return sdktrace.WithSpanProcessor(processor.New(g)), func() {}
		}},
		{"spanrecorder", func() (sdktrace.TracerProviderOption, func()) {
			// A recorder grows without bound; reset it between benchmark
			// rounds as any real use would have to.
			return sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()), func() {}
		}},
		{"batchprocessor", func() (sdktrace.TracerProviderOption, func()) {
			bsp := sdktrace.NewBatchSpanProcessor(discard{}, sdktrace.WithBatchTimeout(time.Second))
			return sdktrace.WithSpanProcessor(bsp), func() { _ = bsp.Shutdown(context.Background()) }
		}},
	}
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sdktrace.AlwaysSample())}
			opt, done := s.opts()
			if opt != nil {
				opts = append(opts, opt)
			}
			tp := sdktrace.NewTracerProvider(opts...)
			defer func() { done(); _ = tp.Shutdown(context.Background()) }()
			tr := tp.Tracer("bench")
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, sp := tr.Start(ctx, "tool call", trace.WithAttributes(benchAttrs...))
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
