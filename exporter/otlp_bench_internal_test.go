package exporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// marshalDiscard is an otlptrace.Client that marshals the request, as the
// SDK's gRPC and HTTP clients do before sending, and drops it.
type marshalDiscard struct{}

func (marshalDiscard) Start(context.Context) error { return nil }
func (marshalDiscard) Stop(context.Context) error  { return nil }
func (marshalDiscard) UploadTraces(_ context.Context, rs []*tracepb.ResourceSpans) error {
	_, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rs})
	return err
}

// countingClient is an OTLPClient that drops requests and counts bytes.
type countingClient struct{ bytes int }

func (c *countingClient) UploadTraces(_ context.Context, req []byte) error {
	c.bytes += len(req)
	return nil
}
func (c *countingClient) UploadLogs(ctx context.Context, req []byte) error {
	return c.UploadTraces(ctx, req)
}
func (*countingClient) Shutdown(context.Context) error { return nil }

// BenchmarkReplayOTLP measures, per event, what it takes to turn a batch
// of 512 events into the bytes of an OTLP request, each way a Stream can:
//
//   - sdk-otlp: what NewStream with the SDK's OTLP exporter does: decode
//     the held bytes into Events (EventsAfter), build span snapshots
//     (tracetest.SpanStub), then the exporter's OTLP structs, and marshal
//     them (otlptrace with a client that marshals and drops, as
//     otlptracegrpc marshals before sending);
//   - direct: what NewOTLPStream does: copy the held bytes
//     (AppendEncodedAfter) and write the request from them;
//   - direct-logs: the same as log records (NewOTLPLogStream); BenchmarkReplay
//     has what the SDK path builds for log records before its exporter's
//     own transform and marshalling.
//
// The events are those of the e2e benchmarks (every audit field, two
// attributes of their own), held in a Generator.
func BenchmarkReplayOTLP(b *testing.B) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Keep: []string{"e2e.*"}}))
	ctx := context.Background()
	const n = DefaultBatchSize
	for i := range n {
		_, err := g.Record(ctx, otelaudit.Event{
			Type: otelaudit.ResourceAccess, Time: time.Now(),
			TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{byte(i), 1},
			AgentID: "agent-0", HumanOriginID: "alice", WorkflowID: "e2e", NodeID: fmt.Sprintf("node-%d", i%8),
			Action: "read", Resource: "s3://bucket/object", Outcome: otelaudit.Success, Duration: time.Millisecond,
			Attributes: []attribute.KeyValue{attribute.Int("e2e.worker", 0), attribute.Int("e2e.i", i)},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("sdk-otlp", func(b *testing.B) {
		x := New(otlptrace.NewUnstarted(marshalDiscard{}))
		b.ReportAllocs()
		for b.Loop() {
			if err := x.Replay(ctx, g.EventsAfter(0, n)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	})
	for _, d := range []struct {
		name, unit string
		output     func(OTLPClient, []Option) *otlpOutput
	}{
		{"direct", "B/span-on-wire", newOTLPOutput},
		{"direct-logs", "B/record-on-wire", newOTLPLogOutput},
	} {
		b.Run(d.name, func(b *testing.B) {
			c := &countingClient{}
			o := d.output(c, nil)
			var enc otelaudit.EncodedEvents
			b.ReportAllocs()
			for b.Loop() {
				enc.Reset()
				g.AppendEncodedAfter(&enc, 0, n)
				if err := o.ReplayEncoded(ctx, &enc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
			b.ReportMetric(float64(c.bytes)/float64(b.N*n), d.unit)
		})
	}
}
