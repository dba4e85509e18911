package exporter_test

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/exporter/internal/otlpenc"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// traceReceiver is an OTLP/gRPC trace receiver that keeps every request,
// and refuses them with Unavailable while down is set.
type traceReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	addr string

	mu   sync.Mutex
	reqs []*coltracepb.ExportTraceServiceRequest
	down bool
}

func startReceiver(t *testing.T, opts ...grpc.ServerOption) *traceReceiver {
	r := &traceReceiver{}
	r.addr = serveGRPC(t, nil, func(srv *grpc.Server) { coltracepb.RegisterTraceServiceServer(srv, r) }, opts...)
	return r
}

// serveGRPC serves what register adds on a loopback port until the test
// ends, and returns the address; wrap, unless nil, wraps the listener.
func serveGRPC(t *testing.T, wrap func(net.Listener) net.Listener, register func(*grpc.Server), opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(opts...)
	register(srv)
	served := lis
	if wrap != nil {
		served = wrap(lis)
	}
	go func() { _ = srv.Serve(served) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func (r *traceReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return nil, status.Error(codes.Unavailable, "receiver down")
	}
	r.reqs = append(r.reqs, proto.Clone(req).(*coltracepb.ExportTraceServiceRequest))
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (r *traceReceiver) setDown(d bool) {
	r.mu.Lock()
	r.down = d
	r.mu.Unlock()
}

// flatSpan is a received span with the resource and scope it came under.
type flatSpan struct {
	res         *resourcepb.Resource
	resSchema   string
	scope       *commonpb.InstrumentationScope
	scopeSchema string
	span        *tracepb.Span
}

func flatten(reqs []*coltracepb.ExportTraceServiceRequest) []flatSpan {
	var out []flatSpan
	for _, req := range reqs {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					out = append(out, flatSpan{rs.GetResource(), rs.GetSchemaUrl(), ss.GetScope(), ss.GetSchemaUrl(), s})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b flatSpan) int { return cmp.Compare(string(a.span.SpanId), string(b.span.SpanId)) })
	return out
}

func (r *traceReceiver) spans() []flatSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return flatten(r.reqs)
}

// groups returns, per request, how many ResourceSpans and ScopeSpans it
// had: a span regrouped by mistake shows as one more.
func (r *traceReceiver) groups() (res, scopes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, req := range r.reqs {
		res += len(req.GetResourceSpans())
		for _, rs := range req.GetResourceSpans() {
			scopes += len(rs.GetScopeSpans())
		}
	}
	return res, scopes
}

