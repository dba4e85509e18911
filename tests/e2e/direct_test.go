package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// receivedSpan is everything the Collector kept of one span, with the
// resource and scope it arrived under, as one comparable string (JSON of
// the fields, attributes in their order).
type receivedSpan struct {
	SpanID string
	All    string
}

// receivedSpans reads every span the Collector wrote, in arrival order,
// whole: what the harness's spans() leaves out (resource, scope, times,
// status, flags, kind, dropped count, attribute order) included.
func (c *collector) receivedSpans() []receivedSpan {
	c.tb.Helper()
	f, err := os.Open(c.out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(c.tb, err)
	defer f.Close()
	var out []receivedSpan
	r := bufio.NewReaderSize(f, 1<<20)
	var u ptrace.JSONUnmarshaler
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			td, uerr := u.UnmarshalTraces(line)
			require.NoError(c.tb, uerr)
			out = appendReceived(c.tb, out, td)
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(c.tb, err)
	}
}

func orderedAttrs(m pcommon.Map) [][2]any {
	var kvs [][2]any
	for k, v := range m.All() {
		kvs = append(kvs, [2]any{k, v.AsRaw()})
	}
	return kvs
}

func appendReceived(tb testing.TB, out []receivedSpan, td ptrace.Traces) []receivedSpan {
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				all, err := json.Marshal(map[string]any{
					"resource":        orderedAttrs(rs.Resource().Attributes()),
					"resource.schema": rs.SchemaUrl(),
					"scope":           []any{ss.Scope().Name(), ss.Scope().Version(), orderedAttrs(ss.Scope().Attributes())},
					"scope.schema":    ss.SchemaUrl(),
					"trace":           s.TraceID().String(),
					"span":            s.SpanID().String(),
					"parent":          s.ParentSpanID().String(),
					"flags":           s.Flags(),
					"tracestate":      s.TraceState().AsRaw(),
					"name":            s.Name(),
					"kind":            s.Kind().String(),
					"start":           s.StartTimestamp(),
					"end":             s.EndTimestamp(),
					"attributes":      orderedAttrs(s.Attributes()),
					"dropped":         s.DroppedAttributesCount(),
					"status":          []any{s.Status().Code().String(), s.Status().Message()},
					"events":          s.Events().Len(),
					"links":           s.Links().Len(),
				})
				require.NoError(tb, err)
				out = append(out, receivedSpan{SpanID: s.SpanID().String(), All: string(all)})
			}
		}
	}
	return out
}

// recordVaried records events of every shape into g: two Sources with
// equal resources and different scopes, an unknown one, none; with and
// without a trace; every outcome; every kind of attribute value; keys
// posing as audit fields.
func recordVaried(t *testing.T, g *otelaudit.Generator, n int) {
	t.Helper()
	res := func() *resource.Resource {
		return resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
			attribute.String("service.name", "checkout"), attribute.StringSlice("host.ips", []string{"10.0.0.1"}))
	}
	srcs := []*otelaudit.Source{
		otelaudit.NewSource(res(), instrumentation.Scope{Name: "agent-runtime", Version: "0.9", SchemaURL: "https://example.com/s",
			Attributes: attribute.NewSet(attribute.Bool("scope.flag", true))}),
		nil,
		otelaudit.NewSource(res(), instrumentation.Scope{Name: "tool-runtime"}),
		otelaudit.NewSource(nil, instrumentation.Scope{}),
	}
	outcomes := []otelaudit.Outcome{otelaudit.Success, "", otelaudit.Denied, otelaudit.Failure, otelaudit.Error}
	attrs := []attribute.KeyValue{
		attribute.Bool("b", true), attribute.Int64("i", -7), attribute.Float64("d", 2.5), attribute.String("s", "x"),
		attribute.BoolSlice("bs", []bool{true, false}), attribute.Int64Slice("is", []int64{1, -2}),
		attribute.Float64Slice("ds", []float64{0.5}), attribute.StringSlice("ss", []string{"a", ""}),
		{Key: "bytes", Value: attribute.ByteSliceValue([]byte{0, 1, 255})},
		{Key: "nested", Value: attribute.SliceValue(attribute.IntValue(1), attribute.SliceValue(attribute.StringValue("deep")))},
		{Key: "map", Value: attribute.MapValue(attribute.String("z", "1"), attribute.Int("a", 2))},
		otelaudit.KeyOutcome.String("forged"),
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for i := range n {
		e := otelaudit.Event{
			Type: otelaudit.EventType([]string{"node_start", "node_end", "trust_denied", "tool_call"}[i%4]),
			Time: base.Add(time.Duration(i) * time.Millisecond), Outcome: outcomes[i%len(outcomes)],
			Source: srcs[i%len(srcs)], Attributes: attrs[:i%(len(attrs)+1)],
		}
		if i%5 != 0 {
			e.TraceID, e.SpanID = trace.TraceID{0xe2, byte(i)}, trace.SpanID{byte(i), 1}
		}
		if i%3 == 1 {
			e.AgentID, e.HumanOriginID, e.WorkflowID, e.NodeID = "agent-7", "alice", "wf", "n"
			e.Action, e.Resource, e.Duration = "read", "s3://bucket/x", time.Duration(i)*time.Microsecond
		}
		_, err := g.Record(context.Background(), e)
		require.NoError(t, err)
	}
}

