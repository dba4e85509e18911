package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// BenchmarkStreamToCollector delivers b.N audit events to a real collector
// on loopback through an exporter.Stream following a Generator (no store),
// and then b.N plain spans through the SDK's BatchSpanProcessor, with the
// same OTLP exporter configuration, to the same collector. Each phase is
// timed from the first record to the end of its ForceFlush, from one
// goroutine: the Stream exports while the events are being recorded, as
// the BatchSpanProcessor does. The plain spans carry the attributes a
// replayed audit span carries, so both put the same bytes on the wire.
//
// The BatchSpanProcessor runs WithBlocking: by default it drops spans when
// its queue (2048) is full, which a tight loop fills at once, and a rate
// of spans partly dropped would not compare with the Stream, which never
// drops. Both keep their default batch of 512.
//
// Reported: stream-events/s and bsp-spans/s, x-bsp (the first over the
// second), and ns/op for the Stream's phase alone. The benchmark timer runs
// during both phases only, so that b.N grows by their sum.
func BenchmarkStreamToCollector(b *testing.B) {
	b.StopTimer()
	col := startCollector(b)
	streamTook := benchStream(b, col.addr)
	bspTook := benchBSP(b, col.addr)

	// Everything arrived, once: else the rates mean nothing.
	audit, plain := 0, 0
	for _, s := range col.spans() {
		if _, ok := s.Attrs[string(exporter.EventSeqKey)+".plain"]; ok {
			plain++
		} else {
			audit++
		}
	}
	if audit != b.N || plain != b.N {
		b.Fatalf("collector received %d audit and %d plain spans, want %d each", audit, plain, b.N)
	}

	streamRate := float64(b.N) / streamTook.Seconds()
	bspRate := float64(b.N) / bspTook.Seconds()
	b.ReportMetric(float64(streamTook.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(streamRate, "stream-events/s")
	b.ReportMetric(bspRate, "bsp-spans/s")
	b.ReportMetric(streamRate/bspRate, "x-bsp")
}

// benchStream records b.N events into a Generator followed by a Stream to
// addr, and returns how long recording and the Stream's ForceFlush took.
func benchStream(b *testing.B, addr string) time.Duration {
	b.Helper()
	// Held until exported: a Generator without a store is the Stream's
	// queue, and one smaller than b.N would evict (and the Stream drop).
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(max(b.N, otelaudit.DefaultCapacity)))
	s, err := exporter.NewStream(exporter.FollowGenerator(g), newOTLPExporter(b, addr),
		exporter.WithExportTimeout(exportTimeout))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	defer func() { _ = s.Shutdown(ctx) }()

	b.StartTimer()
	start := time.Now()
	for i := range b.N {
		if _, err := g.Append(ctx, testEvent(0, i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.ForceFlush(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.StopTimer()
	if st := s.Stats(); st.Exported != uint64(b.N) || st.Dropped != 0 || st.Failures != 0 {
		b.Fatalf("stream: %+v, want %d exported, none dropped or failed", st, b.N)
	}
	return took
}

// benchBSP ends b.N spans through a BatchSpanProcessor to addr, and
// returns how long that and the provider's ForceFlush took.
func benchBSP(b *testing.B, addr string) time.Duration {
	b.Helper()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(newOTLPExporter(b, addr), sdktrace.WithBlocking()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	defer func() { _ = tp.Shutdown(ctx) }()
	tracer := tp.Tracer("e2e-bench")

	b.StartTimer()
	start := time.Now()
	for i := range b.N {
		_, sp := tracer.Start(ctx, exporter.SpanNamePrefix+string(otelaudit.ResourceAccess),
			trace.WithAttributes(plainAttrs(i)...))
		sp.End()
	}
	if err := tp.ForceFlush(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.StopTimer()
	return took
}

// plainAttrs are the attributes of testEvent(0, i)'s replayed span, and
// one key to tell the plain span from it.
func plainAttrs(i int) []attribute.KeyValue {
	return []attribute.KeyValue{
		exporter.EventTypeKey.String(string(otelaudit.ResourceAccess)),
		attribute.Int64(string(exporter.EventSeqKey)+".plain", int64(i)+1),
		exporter.OutcomeKey.String(string(otelaudit.Success)),
		exporter.AgentIDKey.String("agent-0"),
		exporter.HumanOriginIDKey.String("alice"),
		exporter.WorkflowIDKey.String("e2e"),
		exporter.NodeIDKey.String(fmt.Sprintf("node-%d", i%8)),
		exporter.ActionKey.String("read"),
		exporter.ResourceKey.String("s3://bucket/object"),
		attribute.Int("e2e.worker", 0),
		attribute.Int("e2e.i", i),
	}
}