func sdkOTLPExporter(t *testing.T, addr string) *otlptrace.Exporter {
	t.Helper()
	exp, err := otlptracegrpc.New(context.Background(),
		otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	require.NoError(t, err)
	return exp
}

func grpcConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// variedEvents records into g events of every shape the span format
// knows: three Sources, one of them unknown, and none; with and without a
// trace; every outcome; every kind of attribute value, nested ones, an
// empty one, and ones posing as audit fields.
func variedEvents(t *testing.T, g *otelaudit.Generator) int {
	t.Helper()
	resA := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "checkout"), attribute.Int("pid", 42))
	srcA := otelaudit.NewSource(resA, instrumentation.Scope{Name: "tracer-a", Version: "1.2.3", SchemaURL: "https://example.com/scope",
		Attributes: attribute.NewSet(attribute.String("scope.k", "v"))})
	// Equal resource, another scope: one ResourceSpans, two ScopeSpans.
	srcA2 := otelaudit.NewSource(resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "checkout"), attribute.Int("pid", 42)), instrumentation.Scope{Name: "tracer-b"})
	unknown := otelaudit.NewSource(nil, instrumentation.Scope{})
	srcs := []*otelaudit.Source{srcA, nil, srcA2, unknown}
	outcomes := []otelaudit.Outcome{otelaudit.Success, "", otelaudit.Denied, otelaudit.Failure, otelaudit.Error}
	attrs := []attribute.KeyValue{
		attribute.Bool("b", true), attribute.Bool("f", false), attribute.Int64("i", -7), attribute.Float64("d", 2.5),
		attribute.String("s", "x"), attribute.String("empty.string", ""),
		attribute.BoolSlice("bs", []bool{true, false}), attribute.Int64Slice("is", []int64{1, -2}),
		attribute.Float64Slice("ds", []float64{0.5}), attribute.StringSlice("ss", []string{"a", ""}),
		attribute.StringSlice("none", nil),
		{Key: "bytes", Value: attribute.ByteSliceValue([]byte{0, 1, 255})},
		{Key: "nested", Value: attribute.SliceValue(attribute.IntValue(1), attribute.SliceValue(attribute.StringValue("deep")))},
		{Key: "map", Value: attribute.MapValue(attribute.String("z", "1"), attribute.Int("a", 2),
			attribute.KeyValue{Key: "m", Value: attribute.MapValue(attribute.Bool("x", true))})},
		{Key: "nothing", Value: attribute.Value{}},
		otelaudit.KeyOutcome.String("forged"), otelaudit.KeyEventSeq.Int64(1),
	}
	ctx := context.Background()
	n := 0
	base := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	for i := range 40 {
		e := otelaudit.Event{
			Type: otelaudit.EventType([]string{"node_start", "node_end", "trust_denied", "tool_call.custom"}[i%4]),
			Time: base.Add(time.Duration(i) * time.Millisecond), Outcome: outcomes[i%len(outcomes)],
			Source: srcs[i%len(srcs)], Attributes: attrs[:i%(len(attrs)+1)],
		}
		if i%5 != 0 { // every fifth outside any trace
			e.TraceID, e.SpanID = trace.TraceID{byte(i), 1}, trace.SpanID{byte(i), 2}
		}
		if i%3 == 1 {
			e.AgentID, e.HumanOriginID, e.WorkflowID, e.NodeID = "agent-7", "alice", "wf", "node"
			e.Action, e.Resource, e.Duration = "read", "s3://bucket/é\nx", time.Duration(i)*time.Microsecond
		}
		_, err := g.Record(ctx, e)
		require.NoError(t, err, "event %d", i)
		n++
	}
	return n
}

// The direct Stream sends exactly what the Stream through the SDK's own
// OTLP exporter sends, span for span, field for field: IDs, parent,
// flags, name, kind, times, attributes in order, dropped count, status,
// resource and scope with their schema URLs, and the same grouping.
func TestOTLPStreamSendsWhatTheSDKExporterSends(t *testing.T) {
	g := otelaudit.NewGenerator(keepAll)
	n := variedEvents(t, g)
	ctx := context.Background()

	viaSDK, direct := startReceiver(t), startReceiver(t)
	opts := []exporter.StreamOption{exporter.WithPollInterval(time.Millisecond), exporter.WithStreamBatchSize(16)}
	s1, err := exporter.NewStream(exporter.FollowGenerator(g), sdkOTLPExporter(t, viaSDK.addr), opts...)
	require.NoError(t, err)
	s2, err := exporter.NewOTLPStream(exporter.FollowGenerator(g), exporter.NewOTLPGRPCClient(grpcConn(t, direct.addr)), opts...)
	require.NoError(t, err)
	require.NoError(t, s1.Shutdown(ctx))
	require.NoError(t, s2.Shutdown(ctx))
	assert.Equal(t, uint64(n), s2.Stats().Exported)

	want, got := viaSDK.spans(), direct.spans()
	require.Len(t, want, n)
	require.Len(t, got, n)
	for i := range want {
		assert.True(t, proto.Equal(want[i].span, got[i].span), "span %d:\nsdk:    %v\ndirect: %v", i, want[i].span, got[i].span)
		assert.True(t, proto.Equal(want[i].res, got[i].res), "resource of span %d:\nsdk:    %v\ndirect: %v", i, want[i].res, got[i].res)
		assert.True(t, proto.Equal(want[i].scope, got[i].scope), "scope of span %d:\nsdk:    %v\ndirect: %v", i, want[i].scope, got[i].scope)
		assert.Equal(t, want[i].resSchema, got[i].resSchema)
		assert.Equal(t, want[i].scopeSchema, got[i].scopeSchema)
	}
	wr, ws := viaSDK.groups()
	gr, gs := direct.groups()
	assert.Equal(t, wr, gr, "ResourceSpans")
	assert.Equal(t, ws, gs, "ScopeSpans")
}

