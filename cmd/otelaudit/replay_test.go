package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/grpc"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func TestReplayStdout(t *testing.T) {
	f := newFixture(t)
	id := fixtureTraces[2]
	want := seqsWhere(func(i int, _ otelaudit.Event) bool { return i%3 == 2 })
	for _, args := range [][]string{
		{"replay", "--db", f.db, "--trace", id.String(), "--to", "stdout"},
		{"replay", id.String(), "--db", f.db}, // stdout is the default, the ID may be the argument
	} {
		r := runCLI(t, nil, args...)
		require.Equal(t, exitOK, r.code, "%q: %s", args, r.stderr)
		assertOneErrorLine(t, r) // the summary, kept off stdout
		assert.Contains(t, r.stderr, "replayed 10 events of trace "+id.String()+" to stdout")

		// Pretty-printed spans: a stream of JSON objects, one per event.
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		var seqs []uint64
		for {
			var span struct {
				Name        string
				SpanContext struct{ TraceID string }
				Parent      struct{ TraceID, SpanID string }
				Attributes  []struct {
					Key   string
					Value struct{ Value any }
				}
			}
			err := dec.Decode(&span)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			assert.Equal(t, id.String(), span.SpanContext.TraceID)
			assert.Equal(t, id.String(), span.Parent.TraceID, "the audit span is a child of the action's span")
			assert.True(t, strings.HasPrefix(span.Name, "audit."), span.Name)
			for _, a := range span.Attributes {
				if a.Key == "audit.event.seq" {
					seqs = append(seqs, uint64(a.Value.Value.(float64)))
				}
			}
		}
		assert.Equal(t, want, seqs, "%q", args)
	}
}

// TestReplayDeadEndpoint: nothing listens, so the replay must fail with
// one clear line well within its timeout, not hang.
func TestReplayDeadEndpoint(t *testing.T) {
	f := newFixture(t)
	addr := deadAddr(t)

	for _, endpoint := range []string{addr, "http://" + addr} {
		start := time.Now()
		r := runCLI(t, nil, "replay", "--db", f.db, "--trace", fixtureTraces[0].String(), "--to", "otlp", "--endpoint", endpoint, "--timeout", "3s")
		assert.Less(t, time.Since(start), 4*time.Second)
		assert.Equal(t, exitFail, r.code)
		assertOneErrorLine(t, r)
		assert.Contains(t, r.stderr, "replay: 10 events of trace "+fixtureTraces[0].String()+" to "+addr)
		assert.Contains(t, r.stderr, "is an OpenTelemetry Collector listening for OTLP/gRPC on "+addr)
		assert.Empty(t, r.stdout)
	}
}

// collector is an OTLP/gRPC trace receiver that keeps what it is sent.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu       sync.Mutex
	traceIDs []string
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.traceIDs = append(c.traceIDs, string(s.GetTraceId()))
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func TestReplayOTLP(t *testing.T) {
	f := newFixture(t)
	c := &collector{}
	addr := serveGRPC(t, func(srv *grpc.Server) { coltracepb.RegisterTraceServiceServer(srv, c) })

	id := fixtureTraces[1]
	// The endpoint from the environment, as every OTel SDK reads it.
	r := runCLI(t, map[string]string{envEndpoint: "http://" + addr}, "replay", "--db", f.db, "--trace", id.String(), "--to", "otlp")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Contains(t, r.stdout, "replayed 10 events of trace "+id.String()+" to "+addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.traceIDs, 10)
	for _, got := range c.traceIDs {
		assert.Equal(t, string(id[:]), got)
	}
}

func TestReplayNotFound(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "replay", "--db", f.db, "--trace", "0123456789abcdef0123456789abcdef")
	assert.Equal(t, exitFail, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "no events of trace")
	assert.Empty(t, r.stdout)
}

func TestResolveEndpoint(t *testing.T) {
	tests := []struct {
		flag, env string
		want      string
		secure    bool
	}{
		{"", "", defaultEndpoint, false},
		{"collector:4317", "", "collector:4317", false},
		{"http://collector:4317", "", "collector:4317", false},
		{"https://collector:4317", "", "collector:4317", true},
		{"", "http://otel:4317", "otel:4317", false},
		{"", "https://otel:4317", "otel:4317", true},
		{"flag:1", "https://otel:4317", "flag:1", false}, // the flag wins over the environment
	}
	for _, tc := range tests {
		got, secure := resolveEndpoint(tc.flag, func(string) string { return tc.env })
		assert.Equal(t, tc.want, got, "%+v", tc)
		assert.Equal(t, tc.secure, secure, "%+v", tc)
	}
}

