package exporter_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }

// BenchmarkReplay measures the cost of building what Replay hands the SDK
// exporter, per event, with an exporter that discards it: a span through
// tracetest.SpanStub, a log record from the SDK's own record with its
// setters. The events are those of the e2e benchmarks: every audit field
// set and two attributes of their own.
func BenchmarkReplay(b *testing.B) {
	evs := make([]otelaudit.Event, exporter.DefaultBatchSize)
	for i := range evs {
		evs[i] = otelaudit.Event{
			Seq: uint64(i + 1), Type: otelaudit.ResourceAccess, Time: time.Now(),
			TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{byte(i), 1},
			AgentID: "agent-0", HumanOriginID: "alice", WorkflowID: "e2e", NodeID: fmt.Sprintf("node-%d", i%8),
			Action: "read", Resource: "s3://bucket/object", Outcome: otelaudit.Success, Duration: time.Millisecond,
			Attributes: []attribute.KeyValue{attribute.Int("e2e.worker", 0), attribute.Int("e2e.i", i)},
		}
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		replay func(context.Context, []otelaudit.Event) error
	}{
		{"spans", exporter.New(discardSpans{}).Replay},
		{"logs", exporter.NewLogExporter(discardLogs{}).Replay},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.replay(ctx, evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
		})
	}
}
