package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// BenchmarkStreamToCollector delivers b.N audit events to a real collector
// on loopback three ways, and b.N plain spans a fourth, all over OTLP/gRPC
// with batches of 512, to the same collector, in one process:
//
//   - direct: an exporter.NewOTLPStream following a Generator (no store),
//     writing each OTLP request from the held bytes;
//   - stream: an exporter.NewStream following a Generator, through the
//     SDK's otlptracegrpc exporter (the SpanExporter path);
//   - bsp: b.N plain spans through the SDK's BatchSpanProcessor with the
//     same otlptracegrpc configuration.
//
// Each phase is timed from the first record to the end of its
// ForceFlush, from one goroutine: the Streams export while the events are
// being recorded, as the BatchSpanProcessor does. The plain spans carry
// the attributes a replayed audit span carries, so all put the same bytes
// on the wire. Before the timed phases, warmUp events go each way untimed
// (as worker 1, told apart from the timed ones, worker 0): a fresh
// collector process and connection are slower for the first thousands of
// spans, and that would fall on whichever phase ran first.
//
// The BatchSpanProcessor runs WithBlocking: by default it drops spans when
// its queue (2048) is full, which a tight loop fills at once, and a rate
// of spans partly dropped would not compare with the Streams, which never
// drop.
//
// Reported: direct-events/s, stream-events/s and bsp-spans/s; x-bsp (the
// direct Stream's rate over the BatchSpanProcessor's) and stream-x-bsp
// (the SpanExporter Stream's over it); ns/op is the direct Stream's phase
// alone. The benchmark timer runs during the timed phases only.
func BenchmarkStreamToCollector(b *testing.B) {
	const warmUp = 2000
	b.StopTimer()
	col := startCollector(b)
	conn := directConn(b, col.addr)
	for _, worker := range []int{1, 0} {
		n := b.N
		if worker == 1 {
			n = warmUp
		}
		directTook := benchStreamOf(b, worker, n, func(src exporter.Trail, opts ...exporter.StreamOption) (*exporter.Stream, error) {
			return exporter.NewOTLPStream(src, exporter.NewOTLPGRPCClient(conn), opts...)
		})
		directCPU := lastPhaseCPU
		streamTook := benchSpanStream(b, col.addr, worker, n)
		streamCPU := lastPhaseCPU
		bspTook := benchBSP(b, col.addr, worker, n)
		bspCPU := lastPhaseCPU
		if worker == 1 {
			continue
		}
		if _, ok := processCPU(); ok {
			// This process is the client alone: the Collector runs in its
			// own. What is left of a phase's wall time on the two cores
			// is the Collector's (and other processes').
			b.ReportMetric(float64(directCPU)/float64(n), "direct-client-cpu-ns/event")
			b.ReportMetric(float64(streamCPU)/float64(n), "stream-client-cpu-ns/event")
			b.ReportMetric(float64(bspCPU)/float64(n), "bsp-client-cpu-ns/span")
		}
		directRate := float64(n) / directTook.Seconds()
		streamRate := float64(n) / streamTook.Seconds()
		bspRate := float64(n) / bspTook.Seconds()
		b.ReportMetric(float64(directTook.Nanoseconds())/float64(n), "ns/op")
		b.ReportMetric(directRate, "direct-events/s")
		b.ReportMetric(streamRate, "stream-events/s")
		b.ReportMetric(bspRate, "bsp-spans/s")
		b.ReportMetric(directRate/bspRate, "x-bsp")
		b.ReportMetric(streamRate/bspRate, "stream-x-bsp")
	}

	// Everything timed arrived, once each way: else the rates mean nothing.
	audit, plain := 0, 0
	for _, s := range col.spans() {
		if s.Attrs["e2e.worker"] != int64(0) {
			continue
		}
		if _, ok := s.Attrs[string(otelaudit.KeyEventSeq)+".plain"]; ok {
			plain++
		} else {
			audit++
		}
	}
	if audit != 2*b.N || plain != b.N {
		b.Fatalf("collector received %d audit and %d plain spans, want %d and %d", audit, plain, 2*b.N, b.N)
	}
}

// lastPhaseCPU is the CPU time this process spent in the timed part of
// the last benchStreamOf or benchBSP.
var lastPhaseCPU int64