// TestDirectStreamsMatchSDKPathInCollector: for spans and for log records,
// the direct Stream (OTLP written from the stored bytes), over gRPC and
// over HTTP, delivers to a real Collector exactly what the Stream through
// the SDK's OTLP exporter delivers. The same events of a store (for spans a
// signed one, whose checkpoints go too) are sent each way and compared as
// the Collector kept them: spans field for field, resource and scope
// included; log records (through its file exporter) in every field but the
// observed timestamp, which is the time of each batch.
func TestDirectStreamsMatchSDKPathInCollector(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	poll := exporter.WithPollInterval(time.Millisecond)
	signals := []struct {
		name string
		n    int
		opts []otelaudit.Option // the Generator's, besides its store
		// flush calls ForceFlush before Shutdown; without it, Shutdown
		// alone must deliver every event.
		flush bool
		// sdk is the Stream through the SDK's exporter to addr; direct
		// the direct Stream through client.
		sdk    func(t *testing.T, st *store.Store, addr string) (*exporter.Stream, error)
		direct func(st *store.Store, client exporter.OTLPClient) (*exporter.Stream, error)
		// compare has the n events delivered each way, reading what
		// arrived after each, and checks that every way delivered the
		// same.
		compare func(t *testing.T, col *collector, n int, deliver func(arrived func(way string)))
	}{
		{
			name:  "spans",
			n:     100,
			flush: true,
			opts:  []otelaudit.Option{otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(16, time.Hour)},
			sdk: func(t *testing.T, st *store.Store, addr string) (*exporter.Stream, error) {
				return exporter.NewStream(st, newOTLPExporter(t, addr), poll)
			},
			direct: func(st *store.Store, client exporter.OTLPClient) (*exporter.Stream, error) {
				return exporter.NewOTLPStream(st, client, poll)
			},
			compare: func(t *testing.T, col *collector, n int, deliver func(arrived func(way string))) {
				var got [][]receivedSpan
				var ways []string
				seen := 0
				deliver(func(way string) {
					all := col.receivedSpans()
					spans := all[seen:]
					seen = len(all)
					slices.SortFunc(spans, func(a, b receivedSpan) int { return bytes.Compare([]byte(a.SpanID), []byte(b.SpanID)) })
					got, ways = append(got, spans), append(ways, way)
				})
				require.Greater(t, len(got[0]), n, "the events and the store's checkpoints")
				for i := 1; i < len(got); i++ {
					require.Len(t, got[i], len(got[0]), ways[i])
					for j := range got[0] {
						require.JSONEq(t, got[0][j].All, got[i][j].All, "%s: span %d", ways[i], j)
					}
				}
				t.Logf("%d spans (%d events, %d checkpoints) arrived equal all three ways", len(got[0]), n, len(got[0])-n)
			},
		},
		{
			name: "logs",
			n:    60,
			sdk: func(t *testing.T, st *store.Store, addr string) (*exporter.Stream, error) {
				return exporter.NewLogStream(st, newOTLPLogExporter(t, addr), poll)
			},
			direct: func(st *store.Store, client exporter.OTLPClient) (*exporter.Stream, error) {
				return exporter.NewOTLPLogStream(st, client, poll)
			},
			compare: func(t *testing.T, col *collector, n int, deliver func(arrived func(way string))) {
				var got [][]logRecord
				var ways []string
				seen := 0
				deliver(func(way string) {
					// The file exporter writes each batch as it gets it:
					// what the Stream was told is delivered is in the file.
					all, torn := col.logRecords()
					require.Zero(t, torn)
					recs := slices.Clone(all[seen:])
					seen = len(all)
					for i := range recs {
						assert.False(t, recs[i].Observed.IsZero(), way)
						recs[i].Observed = time.Time{}
					}
					slices.SortFunc(recs, func(a, b logRecord) int {
						return int(a.Attrs[string(otelaudit.KeyEventSeq)].(int64) - b.Attrs[string(otelaudit.KeyEventSeq)].(int64))
					})
					got, ways = append(got, recs), append(ways, way)
				})
				require.Len(t, got[0], n)
				for i := 1; i < len(got); i++ {
					require.Equal(t, got[0], got[i], ways[i])
				}
				t.Logf("%d log records arrived equal all three ways", n)
			},
		},
	}
	for _, sig := range signals {
		t.Run(sig.name, func(t *testing.T) {
			col := startCollector(t)
			st, err := store.Open(filepath.Join(t.TempDir(), "audit.db"))
			require.NoError(t, err)
			g, err := otelaudit.New(append([]otelaudit.Option{otelaudit.WithStore(st), keepAll}, sig.opts...)...)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			recordVaried(t, g, sig.n)
			require.NoError(t, g.ForceFlush(ctx))
			t.Cleanup(func() { _ = g.Shutdown(context.Background()) })

			conn := directConn(t, col.addr)
			ways := []struct {
				name  string
				start func() (*exporter.Stream, error)
			}{
				{"sdk", func() (*exporter.Stream, error) { return sig.sdk(t, st, col.addr) }},
				{"direct grpc", func() (*exporter.Stream, error) { return sig.direct(st, exporter.NewOTLPGRPCClient(conn)) }},
				{"direct http", func() (*exporter.Stream, error) {
					return sig.direct(st, exporter.NewOTLPHTTPClient(col.http, nil))
				}},
			}
			sig.compare(t, col, sig.n, func(arrived func(way string)) {
				for _, w := range ways {
					s, err := w.start()
					require.NoError(t, err, w.name)
					if sig.flush {
						require.NoError(t, s.ForceFlush(ctx), w.name)
					}
					require.NoError(t, s.Shutdown(ctx), w.name)
					require.Equal(t, uint64(sig.n), s.Stats().Exported, w.name)
					arrived(w.name)
				}
			})
		})
	}
}