// Following a signed store, the direct Stream reads the stored bytes and
// ships the checkpoints as the SDK path does; a receiver that is down
// loses nothing: the Stream retries until it is back, and the cursor
// resumes a new Stream where the last one stopped.
func TestOTLPStreamFollowsAStore(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	st, err := store.Open(filepath.Join(t.TempDir(), "audit.db"))
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(10, time.Hour))
	require.NoError(t, err)
	ctx := context.Background()
	record(t, g, 25)
	require.NoError(t, g.ForceFlush(ctx))

	viaSDK, direct := startReceiver(t), startReceiver(t)
	s1, err := exporter.NewStream(st, sdkOTLPExporter(t, viaSDK.addr), exporter.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, s1.Shutdown(ctx))

	direct.setDown(true)
	conn := grpcConn(t, direct.addr)
	s2, err := exporter.NewOTLPStream(st, exporter.NewOTLPGRPCClient(conn), exporter.WithCursor(st, "direct"),
		exporter.WithPollInterval(time.Millisecond), exporter.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s2.Stats().Failures >= 3 }, 10*time.Second, time.Millisecond)
	st2 := s2.Stats()
	require.Error(t, st2.LastError)
	assert.ErrorIs(t, st2.LastError, exporter.ErrExportFailed)
	assert.Equal(t, codes.Unavailable, status.Code(st2.LastError), "the gRPC status is kept: %v", st2.LastError)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err = s2.ForceFlush(short)
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, s2.Stats().Exported)
	direct.setDown(false)
	require.NoError(t, s2.ForceFlush(ctx))
	require.NoError(t, s2.Shutdown(ctx))
	t.Logf("after s2: %+v, %d spans", s2.Stats(), len(direct.spans()))

	// More events, and a new Stream that resumes from the cursor.
	record(t, g, 10)
	require.NoError(t, g.ForceFlush(ctx))
	s3, err := exporter.NewOTLPStream(st, exporter.NewOTLPGRPCClient(conn), exporter.WithCursor(st, "direct"), exporter.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, s3.Shutdown(ctx))
	s4, err := exporter.NewStream(st, sdkOTLPExporter(t, viaSDK.addr), exporter.WithStartAfter(25), exporter.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, s4.Shutdown(ctx))
	require.NoError(t, g.Shutdown(ctx))

	want, got := viaSDK.spans(), direct.spans()
	require.Len(t, got, len(want))
	checkpoints := 0
	for i := range want {
		require.True(t, proto.Equal(want[i].span, got[i].span), "span %d:\nsdk:    %v\ndirect: %v", i, want[i].span, got[i].span)
		require.True(t, proto.Equal(want[i].res, got[i].res))
		require.True(t, proto.Equal(want[i].scope, got[i].scope))
		if got[i].span.GetName() == "audit."+string(exporter.CheckpointType) {
			checkpoints++
		}
	}
	assert.Equal(t, 35+checkpoints, len(got), "every event once, and the checkpoints")
	assert.GreaterOrEqual(t, checkpoints, 3)
}

