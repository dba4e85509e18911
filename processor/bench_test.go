package processor_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

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

// marshalDiscard is an otlptrace.Client that marshals what it is given, as
// the SDK's gRPC and HTTP clients do before they send, and drops it.
type marshalDiscard struct{}

func (marshalDiscard) Start(context.Context) error { return nil }
func (marshalDiscard) Stop(context.Context) error  { return nil }
func (marshalDiscard) UploadTraces(_ context.Context, rs []*tracepb.ResourceSpans) error {
	_, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rs})
	return err
}

// discardOTLP is an exporter.OTLPClient that drops the requests it is
// given.
type discardOTLP struct{}

func (discardOTLP) UploadTraces(context.Context, []byte) error { return nil }
func (discardOTLP) UploadLogs(context.Context, []byte) error   { return nil }
func (discardOTLP) Shutdown(context.Context) error             { return nil }

// benchStream is the Stream of the setup being measured, if it has one.
var benchStream *exporter.Stream

// BenchmarkSpanOverhead measures the per-span cost (start with 4
// attributes, end) of each setup in the same process, from GOMAXPROCS
// goroutines (2 on the reference machine). "bare" is the SDK with no
// processor; every other setup reports x-bare, its ns/op over bare's ns/op
// in this same run. BENCHMARKS.md quotes medians over -count runs.
// cpu-ns/op is the process's CPU time (all goroutines, GC included) per
// span, and cpu-x-bare its ratio to bare's: on a shared machine they move
// less with other processes' load than ns/op.
func BenchmarkSpanOverhead(b *testing.B) {
	var bare, bareCPU, auditCPU float64
	setups := []struct {
		name  string
		attrs []attribute.KeyValue
		proc  func() (sdktrace.SpanProcessor, func())
	}{
		{"bare", nodeAttrs, nil},
		{"otelaudit", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			return processor.New(otelaudit.NewGenerator()), func() {}
		}},
		// The Generator without its catch-up worker (see
		// otelaudit.WithCatchUpInterval): indexing and sealing wait for a
		// query, or for eviction, which seals the event it drops.
		{"otelaudit-lazy", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			return processor.New(otelaudit.NewGenerator(otelaudit.WithCatchUpInterval(0))), func() {}
		}},
		// The full level (every attribute but known secrets) instead of
		// the default's known safe keys: the int attribute is kept.
		{"otelaudit-full", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			return processor.New(otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))), func() {}
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
			benchStream = s
			return processor.New(g), func() { _ = s.Shutdown(context.Background()) }
		}},
		// The same Stream through the SDK's own OTLP exporter (otlptrace,
		// with a client that marshals each request as otlptracegrpc does
		// and drops it): the SpanExporter path to a Collector, decoding
		// every event into a span snapshot, then an OTLP struct.
		{"otelaudit+stream-sdkotlp", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			g := otelaudit.NewGenerator()
			s, err := exporter.NewStream(exporter.FollowGenerator(g), otlptrace.NewUnstarted(marshalDiscard{}), exporter.WithPollInterval(10*time.Millisecond))
			if err != nil {
				panic(err)
			}
			benchStream = s
			return processor.New(g), func() { _ = s.Shutdown(context.Background()) }
		}},
		// The direct OTLP Stream (NewOTLPStream): it writes each OTLP
		// request from the held bytes, for a client that drops it.
		{"otelaudit+otlpstream", nodeAttrs, func() (sdktrace.SpanProcessor, func()) {
			g := otelaudit.NewGenerator()
			s, err := exporter.NewOTLPStream(exporter.FollowGenerator(g), discardOTLP{}, exporter.WithPollInterval(10*time.Millisecond))
			if err != nil {
				panic(err)
			}
			benchStream = s
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
			cpu0, cpuOK := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, sp := tr.Start(ctx, "tool call", trace.WithAttributes(s.attrs...))
					sp.End()
				}
			})
			// A Stream's work counts until it has exported what the spans
			// recorded: the time includes its catching up.
			stream := benchStream
			benchStream = nil
			if stream != nil {
				if err := stream.ForceFlush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu1, _ := cpuTime()
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			cpu := float64(cpu1-cpu0) / float64(b.N)
			if cpuOK {
				b.ReportMetric(cpu, "cpu-ns/op")
			}
			if s.name == "otelaudit" {
				auditCPU = cpu
			}
			if stream != nil {
				// Events evicted before the Stream read them are work it
				// did not do: the share shows whether it kept up. Starved
				// of CPU by the spans, it drops, and the row's cost looks
				// lower than it is; the CPU the Stream added per event it
				// exported (over otelaudit's in this run) does not move
				// with the share, and kept-up-cpu-x-bare is the cost of a
				// span with every event exported at that price.
				st := stream.Stats()
				events := float64(st.Dropped + st.Exported)
				b.ReportMetric(float64(st.Dropped)/events, "stream-dropped-share")
				if cpuOK && auditCPU > 0 && st.Exported > 0 {
					perEvent := (cpu - auditCPU) * float64(b.N) / float64(st.Exported)
					b.ReportMetric(perEvent, "stream-cpu-ns/event")
					b.ReportMetric((auditCPU+perEvent*events/float64(b.N))/bareCPU, "kept-up-cpu-x-bare")
				}
			}
			if s.name == "bare" {
				bare, bareCPU = ns, cpu
			} else if bare > 0 {
				b.ReportMetric(ns/bare, "x-bare")
				if cpuOK && bareCPU > 0 {
					b.ReportMetric(cpu/bareCPU, "cpu-x-bare")
				}
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

// BenchmarkSampler measures what completing the trail under a sampler
// costs. The base sampler is ParentBased(TraceIDRatioBased(0.1)); every
// provider has the processor and a BatchSpanProcessor (discarding
// exporter), as a service that samples 10% of its traces for export does.
// One operation is two traces from GOMAXPROCS goroutines: an agent
// workflow (invoke_agent root, an execute_tool child, an HTTP client span
// below it whose attributes come after its start, as otelhttp's: 5 audit
// events when recorded) and a request the processor does not audit (a
// server span with two internal children).
//
//   - none: base alone. Fast, and the trail has only the ~10% of workflows
//     base samples (events/op about 0.5 instead of 5).
//   - alwaysrecord: sdktrace.AlwaysRecord(base). Complete, but records
//     every span, the unaudited request's too.
//   - sampler: Processor.Sampler(base). Complete; records the workflow's
//     spans only.
//
// x-none is a setup's ns/op over none's in the same run; cpu-ns/op and
// cpu-x-none the same in process CPU time (see BenchmarkSpanOverhead).
func BenchmarkSampler(b *testing.B) {
	base := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1))
	var none, noneCPU float64
	for _, setup := range []string{"none", "alwaysrecord", "sampler"} {
		b.Run(setup, func(b *testing.B) {
			g := otelaudit.NewGenerator()
			p := processor.New(g)
			sampler := base
			switch setup {
			case "alwaysrecord":
				sampler = sdktrace.AlwaysRecord(base)
			case "sampler":
				sampler = p.Sampler(base)
			}
			bsp := sdktrace.NewBatchSpanProcessor(discard{})
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(p), sdktrace.WithSpanProcessor(bsp))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			tr := tp.Tracer("bench")
			ctx := context.Background()
			workflowAttrs := []attribute.KeyValue{
				attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.id", "agent-7"),
				attribute.String("workflow.id", "wf-trip"), attribute.String("enduser.id", "alice"),
			}
			toolAttrs := []attribute.KeyValue{attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("node.id", "search")}
			callAttrs := []attribute.KeyValue{
				attribute.String("http.request.method", "GET"), attribute.String("url.full", "https://flights.example/api/search?to=LIS"),
				attribute.String("server.address", "flights.example"), attribute.Int("http.response.status_code", 200),
			}
			b.ReportAllocs()
			cpu0, cpuOK := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					wctx, wf := tr.Start(ctx, "invoke_agent", trace.WithAttributes(workflowAttrs...))
					tctx, tool := tr.Start(wctx, "execute_tool search", trace.WithAttributes(toolAttrs...))
					_, call := tr.Start(tctx, "HTTP GET", trace.WithSpanKind(trace.SpanKindClient))
					call.SetAttributes(callAttrs...)
					call.End()
					tool.End()
					wf.End()

					rctx, req := tr.Start(ctx, "GET /healthz", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(plainAttrs...))
					_, a := tr.Start(rctx, "check db")
					a.End()
					_, c := tr.Start(rctx, "render")
					c.End()
					req.End()
				}
			})
			b.StopTimer()
			cpu1, _ := cpuTime()
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			cpu := float64(cpu1-cpu0) / float64(b.N)
			if cpuOK {
				b.ReportMetric(cpu, "cpu-ns/op")
			}
			if setup == "none" {
				none, noneCPU = ns, cpu
			} else if none > 0 {
				b.ReportMetric(ns/none, "x-none")
				if cpuOK && noneCPU > 0 {
					b.ReportMetric(cpu/noneCPU, "cpu-x-none")
				}
			}
			b.ReportMetric(float64(g.Stats().Recorded)/float64(b.N), "events/op")
		})
	}
}

// BenchmarkProcessor measures the processor's own work per span, one
// goroutine, without the SDK's span creation around it: OnStart on an
// open SDK span and OnEnd on the SDK's snapshot of it (built with
// tracetest.SpanStub, the SDK's own snapshot type), as the SDK calls them.
// "audited" is BenchmarkSpanOverhead's node span (two events), "unaudited"
// its plain span (none). It isolates what the classifier and the identity
// bookkeeping cost from the noise of the SDK and of a shared machine.
func BenchmarkProcessor(b *testing.B) {
	for _, bc := range []struct {
		name  string
		attrs []attribute.KeyValue
	}{{"audited", nodeAttrs}, {"unaudited", plainAttrs}} {
		b.Run(bc.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			_, sp := tp.Tracer("bench").Start(context.Background(), "tool call", trace.WithAttributes(bc.attrs...))
			open := sp.(sdktrace.ReadWriteSpan)
			ended := tracetest.SpanStubFromReadOnlySpan(open).Snapshot()
			p := processor.New(otelaudit.NewGenerator())
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				p.OnStart(ctx, open)
				p.OnEnd(ended)
			}
		})
	}
}