// benchBSP ends n spans of worker through a BatchSpanProcessor to addr,
// and returns how long that and the provider's ForceFlush took.
func benchBSP(b *testing.B, addr string, worker, n int) time.Duration {
	b.Helper()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(newOTLPExporter(b, addr), sdktrace.WithBlocking()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	defer func() { _ = tp.Shutdown(ctx) }()
	tracer := tp.Tracer("e2e-bench")

	if worker == 0 { // the warm-up runs untimed
		b.StartTimer()
	}
	cpu0, _ := processCPU()
	start := time.Now()
	for i := range n {
		_, sp := tracer.Start(ctx, otelaudit.NamePrefix+string(otelaudit.ResourceAccess),
			trace.WithAttributes(plainAttrsOf(worker, i)...))
		sp.End()
	}
	if err := tp.ForceFlush(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	cpu1, _ := processCPU()
	lastPhaseCPU = cpu1 - cpu0
	b.StopTimer()
	return took
}

// plainAttrsOf are plainAttrs of worker's event i.
func plainAttrsOf(w, i int) []attribute.KeyValue {
	return []attribute.KeyValue{
		otelaudit.KeyEventType.String(string(otelaudit.ResourceAccess)),
		attribute.Int64(string(otelaudit.KeyEventSeq)+".plain", int64(i)+1),
		otelaudit.KeyOutcome.String(string(otelaudit.Success)),
		otelaudit.KeyAgentID.String(fmt.Sprintf("agent-%d", w)),
		otelaudit.KeyHumanOriginID.String("alice"),
		otelaudit.KeyWorkflowID.String("e2e"),
		otelaudit.KeyNodeID.String(fmt.Sprintf("node-%d", i%8)),
		otelaudit.KeyAction.String("read"),
		otelaudit.KeyResource.String("s3://bucket/object"),
		attribute.Int("e2e.worker", w),
		attribute.Int("e2e.i", i),
	}
}

// BenchmarkStreamLogsToCollector delivers b.N audit events as log records
// to a real collector on loopback through a direct log Stream
// (NewOTLPLogStream, writing the requests from the held bytes), then b.N
// through a log Stream following a Generator with the SDK's otlploggrpc
// exporter, then b.N events as spans through a span Stream, then b.N
// plain log records through the SDK's own sdklog.BatchProcessor with the
// same otlploggrpc exporter configuration, all to the same collector (its
// logs go to the Collector's file exporter, its spans to jsonlines). Each
// phase is timed as in BenchmarkStreamToCollector, from the first record
// to the end of its flush, from one goroutine.
//
// The BatchProcessor's queue holds b.N records: it has no blocking mode,
// and at its default (2048) a tight loop would make it drop most of them.
// A queue that holds everything is what the Generator is for the Streams
// here. Batches are 512 records everywhere. The plain records carry the
// attributes, event name, body and trace context of the audit records, so
// the wire carries the same.
//
// Before the timed phases, warmUp events go each way untimed (as worker 1,
// told apart from the timed ones, worker 0): a fresh collector process
// and a fresh connection are slower for the first thousands of records,
// and that would fall on whichever phase ran first.
//
// Reported: direct-logs-events/s, logs-events/s, spans-events/s,
// batchproc-records/s, x-spans (the SDK-exporter log Stream over the span
// Stream), x-batchproc (the SDK-exporter log Stream over the
// BatchProcessor) and direct-x-batchproc (the direct log Stream over the
// BatchProcessor); ns/op is the SDK-exporter log Stream's phase alone.
func BenchmarkStreamLogsToCollector(b *testing.B) {
	const warmUp = 2000
	b.StopTimer()
	col := startCollector(b)
	conn := directConn(b, col.addr)
	for _, worker := range []int{1, 0} {
		n := b.N
		if worker == 1 {
			n = warmUp
		}
		directTook := benchStreamOf(b, worker, n, func(src exporter.Trail, opts ...exporter.StreamOption) (*exporter.Stream, error) {
			return exporter.NewOTLPLogStream(src, exporter.NewOTLPGRPCClient(conn), opts...)
		})
		logsTook := benchLogStream(b, col.addr, worker, n)
		spansTook := benchSpanStream(b, col.addr, worker, n)
		bpTook := benchBatchProcessor(b, col.addr, worker, n)
		if worker == 1 {
			continue
		}
		directRate := float64(n) / directTook.Seconds()
		logsRate := float64(n) / logsTook.Seconds()
		spansRate := float64(n) / spansTook.Seconds()
		bpRate := float64(n) / bpTook.Seconds()
		b.ReportMetric(float64(logsTook.Nanoseconds())/float64(n), "ns/op")
		b.ReportMetric(directRate, "direct-logs-events/s")
		b.ReportMetric(logsRate, "logs-events/s")
		b.ReportMetric(spansRate, "spans-events/s")
		b.ReportMetric(bpRate, "batchproc-records/s")
		b.ReportMetric(logsRate/spansRate, "x-spans")
		b.ReportMetric(logsRate/bpRate, "x-batchproc")
		b.ReportMetric(directRate/bpRate, "direct-x-batchproc")
	}

	// Everything timed arrived, once: else the rates mean nothing.
	records, torn := col.logRecords()
	audit, plain := map[int64]int{}, map[int64]int{}
	for _, r := range records {
		if r.Attrs["e2e.worker"] != int64(0) {
			continue
		}
		i := r.Attrs["e2e.i"].(int64)
		if _, ok := r.Attrs[string(otelaudit.KeyEventSeq)+".plain"]; ok {
			plain[i]++
		} else {
			audit[i]++
		}
	}
	spans := 0
	for _, s := range col.spans() {
		if s.Attrs["e2e.worker"] == int64(0) {
			spans++
		}
	}
	if len(audit) != b.N || len(plain) != b.N || torn != 0 || spans != b.N {
		b.Fatalf("collector received %d audit and %d plain log records (%d torn) and %d spans, want %d each",
			len(audit), len(plain), torn, spans, b.N)
	}
	for i := range int64(b.N) {
		if audit[i] != 2 || plain[i] != 1 {
			b.Fatalf("event %d arrived %d times as an audit record (want 2: each log Stream), %d as a plain one", i, audit[i], plain[i])
		}
	}
}

// benchLogStream is benchStream with a log Stream, n events of worker.
func benchLogStream(b *testing.B, addr string, worker, n int) time.Duration {
	b.Helper()
	return benchStreamOf(b, worker, n, func(src exporter.Trail, opts ...exporter.StreamOption) (*exporter.Stream, error) {
		return exporter.NewLogStream(src, newOTLPLogExporter(b, addr), opts...)
	})
}

// benchSpanStream is benchStream, n events of worker.
func benchSpanStream(b *testing.B, addr string, worker, n int) time.Duration {
	b.Helper()
	return benchStreamOf(b, worker, n, func(src exporter.Trail, opts ...exporter.StreamOption) (*exporter.Stream, error) {
		return exporter.NewStream(src, newOTLPExporter(b, addr), opts...)
	})
}

func benchStreamOf(b *testing.B, worker, n int,
	newStream func(exporter.Trail, ...exporter.StreamOption) (*exporter.Stream, error),
) time.Duration {
	b.Helper()
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(max(n, otelaudit.DefaultCapacity)), otelaudit.WithPolicy(otelaudit.Policy{Keep: []string{"e2e.*"}}))
	s, err := newStream(exporter.FollowGenerator(g), exporter.WithExportTimeout(exportTimeout))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	defer func() { _ = s.Shutdown(ctx) }()

	if worker == 0 { // the warm-up runs untimed
		b.StartTimer()
	}
	cpu0, _ := processCPU()
	start := time.Now()
	for i := range n {
		if _, err := g.Append(ctx, testEvent(worker, i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.ForceFlush(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	cpu1, _ := processCPU()
	lastPhaseCPU = cpu1 - cpu0
	b.StopTimer()
	if st := s.Stats(); st.Exported != uint64(n) || st.Dropped != 0 || st.Failures != 0 {
		b.Fatalf("stream: %+v, want %d exported, none dropped or failed", st, n)
	}
	return took
}

// benchBatchProcessor emits b.N log records through an sdklog
// BatchProcessor to addr, and returns how long that and the provider's
// ForceFlush took.
func benchBatchProcessor(b *testing.B, addr string, worker, n int) time.Duration {
	b.Helper()
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(newOTLPLogExporter(b, addr),
		sdklog.WithMaxQueueSize(max(n, 2048)), sdklog.WithExportMaxBatchSize(exporter.DefaultBatchSize))))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	defer func() { _ = lp.Shutdown(ctx) }()
	logger := lp.Logger("e2e-bench")

	if worker == 0 { // the warm-up runs untimed
		b.StartTimer()
	}
	start := time.Now()
	for i := range n {
		e := testEvent(worker, i)
		var r log.Record
		r.SetEventName(otelaudit.NamePrefix + string(e.Type))
		r.SetTimestamp(time.Now()) // as Append stamps an event without a time
		r.SetSeverity(log.SeverityInfo)
		r.SetSeverityText("INFO")
		r.SetBody(attribute.StringValue(exporter.LogBody(e)))
		r.AddAttributes(plainAttrsOf(worker, i)...)
		r.AddAttributes(otelaudit.KeyDuration.Int64(int64(e.Duration)))
		sctx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: e.TraceID, SpanID: e.SpanID, TraceFlags: trace.FlagsSampled,
		}))
		logger.Emit(sctx, r)
	}
	if err := lp.ForceFlush(ctx); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.StopTimer()
	return took
}