// TestReplaySilentEndpoint: a listener that accepts connections and never
// answers must not hang the replay past its timeout (plus the grace the
// exporter gets to let go of its connection).
func TestReplaySilentEndpoint(t *testing.T) {
	f := newFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	start := time.Now()
	r := runCLI(t, nil, "replay", "--db", f.db, "--trace", fixtureTraces[0].String(), "--to", "otlp", "--endpoint", l.Addr().String(), "--timeout", "1s")
	assert.Less(t, time.Since(start), 1*time.Second+shutdownGrace+time.Second)
	assert.Equal(t, exitFail, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "is an OpenTelemetry Collector listening")
}

// TestReplayLogsStdout: --as logs writes stdoutlog's JSON, one record per
// event, with the event's trace and the audit attributes.
func TestReplayLogsStdout(t *testing.T) {
	f := newFixture(t)
	id := fixtureTraces[2]
	want := seqsWhere(func(i int, _ otelaudit.Event) bool { return i%3 == 2 })
	r := runCLI(t, nil, "replay", "--db", f.db, "--trace", id.String(), "--as", "logs")
	require.Equal(t, exitOK, r.code, r.stderr)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "replayed 10 events of trace "+id.String()+" to stdout as log records")

	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var seqs []uint64
	for {
		var rec struct {
			EventName    string
			SeverityText string
			Body         struct{ Value string }
			TraceID      string
			Attributes   []struct {
				Key   string
				Value struct{ Value any }
			}
		}
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		assert.Equal(t, id.String(), rec.TraceID)
		assert.True(t, strings.HasPrefix(rec.EventName, "audit."), rec.EventName)
		assert.Contains(t, []string{"INFO", "WARN", "ERROR"}, rec.SeverityText)
		assert.True(t, strings.HasPrefix(rec.Body.Value, strings.TrimPrefix(rec.EventName, "audit.")), rec.Body.Value)
		for _, a := range rec.Attributes {
			if a.Key == "audit.event.seq" {
				seqs = append(seqs, uint64(a.Value.Value.(float64)))
			}
		}
	}
	assert.Equal(t, want, seqs)
}

// logCollector is an OTLP/gRPC logs receiver that keeps what it is sent.
type logCollector struct {
	collogspb.UnimplementedLogsServiceServer
	mu      sync.Mutex
	records []*logspb.LogRecord
}

func (c *logCollector) Export(_ context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			c.records = append(c.records, sl.GetLogRecords()...)
		}
	}
	return &collogspb.ExportLogsServiceResponse{}, nil
}

func TestReplayLogsOTLP(t *testing.T) {
	f := newFixture(t)
	c := &logCollector{}
	addr := serveGRPC(t, func(srv *grpc.Server) { collogspb.RegisterLogsServiceServer(srv, c) })

	id := fixtureTraces[1]
	r := runCLI(t, nil, "replay", "--db", f.db, "--trace", id.String(), "--to", "otlp", "--as", "logs", "--endpoint", addr)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Contains(t, r.stdout, "replayed 10 events of trace "+id.String()+" to "+addr+" as log records")
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.records, 10)
	for _, rec := range c.records {
		assert.Equal(t, id[:], rec.GetTraceId())
		assert.True(t, strings.HasPrefix(rec.GetEventName(), "audit."), rec.GetEventName())
	}
}

func TestReplayLogsDeadEndpoint(t *testing.T) {
	f := newFixture(t)
	addr := deadAddr(t)
	start := time.Now()
	r := runCLI(t, nil, "replay", "--db", f.db, "--trace", fixtureTraces[0].String(), "--to", "otlp", "--as", "logs", "--endpoint", addr, "--timeout", "3s")
	assert.Less(t, time.Since(start), 4*time.Second+shutdownGrace)
	assert.Equal(t, exitFail, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "is an OpenTelemetry Collector listening for OTLP/gRPC on "+addr)
}

func TestReplayBadAs(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "replay", "--db", f.db, "--trace", fixtureTraces[0].String(), "--as", "metrics")
	assert.Equal(t, exitUsage, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, `--as "metrics": want spans or logs`)
}

// serveGRPC serves, on a loopback port until the test ends, a gRPC server
// with the services register puts on it, and returns its address.
func serveGRPC(t *testing.T, register func(*grpc.Server)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	register(srv)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

// deadAddr is a loopback address nothing listens on: a port just let go
// of, which (almost surely) nothing has taken since.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