// Over OTLP/HTTP the same requests arrive as over gRPC; an HTTP error
// status is a clear, retried error carrying the status.
func TestOTLPHTTPClient(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "wrong path or type", http.StatusBadRequest)
			return
		}
		if fail {
			fail = false
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, b)
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(nil)
	}))
	defer srv.Close()

	g := otelaudit.NewGenerator(keepAll)
	n := variedEvents(t, g)
	ctx := context.Background()
	viaGRPC := startReceiver(t)
	s1, err := exporter.NewOTLPStream(exporter.FollowGenerator(g), exporter.NewOTLPGRPCClient(grpcConn(t, viaGRPC.addr)), exporter.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, s1.Shutdown(ctx))
	s2, err := exporter.NewOTLPStream(exporter.FollowGenerator(g), exporter.NewOTLPHTTPClient(srv.URL+"/", nil),
		exporter.WithPollInterval(time.Millisecond), exporter.WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, s2.ForceFlush(ctx))
	st := s2.Stats()
	require.NoError(t, s2.Shutdown(ctx))
	assert.Equal(t, uint64(1), st.Failures)

	var reqs []*coltracepb.ExportTraceServiceRequest
	mu.Lock()
	for _, b := range bodies {
		var req coltracepb.ExportTraceServiceRequest
		require.NoError(t, proto.Unmarshal(b, &req))
		reqs = append(reqs, &req)
	}
	mu.Unlock()
	want, got := viaGRPC.spans(), flatten(reqs)
	require.Len(t, got, n)
	for i := range want {
		assert.True(t, proto.Equal(want[i].span, got[i].span))
	}

	c := exporter.NewOTLPHTTPClient(srv.URL, nil)
	require.NoError(t, c.Shutdown(ctx))
	assert.ErrorIs(t, c.UploadTraces(ctx, nil), exporter.ErrShutdown)
}

// A Stream that is shut down while the receiver is away says how many
// events it left, within the caller's deadline, and a new Stream with the
// cursor delivers them.
func TestOTLPStreamShutdownHonoursContext(t *testing.T) {
	r := startReceiver(t)
	r.setDown(true)
	g := otelaudit.NewGenerator(keepAll)
	record(t, g, 5)
	s, err := exporter.NewOTLPStream(exporter.FollowGenerator(g), exporter.NewOTLPGRPCClient(grpcConn(t, r.addr)),
		exporter.WithPollInterval(time.Millisecond), exporter.WithBackoff(time.Millisecond, 2*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = s.Shutdown(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "5 events not exported")
	assert.Empty(t, r.spans())
	assert.NoError(t, s.Shutdown(context.Background()), "a second Shutdown is a no-op")
}

func TestNewOTLPStreamRefusesNils(t *testing.T) {
	_, err := exporter.NewOTLPStream(nil, exporter.NewOTLPGRPCClient(nil))
	assert.ErrorIs(t, err, exporter.ErrNilTrail)
	_, err = exporter.NewOTLPStream(exporter.FollowGenerator(otelaudit.NewGenerator()), nil)
	assert.ErrorIs(t, err, exporter.ErrNilExporter)
}

// Protobuf strings are UTF-8, and receivers refuse others: an event with
// bytes that are not still arrives, each invalid sequence sent as U+FFFD,
// instead of holding up the Stream for ever.
func TestOTLPStreamSendsInvalidUTF8AsReplacement(t *testing.T) {
	g := otelaudit.NewGenerator(keepAll)
	_, err := g.Record(context.Background(), otelaudit.Event{Type: "tool\xff", Action: "a\xffb",
		Attributes: []attribute.KeyValue{attribute.String("k\xfe", "v\xff"), attribute.StringSlice("ss", []string{"\xc3"})}})
	require.NoError(t, err)
	r := startReceiver(t)
	s, err := exporter.NewOTLPStream(exporter.FollowGenerator(g), exporter.NewOTLPGRPCClient(grpcConn(t, r.addr)), exporter.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, s.Shutdown(context.Background()))
	spans := r.spans()
	require.Len(t, spans, 1)
	sp := spans[0].span
	assert.Equal(t, "audit.tool\uFFFD", sp.GetName())
	got := map[string]string{}
	for _, kv := range sp.GetAttributes() {
		got[kv.GetKey()] = kv.GetValue().GetStringValue()
		if a := kv.GetValue().GetArrayValue(); a != nil {
			got[kv.GetKey()] = a.GetValues()[0].GetStringValue()
		}
	}
	assert.Equal(t, "a\uFFFDb", got[string(otelaudit.KeyAction)])
	assert.Equal(t, "v\uFFFD", got["k\uFFFD"])
	assert.Equal(t, "\uFFFD", got["ss"])
}

// The direct encoder owns the same keys as the span format.
func TestOTLPEncoderKeysAreTheSpanFormats(t *testing.T) {
	for _, k := range []attribute.Key{otelaudit.KeyEventType, otelaudit.KeyEventSeq, otelaudit.KeyOutcome, otelaudit.KeyAgentID,
		otelaudit.KeyHumanOriginID, otelaudit.KeyWorkflowID, otelaudit.KeyNodeID, otelaudit.KeyAction, otelaudit.KeyResource} {
		assert.True(t, otlpenc.Reserved([]byte(k)), "%s", k)
		assert.True(t, otelaudit.ReservedKey(k), "%s", k)
	}
	assert.False(t, otlpenc.Reserved([]byte(otelaudit.KeyDuration)))
	assert.False(t, otelaudit.ReservedKey(otelaudit.KeyDuration))
}

// keepAll keeps every attribute an event is given but known secrets, so
// that the tests see every kind of value go through.
var keepAll = otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull})

