package exporter_test

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// logsReceiver is an OTLP/gRPC logs receiver that keeps every request.
type logsReceiver struct {
	collogspb.UnimplementedLogsServiceServer
	addr string
	mu   sync.Mutex
	reqs []*collogspb.ExportLogsServiceRequest
}

func startLogsReceiver(t *testing.T) *logsReceiver {
	r := &logsReceiver{}
	r.addr = serveGRPC(t, nil, func(srv *grpc.Server) { collogspb.RegisterLogsServiceServer(srv, r) })
	return r
}

func (r *logsReceiver) Export(_ context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, proto.Clone(req).(*collogspb.ExportLogsServiceRequest))
	return &collogspb.ExportLogsServiceResponse{}, nil
}

type flatRecord struct {
	res         *resourcepb.Resource
	resSchema   string
	scope       *commonpb.InstrumentationScope
	scopeSchema string
	rec         *logspb.LogRecord
	seq         int64
}

// records returns every record received, by audit.event.seq, with its
// observed timestamp (the time of the batch, which differs from run to
// run) checked and cleared.
func (r *logsReceiver) records(t *testing.T) []flatRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []flatRecord
	for _, req := range r.reqs {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				for _, lr := range sl.GetLogRecords() {
					lr = proto.Clone(lr).(*logspb.LogRecord)
					assert.NotZero(t, lr.ObservedTimeUnixNano)
					lr.ObservedTimeUnixNano = 0
					var seq int64
					for _, kv := range lr.GetAttributes() {
						if kv.GetKey() == string(otelaudit.KeyEventSeq) {
							seq = kv.GetValue().GetIntValue()
						}
					}
					out = append(out, flatRecord{rl.GetResource(), rl.GetSchemaUrl(), sl.GetScope(), sl.GetSchemaUrl(), lr, seq})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b flatRecord) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// The direct log Stream sends what the log Stream through the SDK's own
// OTLP log exporter sends, record for record, with the process's resource
// from the environment merged in as the log SDK merges it; events whose
// attributes the SDK reduces (duplicate keys, in maps too) included.
func TestOTLPLogStreamSendsWhatTheSDKExporterSends(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test,service.name=from-env")
	g := otelaudit.NewGenerator(keepAll)
	n := variedEvents(t, g)
	ctx := context.Background()
	dups := []attribute.KeyValue{
		attribute.String("k", "first"), attribute.Int("other", 1), attribute.String("k", "last"),
	}
	mapDup := []attribute.KeyValue{{Key: "m", Value: attribute.MapValue(attribute.String("a", "1"), attribute.String("a", "2"), attribute.Int("b", 3))}}
	for _, attrs := range [][]attribute.KeyValue{dups, mapDup} {
		_, err := g.Record(ctx, otelaudit.Event{Type: otelaudit.ResourceAccess, Attributes: attrs, Duration: time.Second})
		require.NoError(t, err)
		n++
	}

	viaSDK, direct := startLogsReceiver(t), startLogsReceiver(t)
	sdkExp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(viaSDK.addr), otlploggrpc.WithInsecure(),
		otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}))
	require.NoError(t, err)
	opts := []exporter.StreamOption{exporter.WithPollInterval(time.Millisecond), exporter.WithStreamBatchSize(16)}
	s1, err := exporter.NewLogStream(exporter.FollowGenerator(g), sdkExp, opts...)
	require.NoError(t, err)
	s2, err := exporter.NewOTLPLogStream(exporter.FollowGenerator(g), exporter.NewOTLPGRPCClient(grpcConn(t, direct.addr)), opts...)
	require.NoError(t, err)
	require.NoError(t, s1.Shutdown(ctx))
	require.NoError(t, s2.Shutdown(ctx))

	want, got := viaSDK.records(t), direct.records(t)
	require.Len(t, want, n)
	require.Len(t, got, n)
	for i := range want {
		assert.True(t, proto.Equal(want[i].rec, got[i].rec), "record %d:\nsdk:    %v\ndirect: %v", i, want[i].rec, got[i].rec)
		assert.True(t, proto.Equal(want[i].res, got[i].res), "resource of record %d:\nsdk:    %v\ndirect: %v", i, want[i].res, got[i].res)
		assert.True(t, proto.Equal(want[i].scope, got[i].scope), "scope of record %d:\nsdk:    %v\ndirect: %v", i, want[i].scope, got[i].scope)
		assert.Equal(t, want[i].resSchema, got[i].resSchema)
		assert.Equal(t, want[i].scopeSchema, got[i].scopeSchema)
	}
	var env bool
	for _, kv := range got[0].res.GetAttributes() {
		env = env || kv.GetKey() == "deployment.environment.name"
	}
	assert.True(t, env, "the environment's resource is merged in")
}