// directConn dials addr as the tests' exporters do; Cleanup closes it.
func directConn(tb testing.TB, addr string) *grpc.ClientConn {
	tb.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), quickReconnect)
	if err != nil {
		tb.Fatalf("grpc: %v", err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestCollectorKilledAndRestartedTwiceDirect is
// TestCollectorKilledAndRestartedTwice with the direct Stream: every event
// arrives at least once across two SIGKILLs of the Collector.
func TestCollectorKilledAndRestartedTwiceDirect(t *testing.T) {
	col := startCollector(t)
	conn := directConn(t, col.addr)
	rt := startAuditRuntime(t, nil, func(src exporter.Trail, opts ...exporter.StreamOption) (*exporter.Stream, error) {
		return exporter.NewOTLPStream(src, exporter.NewOTLPGRPCClient(conn), opts...)
	})
	killAndRestartTwice(t, col, rt, func() map[uint64]int { return seqCounts(t, col.spans()) })
}

// TestCollectorKilledAndRestartedLogsDirect is the same with the direct
// log Stream, into the Collector's file exporter.
func TestCollectorKilledAndRestartedLogsDirect(t *testing.T) {
	col := startCollector(t)
	conn := directConn(t, col.addr)
	rt := startAuditRuntime(t, nil, func(src exporter.Trail, opts ...exporter.StreamOption) (*exporter.Stream, error) {
		return exporter.NewOTLPLogStream(src, exporter.NewOTLPGRPCClient(conn), opts...)
	})
	killAndRestartTwice(t, col, rt, func() map[uint64]int {
		records, _ := col.logRecords()
		return logSeqCounts(t, records)
	})
}

// keepAll keeps every attribute an event is given but known secrets, so
// that the tests see every kind of value go through.
var keepAll = otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull})
