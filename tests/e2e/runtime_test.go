package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// cursorName is where the tests' Streams keep their delivered Seq.
const cursorName = "e2e"

// auditRuntime is what a program that audits and streams to a collector
// runs in-process: a Generator with a store, and a Stream that follows the
// store and keeps its cursor there.
type auditRuntime struct {
	g      *otelaudit.Generator
	st     *store.Store
	stream *exporter.Stream
}

// newAuditRuntime starts an auditRuntime streaming spans to addr, with
// its metrics in mp (nil: the global MeterProvider). Cleanup stops the
// Stream, then the Generator, which closes the store.
func newAuditRuntime(tb testing.TB, addr string, mp metric.MeterProvider) *auditRuntime {
	tb.Helper()
	return startAuditRuntime(tb, mp, func(src exporter.Trail, opts ...exporter.StreamOption) (*exporter.Stream, error) {
		return exporter.NewStream(src, newOTLPExporter(tb, addr), opts...)
	})
}

// newLogAuditRuntime is newAuditRuntime streaming log records.
func newLogAuditRuntime(tb testing.TB, addr string, mp metric.MeterProvider) *auditRuntime {
	tb.Helper()
	return startAuditRuntime(tb, mp, func(src exporter.Trail, opts ...exporter.StreamOption) (*exporter.Stream, error) {
		return exporter.NewLogStream(src, newOTLPLogExporter(tb, addr), opts...)
	})
}

func startAuditRuntime(tb testing.TB, mp metric.MeterProvider,
	newStream func(exporter.Trail, ...exporter.StreamOption) (*exporter.Stream, error),
) *auditRuntime {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "audit.db"))
	if err != nil {
		tb.Fatalf("store: %v", err)
	}
	g := otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithMeterProvider(mp),
		// The e2e.* attributes say which worker and which event a record
		// is: kept beside the default level's known safe keys.
		otelaudit.WithPolicy(otelaudit.Policy{Keep: []string{"e2e.*"}}))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			tb.Errorf("generator shutdown: %v", err)
		}
	})
	s, err := newStream(st,
		exporter.WithCursor(st, cursorName),
		// Short waits between retries: an outage of a few hundred
		// milliseconds is over after a handful of attempts.
		exporter.WithBackoff(20*time.Millisecond, 500*time.Millisecond),
		exporter.WithExportTimeout(exportTimeout),
		exporter.WithMeterProvider(mp))
	if err != nil {
		tb.Fatalf("stream: %v", err)
	}
	tb.Cleanup(func() {
		// Whatever is left is only left when the test already failed: do
		// not wait long for it.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return &auditRuntime{g: g, st: st, stream: s}
}

// testEvent is event i of worker w: a tool call in the worker's own trace,
// with every optional audit field set and two attributes of its own.
func testEvent(w, i int) otelaudit.Event {
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[:8], 0xe2e)
	binary.BigEndian.PutUint64(tid[8:], uint64(w)+1)
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], uint64(i)+1)
	return otelaudit.Event{
		Type:          otelaudit.ResourceAccess,
		TraceID:       tid,
		SpanID:        sid,
		AgentID:       fmt.Sprintf("agent-%d", w),
		HumanOriginID: "alice",
		WorkflowID:    "e2e",
		NodeID:        fmt.Sprintf("node-%d", i%8),
		Action:        "read",
		Resource:      "s3://bucket/object",
		Outcome:       otelaudit.Success,
		Duration:      time.Millisecond,
		Attributes: []attribute.KeyValue{
			attribute.Int("e2e.worker", w),
			attribute.Int("e2e.i", i),
		},
	}
}

// errCounter counts the errors of many goroutines and keeps the first.
type errCounter struct {
	mu    sync.Mutex
	n     int
	first error
}

func (e *errCounter) add(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if e.first == nil {
		e.first = err
	}
}

// requireNone fails the test if any call of what failed.
func (e *errCounter) requireNone(tb testing.TB, what string) {
	tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n > 0 {
		tb.Fatalf("%d %s calls failed; the first: %v", e.n, what, e.first)
	}
}