// plainTrail hides every method of a Trail but EventsAfter and LastSeq,
// as a Trail of a user's own does.
type plainTrail struct{ exporter.Trail }

// A Source that hands out only decoded Events is encoded by the direct
// Stream itself, to the same spans.
func TestOTLPStreamEncodesAPlainSource(t *testing.T) {
	g := otelaudit.NewGenerator(keepAll)
	n := variedEvents(t, g)
	ctx := context.Background()
	viaSDK, direct := startReceiver(t), startReceiver(t)
	s1, err := exporter.NewStream(exporter.FollowGenerator(g), sdkOTLPExporter(t, viaSDK.addr), exporter.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	s2, err := exporter.NewOTLPStream(plainTrail{exporter.FollowGenerator(g)}, exporter.NewOTLPGRPCClient(grpcConn(t, direct.addr)),
		exporter.WithPollInterval(time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, s1.Shutdown(ctx))
	require.NoError(t, s2.Shutdown(ctx))
	want, got := viaSDK.spans(), direct.spans()
	require.Len(t, got, n)
	for i := range want {
		assert.True(t, proto.Equal(want[i].span, got[i].span), "span %d", i)
	}
}

// countingListener counts the bytes its connections read.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return countingConn{c, l.n}, err
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// Compression is the connection's: a conn made with gRPC's gzip as its
// default compressor sends the direct Stream's requests compressed (far
// fewer bytes reach the receiver), and they arrive whole.
func TestOTLPGRPCClientGzip(t *testing.T) {
	received := func(opts ...grpc.DialOption) int64 {
		var n atomic.Int64
		r := &traceReceiver{}
		r.addr = serveGRPC(t, func(lis net.Listener) net.Listener { return countingListener{lis, &n} },
			func(srv *grpc.Server) { coltracepb.RegisterTraceServiceServer(srv, r) })
		conn, err := grpc.NewClient(r.addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		require.NoError(t, err)
		defer conn.Close()
		g := otelaudit.NewGenerator(keepAll)
		for range 10 {
			variedEvents(t, g)
		}
		s, err := exporter.NewOTLPStream(exporter.FollowGenerator(g), exporter.NewOTLPGRPCClient(conn), exporter.WithPollInterval(time.Millisecond))
		require.NoError(t, err)
		require.NoError(t, s.Shutdown(context.Background()))
		require.Len(t, r.spans(), 400)
		return n.Load()
	}
	plain := received()
	zipped := received(grpc.WithDefaultCallOptions(grpc.UseCompressor(gzip.Name)))
	t.Logf("%d bytes plain, %d gzipped", plain, zipped)
	assert.Less(t, zipped, plain/3)
}
