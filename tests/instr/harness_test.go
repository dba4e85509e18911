package instr

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/XSAM/otelsql"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	_ "modernc.org/sqlite"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// propagators are what a service propagates: W3C trace context and
// Baggage. Given to each instrumentation rather than set globally, so that
// tests stay independent.
var propagators = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// runtime is an agent runtime with the processor and its Sampler, a trace
// exporter that gets what the sampler samples, and real instrumented
// clients: otelhttp to an HTTP service on 127.0.0.1 (itself instrumented
// with otelhttp's handler), otelsql over SQLite, otelgrpc to a gRPC health
// service on 127.0.0.1 (instrumented with otelgrpc's server handler).
type runtime struct {
	g        *otelaudit.Generator
	p        *processor.Processor
	tp       *sdktrace.TracerProvider
	tracer   trace.Tracer
	exported *tracetest.InMemoryExporter // sampled spans, as a trace backend gets them
	recorded *tracetest.SpanRecorder     // every recorded span, sampled or not

	http    *http.Client
	web     string // base URL of the HTTP service
	refused string // base URL where nothing listens
	db      *sql.DB
	health  healthpb.HealthClient
}

func newRuntime(t *testing.T, base sdktrace.Sampler, opts ...processor.Option) *runtime {
	t.Helper()
	r := &runtime{
		g:        otelaudit.NewGenerator(),
		exported: tracetest.NewInMemoryExporter(),
		recorded: tracetest.NewSpanRecorder(),
	}
	r.p = processor.New(r.g, opts...)
	r.tp = sdktrace.NewTracerProvider(
		sdktrace.WithSampler(r.p.Sampler(base)),
		sdktrace.WithSpanProcessor(r.p),
		sdktrace.WithSpanProcessor(r.recorded),
		sdktrace.WithSyncer(r.exported),
	)
	t.Cleanup(func() { _ = r.tp.Shutdown(context.Background()) })
	r.tracer = r.tp.Tracer("example.com/agent-runtime")

	web := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		switch req.URL.Path {
		case "/catalog":
			_, _ = io.WriteString(w, `{"items":3}`)
		case "/vendors/acme":
			w.WriteHeader(http.StatusForbidden)
		case "/admin":
			w.WriteHeader(http.StatusUnauthorized)
		case "/reports":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}), "web", otelhttp.WithTracerProvider(r.tp), otelhttp.WithPropagators(propagators)))
	t.Cleanup(web.Close)
	r.web = web.URL

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r.refused = "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	r.http = &http.Client{Transport: otelhttp.NewTransport(&http.Transport{},
		otelhttp.WithTracerProvider(r.tp), otelhttp.WithPropagators(propagators))}
	t.Cleanup(r.http.CloseIdleConnections)

	r.db, err = otelsql.Open("sqlite", fmt.Sprintf("file:inv%d?mode=memory&cache=shared", dbSeq.Add(1)),
		otelsql.WithTracerProvider(r.tp),
		otelsql.WithAttributes(semconv.DBSystemNameSQLite, semconv.DBNamespace("inventory")))
	require.NoError(t, err)
	r.db.SetMaxOpenConns(1) // one in-memory database
	t.Cleanup(func() { _ = r.db.Close() })
	_, err = r.db.Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
	require.NoError(t, err)

	gln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := health.NewServer()
	hs.SetServingStatus("inventory", healthpb.HealthCheckResponse_SERVING)
	gs := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(r.tp), otelgrpc.WithPropagators(propagators))),
		grpc.UnaryInterceptor(refuse),
	)
	healthpb.RegisterHealthServer(gs, hs)
	go func() { _ = gs.Serve(gln) }()
	t.Cleanup(gs.Stop)
	cc, err := grpc.NewClient(gln.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(r.tp), otelgrpc.WithPropagators(propagators))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	r.health = healthpb.NewHealthClient(cc)
	return r
}

var dbSeq atomic.Int64

// refuse is the gRPC service's authorisation: it refuses some of the
// services a health check asks about, with real status codes.
func refuse(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if r, ok := req.(*healthpb.HealthCheckRequest); ok {
		switch r.GetService() {
		case "payments":
			return nil, status.Error(grpccodes.PermissionDenied, "agents may not see payments")
		case "billing":
			return nil, status.Error(grpccodes.Unauthenticated, "no credentials")
		case "ledger":
			return nil, status.Error(grpccodes.Internal, "ledger is down")
		}
	}
	return handler(ctx, req)
}

// run is one workflow's IDs: its trace, its root span, and each tool's
// span by node.
type run struct {
	trace trace.TraceID
	root  trace.SpanID
	tools map[string]trace.SpanID
}

// workflow runs the procurement agent: a workflow of tool calls, each
// tool a node that calls out through the instrumented clients. user ""
// leaves enduser.id off the root span (it then comes from Baggage).
func (r *runtime) workflow(t *testing.T, ctx context.Context, id, user string) run {
	attrs := []attribute.KeyValue{
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.id", "procurement-agent"),
		attribute.String("workflow.id", id),
	}
	if user != "" {
		attrs = append(attrs, attribute.String("enduser.id", user))
	}
	ctx, wf := r.tracer.Start(ctx, "invoke_agent procurement-agent", trace.WithAttributes(attrs...))
	out := run{trace: wf.SpanContext().TraceID(), root: wf.SpanContext().SpanID(), tools: map[string]trace.SpanID{}}
	tool := func(node string, body func(ctx context.Context)) {
		ctx, sp := r.tracer.Start(ctx, "execute_tool "+node, trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "execute_tool"),
			attribute.String("gen_ai.tool.name", node),
			attribute.String("node.id", node)))
		out.tools[node] = sp.SpanContext().SpanID()
		body(ctx)
		sp.End()
	}
	get := func(ctx context.Context, method, url string) {
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(""))
		require.NoError(t, err)
		resp, err := r.http.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close() // otelhttp ends the span here
		}
	}
	check := func(ctx context.Context, service string) {
		_, _ = r.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	}

	tool("catalog", func(ctx context.Context) { get(ctx, "GET", r.web+"/catalog?session=s3cr3t#top") })
	tool("vendor", func(ctx context.Context) { get(ctx, "GET", r.web+"/vendors/acme") })
	tool("admin", func(ctx context.Context) { get(ctx, "GET", r.web+"/admin") })
	tool("report", func(ctx context.Context) { get(ctx, "POST", r.web+"/reports") })
	tool("legacy", func(ctx context.Context) { get(ctx, "GET", r.refused+"/orders") })
	tool("stock", func(ctx context.Context) {
		_, err := r.db.ExecContext(ctx, "INSERT INTO items (name) VALUES (?)", "bolt")
		require.NoError(t, err)
		rows, err := r.db.QueryContext(ctx, "SELECT name FROM items WHERE name = 'bolt'")
		require.NoError(t, err)
		for rows.Next() {
		}
		require.NoError(t, rows.Close())
		_, err = r.db.QueryContext(ctx, "SELECT * FROM missing")
		require.Error(t, err)
	})
	tool("services", func(ctx context.Context) {
		check(ctx, "inventory")
		check(ctx, "payments")
		check(ctx, "billing")
		check(ctx, "ledger")
	})
	wf.SetStatus(codes.Error, "some tools failed")
	wf.End()
	return out
}
