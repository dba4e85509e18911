package exporter_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

var (
	traceA = mustTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	spanA  = mustSpanID("00f067aa0ba902b7")
	t0     = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

	srcRes   = resource.NewSchemaless(attribute.String("service.name", "checkout"))
	srcScope = instrumentation.Scope{Name: "example.com/runtime", Version: "1.2.3"}
	defRes   = resource.NewSchemaless(attribute.String("service.name", "replayer"))
	defScope = instrumentation.Scope{Name: exporter.ScopeName}
)

func mustTraceID(h string) trace.TraceID {
	id, err := trace.TraceIDFromHex(h)
	if err != nil {
		panic(err)
	}
	return id
}

func mustSpanID(h string) trace.SpanID {
	id, err := trace.SpanIDFromHex(h)
	if err != nil {
		panic(err)
	}
	return id
}

// recorder is a SpanExporter that records the size of every batch, can fail
// or run a hook on a chosen batch, notices overlapping ExportSpans calls and
// otherwise delegates to the SDK's InMemoryExporter.
type recorder struct {
	mem *tracetest.InMemoryExporter

	// Set before use, read-only afterwards.
	failAt      int   // 1-based batch number that fails; 0: none
	failErr     error // what the failing batch returns
	hook        func(ctx context.Context, batch int)
	shutdownErr error

	mu      sync.Mutex
	batches []int

	inFlight  atomic.Int32
	overlap   atomic.Bool
	shutdowns atomic.Int32
}

func newRecorder() *recorder { return &recorder{mem: tracetest.NewInMemoryExporter()} }

func (r *recorder) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if r.inFlight.Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.inFlight.Add(-1)

	r.mu.Lock()
	r.batches = append(r.batches, len(spans))
	n := len(r.batches)
	r.mu.Unlock()

	if r.hook != nil {
		r.hook(ctx, n)
	}
	if n == r.failAt {
		return r.failErr
	}
	return r.mem.ExportSpans(ctx, spans)
}

// Shutdown does not delegate: the InMemoryExporter forgets its spans on
// shutdown, and tests inspect them afterwards.
func (r *recorder) Shutdown(context.Context) error {
	r.shutdowns.Add(1)
	return r.shutdownErr
}

func (r *recorder) batchSizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func (r *recorder) spans() tracetest.SpanStubs { return r.mem.GetSpans() }

// events returns n distinct end events in traceA, seq 1..n.
func events(n int) []otelaudit.Event {
	evs := make([]otelaudit.Event, n)
	for i := range evs {
		evs[i] = otelaudit.Event{
			Seq:      uint64(i + 1),
			Type:     otelaudit.NodeEnd,
			Time:     t0.Add(time.Duration(i) * time.Millisecond),
			TraceID:  traceA,
			SpanID:   spanA,
			NodeID:   fmt.Sprintf("node-%d", i),
			Outcome:  otelaudit.Success,
			Duration: time.Millisecond,
		}
	}
	return evs
}

func TestReplaySpanFormat(t *testing.T) {
	base := otelaudit.Event{Seq: 7, Type: otelaudit.NodeStart, Time: t0, TraceID: traceA, SpanID: spanA}
	with := func(f func(*otelaudit.Event)) otelaudit.Event {
		e := base
		f(&e)
		return e
	}
	childOfA := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceA, SpanID: spanA, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	typeSeq := func(typ otelaudit.EventType, seq int64) []attribute.KeyValue {
		return []attribute.KeyValue{otelaudit.KeyEventType.String(string(typ)), otelaudit.KeyEventSeq.Int64(seq)}
	}

	tests := []struct {
		name        string
		event       otelaudit.Event
		wantName    string
		wantParent  trace.SpanContext // zero: root span
		wantStart   time.Time
		wantStatus  sdktrace.Status
		wantAttrs   []attribute.KeyValue
		wantDropped int
		wantRes     *resource.Resource
		wantScope   instrumentation.Scope
	}{
		{
			name: "end event with every field and a source",
			event: otelaudit.Event{
				Seq: 42, Type: otelaudit.NodeEnd, Time: t0, TraceID: traceA, SpanID: spanA,
				ParentSpanID: mustSpanID("1111111111111111"),
				AgentID:      "agent-7", HumanOriginID: "alice", WorkflowID: "wf-1", NodeID: "fetch",
				Action: "http.get", Resource: "https://example.com/a", Outcome: otelaudit.Success,
				Duration:   1500 * time.Millisecond,
				Attributes: []attribute.KeyValue{attribute.String("http.method", "GET"), attribute.Int("retries", 2)},
				Source:     otelaudit.NewSource(srcRes, srcScope),
			},
			wantName:   "audit.node_end",
			wantParent: childOfA,
			wantStart:  t0.Add(-1500 * time.Millisecond),
			wantStatus: sdktrace.Status{Code: codes.Ok},
			wantAttrs: []attribute.KeyValue{
				otelaudit.KeyEventType.String("node_end"),
				otelaudit.KeyEventSeq.Int64(42),
				otelaudit.KeyOutcome.String("success"),
				otelaudit.KeyAgentID.String("agent-7"),
				otelaudit.KeyHumanOriginID.String("alice"),
				otelaudit.KeyWorkflowID.String("wf-1"),
				otelaudit.KeyNodeID.String("fetch"),
				otelaudit.KeyAction.String("http.get"),
				otelaudit.KeyResource.String("https://example.com/a"),
				attribute.String("http.method", "GET"),
				attribute.Int("retries", 2),
			},
			wantRes:   srcRes,
			wantScope: srcScope,
		},
		{
			name:       "start event without optional fields or source",
			event:      base,
			wantName:   "audit.node_start",
			wantParent: childOfA,
			wantStart:  t0,
			wantAttrs:  typeSeq(otelaudit.NodeStart, 7),
			wantRes:    defRes,
			wantScope:  defScope,
		},
		{
			name:       "denied is an error status",
			event:      with(func(e *otelaudit.Event) { e.Type, e.Outcome = otelaudit.TrustDenied, otelaudit.Denied }),
			wantName:   "audit.trust_denied",
			wantParent: childOfA,
			wantStart:  t0,
			wantStatus: sdktrace.Status{Code: codes.Error, Description: "denied"},
			wantAttrs:  append(typeSeq(otelaudit.TrustDenied, 7), otelaudit.KeyOutcome.String("denied")),
			wantRes:    defRes,
			wantScope:  defScope,
		},
		{
			name:       "failure is an error status",
			event:      with(func(e *otelaudit.Event) { e.Outcome = otelaudit.Failure }),
			wantName:   "audit.node_start",
			wantParent: childOfA,
			wantStart:  t0,
			wantStatus: sdktrace.Status{Code: codes.Error, Description: "failure"},
			wantAttrs:  append(typeSeq(otelaudit.NodeStart, 7), otelaudit.KeyOutcome.String("failure")),
			wantRes:    defRes,
			wantScope:  defScope,
		},
		{
			name:       "error is an error status",
			event:      with(func(e *otelaudit.Event) { e.Type, e.Outcome = otelaudit.NodeError, otelaudit.Error }),
			wantName:   "audit.node_error",
			wantParent: childOfA,
			wantStart:  t0,
			wantStatus: sdktrace.Status{Code: codes.Error, Description: "error"},
			wantAttrs:  append(typeSeq(otelaudit.NodeError, 7), otelaudit.KeyOutcome.String("error")),
			wantRes:    defRes,
			wantScope:  defScope,
		},
		{
			name:       "unknown outcome leaves the status unset",
			event:      with(func(e *otelaudit.Event) { e.Outcome = "timeout" }),
			wantName:   "audit.node_start",
			wantParent: childOfA,
			wantStart:  t0,
			wantAttrs:  append(typeSeq(otelaudit.NodeStart, 7), otelaudit.KeyOutcome.String("timeout")),
			wantRes:    defRes,
			wantScope:  defScope,
		},
		{
			name:       "custom event type",
			event:      with(func(e *otelaudit.Event) { e.Type = "payment_approved" }),
			wantName:   "audit.payment_approved",
			wantParent: childOfA,
			wantStart:  t0,
			wantAttrs:  typeSeq("payment_approved", 7),
			wantRes:    defRes,
			wantScope:  defScope,
		},
		{
			name: "invalid and audit-owned event attributes are dropped and counted",
			event: with(func(e *otelaudit.Event) {
				e.AgentID = "agent-7"
				e.Attributes = []attribute.KeyValue{
					attribute.String("audit.agent.id", "mallory"),
					{}, // no key, no value
					attribute.String("keep", "yes"),
					attribute.String("audit.workflow.id", "forged"),
				}
			}),
			wantName:   "audit.node_start",
			wantParent: childOfA,
			wantStart:  t0,
			wantAttrs: append(typeSeq(otelaudit.NodeStart, 7),
				otelaudit.KeyAgentID.String("agent-7"), attribute.String("keep", "yes")),
			wantDropped: 3,
			wantRes:     defRes,
			wantScope:   defScope,
		},
		{
			name:      "no span ID: root span in the event's trace",
			event:     with(func(e *otelaudit.Event) { e.SpanID = trace.SpanID{} }),
			wantName:  "audit.node_start",
			wantStart: t0,
			wantAttrs: typeSeq(otelaudit.NodeStart, 7),
			wantRes:   defRes,
			wantScope: defScope,
		},
		{
			name:      "no trace ID: root span in a derived trace",
			event:     with(func(e *otelaudit.Event) { e.TraceID = trace.TraceID{} }),
			wantName:  "audit.node_start",
			wantStart: t0,
			wantAttrs: typeSeq(otelaudit.NodeStart, 7),
			wantRes:   defRes,
			wantScope: defScope,
		},
		{
			name:       "negative duration counts as none",
			event:      with(func(e *otelaudit.Event) { e.Duration = -time.Second }),
			wantName:   "audit.node_start",
			wantParent: childOfA,
			wantStart:  t0,
			wantAttrs:  typeSeq(otelaudit.NodeStart, 7),
			wantRes:    defRes,
			wantScope:  defScope,
		},
		{
			name:       "source without resource keeps its scope",
			event:      with(func(e *otelaudit.Event) { e.Source = otelaudit.NewSource(nil, srcScope) }),
			wantName:   "audit.node_start",
			wantParent: childOfA,
			wantStart:  t0,
			wantAttrs:  typeSeq(otelaudit.NodeStart, 7),
			wantRes:    defRes,
			wantScope:  srcScope,
		},
		{
			name:       "source without scope name keeps its resource",
			event:      with(func(e *otelaudit.Event) { e.Source = otelaudit.NewSource(srcRes, instrumentation.Scope{}) }),
			wantName:   "audit.node_start",
			wantParent: childOfA,
			wantStart:  t0,
			wantAttrs:  typeSeq(otelaudit.NodeStart, 7),
			wantRes:    srcRes,
			wantScope:  defScope,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			x := exporter.New(rec, exporter.WithResource(defRes))
			require.NoError(t, x.Replay(context.Background(), []otelaudit.Event{tt.event}))

			got := rec.spans()
			require.Len(t, got, 1)
			s := got[0]
			assert.Equal(t, tt.wantName, s.Name)
			assert.Equal(t, trace.SpanKindInternal, s.SpanKind)

			assert.Equal(t, exporter.TraceID(tt.event), s.SpanContext.TraceID())
			if tt.event.TraceID.IsValid() {
				assert.Equal(t, tt.event.TraceID, s.SpanContext.TraceID())
			} else {
				assert.True(t, s.SpanContext.TraceID().IsValid(), "derived trace ID must be valid")
			}
			assert.Equal(t, exporter.SpanID(tt.event), s.SpanContext.SpanID())
			assert.True(t, s.SpanContext.SpanID().IsValid())
			assert.NotEqual(t, tt.event.SpanID, s.SpanContext.SpanID(), "the replay span must not reuse the action's span ID")
			assert.True(t, s.SpanContext.IsSampled())

			if tt.wantParent.IsValid() {
				assert.Equal(t, tt.wantParent.TraceID(), s.Parent.TraceID())
				assert.Equal(t, tt.wantParent.SpanID(), s.Parent.SpanID())
				assert.True(t, s.Parent.IsRemote())
			} else {
				assert.False(t, s.Parent.IsValid(), "want a root span, got parent %v", s.Parent)
			}

			assert.Equal(t, tt.wantStart, s.StartTime)
			assert.Equal(t, tt.event.Time, s.EndTime)
			assert.Equal(t, tt.wantStatus, s.Status)
			assert.Equal(t, tt.wantAttrs, s.Attributes)
			assert.Equal(t, tt.wantDropped, s.DroppedAttributes)
			assert.Same(t, tt.wantRes, s.Resource)
			assert.Equal(t, tt.wantScope, s.InstrumentationScope)
			assert.Empty(t, s.Events)
			assert.Empty(t, s.Links)
		})
	}
}

func TestDefaultResourceAndScope(t *testing.T) {
	tests := []struct {
		name    string
		opts    []exporter.Option
		wantRes *resource.Resource
	}{
		{name: "no option", wantRes: resource.Default()},
		{name: "nil resource means empty", opts: []exporter.Option{exporter.WithResource(nil)}, wantRes: resource.Empty()},
		{name: "nil option is ignored", opts: []exporter.Option{nil}, wantRes: resource.Default()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			x := exporter.New(rec, tt.opts...)
			require.NoError(t, x.Replay(context.Background(), events(1)))
			got := rec.spans()
			require.Len(t, got, 1)
			assert.True(t, tt.wantRes.Equal(got[0].Resource), "resource %v", got[0].Resource)
			assert.Equal(t, defScope, got[0].InstrumentationScope)
		})
	}
}

func TestReplayIsDeterministic(t *testing.T) {
	evs := events(10)
	evs[3].TraceID = trace.TraceID{} // derived trace IDs must be stable too

	replay := func() tracetest.SpanStubs {
		rec := newRecorder()
		require.NoError(t, exporter.New(rec).Replay(context.Background(), evs))
		return rec.spans()
	}
	first, second := replay(), replay()
	require.Len(t, first, len(evs))
	require.Len(t, second, len(evs))
	for i := range evs {
		assert.Equal(t, first[i].SpanContext, second[i].SpanContext, "event %d", i)
		assert.Equal(t, exporter.SpanID(evs[i]), first[i].SpanContext.SpanID(), "event %d", i)
		assert.Equal(t, exporter.TraceID(evs[i]), first[i].SpanContext.TraceID(), "event %d", i)
	}
}

func TestDistinctEventsGetDistinctIDs(t *testing.T) {
	base := otelaudit.Event{Seq: 1, Type: otelaudit.NodeEnd, Time: t0, TraceID: traceA, SpanID: spanA}
	vary := map[string]func(*otelaudit.Event){
		"base":       func(*otelaudit.Event) {},
		"trace ID":   func(e *otelaudit.Event) { e.TraceID[15] ^= 1 },
		"no trace":   func(e *otelaudit.Event) { e.TraceID = trace.TraceID{} },
		"span ID":    func(e *otelaudit.Event) { e.SpanID[7] ^= 1 },
		"no span":    func(e *otelaudit.Event) { e.SpanID = trace.SpanID{} },
		"seq":        func(e *otelaudit.Event) { e.Seq = 2 },
		"type":       func(e *otelaudit.Event) { e.Type = otelaudit.NodeStart },
		"type2":      func(e *otelaudit.Event) { e.Type = "node_end2" },
		"time":       func(e *otelaudit.Event) { e.Time = t0.Add(time.Nanosecond) },
		"zero time":  func(e *otelaudit.Event) { e.Time = time.Time{} },
		"other zone": func(e *otelaudit.Event) { e.Time = t0.Add(time.Hour).In(time.FixedZone("x", 3600)) },
	}
	seen := map[trace.SpanID]string{}
	for name, f := range vary {
		e := base
		f(&e)
		id := exporter.SpanID(e)
		require.True(t, id.IsValid(), name)
		if prev, dup := seen[id]; dup {
			t.Errorf("%q and %q share span ID %s", prev, name, id)
		}
		seen[id] = name
	}

	// What describes an event rather than identifies it does not move its ID:
	// a replay of an event whose description was enriched still de-duplicates.
	described := base
	described.Outcome, described.AgentID = otelaudit.Success, "agent-7"
	described.Attributes = []attribute.KeyValue{attribute.Bool("x", true)}
	assert.Equal(t, exporter.SpanID(base), exporter.SpanID(described))

	// The same instant in another zone is the same event.
	inZone := base
	inZone.Time = t0.In(time.FixedZone("y", -7200))
	assert.Equal(t, exporter.SpanID(base), exporter.SpanID(inZone))
}

// The derivation is part of the wire format: a change makes backends see
// every earlier replay as different spans. These values were checked
// against an independent FNV-1a implementation.
func TestIDsMatchTheDocumentedDerivation(t *testing.T) {
	e := otelaudit.Event{Seq: 42, Type: otelaudit.NodeEnd, Time: t0, TraceID: traceA, SpanID: spanA}
	assert.Equal(t, "7d945c09c23fc3ce", exporter.SpanID(e).String())
	assert.Equal(t, traceA, exporter.TraceID(e))

	e.TraceID = trace.TraceID{}
	assert.Equal(t, "9e0ebdaacd50492e", exporter.SpanID(e).String())
	assert.Equal(t, "de945b44779a0e897073433911ad6453", exporter.TraceID(e).String())
}

func TestDerivedTraceIDs(t *testing.T) {
	a := otelaudit.Event{Seq: 1, Type: otelaudit.ResourceAccess, Time: t0}
	b := a
	b.Seq = 2
	assert.True(t, exporter.TraceID(a).IsValid())
	assert.Equal(t, exporter.TraceID(a), exporter.TraceID(a))
	assert.NotEqual(t, exporter.TraceID(a), exporter.TraceID(b))

	withTrace := a
	withTrace.TraceID = traceA
	assert.Equal(t, traceA, exporter.TraceID(withTrace), "a valid trace ID is kept as is")
}

func TestReplayBatches(t *testing.T) {
	tests := []struct {
		name      string
		events    int
		batchSize *int // nil: option not given
		want      []int
	}{
		{name: "empty replay exports nothing", events: 0, batchSize: ptr(3), want: nil},
		{name: "one short batch", events: 2, batchSize: ptr(3), want: []int{2}},
		{name: "exact multiple", events: 6, batchSize: ptr(3), want: []int{3, 3}},
		{name: "remainder", events: 7, batchSize: ptr(3), want: []int{3, 3, 1}},
		{name: "batch of one", events: 3, batchSize: ptr(1), want: []int{1, 1, 1}},
		{name: "default", events: 2*exporter.DefaultBatchSize + 5, want: []int{exporter.DefaultBatchSize, exporter.DefaultBatchSize, 5}},
		{name: "zero selects the default", events: exporter.DefaultBatchSize + 1, batchSize: ptr(0), want: []int{exporter.DefaultBatchSize, 1}},
		{name: "negative selects the default", events: exporter.DefaultBatchSize + 1, batchSize: ptr(-4), want: []int{exporter.DefaultBatchSize, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			var opts []exporter.Option
			if tt.batchSize != nil {
				opts = append(opts, exporter.WithBatchSize(*tt.batchSize))
			}
			evs := events(tt.events)
			require.NoError(t, exporter.New(rec, opts...).Replay(context.Background(), evs))
			assert.Equal(t, tt.want, rec.batchSizes())

			// Order is kept across batches.
			got := rec.spans()
			require.Len(t, got, len(evs))
			for i, s := range got {
				assert.Equal(t, exporter.SpanID(evs[i]), s.SpanContext.SpanID(), "span %d", i)
			}
		})
	}
}

func TestReplayLeavesCallerMemoryAlone(t *testing.T) {
	evs := events(3)
	for i := range evs {
		// Spare capacity would let an append inside Replay write into the
		// caller's array; give it some so that such a bug shows.
		attrs := make([]attribute.KeyValue, 0, 8)
		evs[i].Attributes = append(attrs, attribute.String("k", "v"), attribute.Int("i", i))
	}
	want := make([]otelaudit.Event, len(evs))
	for i, e := range evs {
		want[i] = e
		want[i].Attributes = slices.Clone(e.Attributes)
	}

	// An exporter that scribbles over every span it is given, as stdouttrace
	// does to timestamps, here to attributes.
	scribbler := spanExporterFunc(func(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
		for _, s := range spans {
			attrs := s.Attributes()
			for i := range attrs {
				attrs[i] = attribute.String("scribbled", "yes")
			}
		}
		return nil
	})
	require.NoError(t, exporter.New(scribbler).Replay(context.Background(), evs))
	assert.Equal(t, want, evs, "Replay or the exporter changed the caller's events")

	// And the other way: spans an exporter keeps do not change when the
	// caller reuses its events afterwards.
	rec := newRecorder()
	require.NoError(t, exporter.New(rec).Replay(context.Background(), evs))
	for i := range evs {
		evs[i].Attributes[0] = attribute.String("k", "changed")
		evs[i].Attributes = append(evs[i].Attributes, attribute.String("extra", "x"))
	}
	for _, s := range rec.spans() {
		assert.Contains(t, s.Attributes, attribute.String("k", "v"))
		assert.NotContains(t, s.Attributes, attribute.String("k", "changed"))
		assert.NotContains(t, s.Attributes, attribute.String("extra", "x"))
	}
}

func ptr[T any](v T) *T { return &v }

type spanExporterFunc func(context.Context, []sdktrace.ReadOnlySpan) error

func (f spanExporterFunc) ExportSpans(ctx context.Context, s []sdktrace.ReadOnlySpan) error {
	return f(ctx, s)
}
func (spanExporterFunc) Shutdown(context.Context) error { return nil }

func TestReplayExportFailure(t *testing.T) {
	errBoom := errors.New("collector unavailable")
	rec := newRecorder()
	rec.failAt, rec.failErr = 2, errBoom
	x := exporter.New(rec, exporter.WithBatchSize(2))

	err := x.Replay(context.Background(), events(7))
	require.Error(t, err)
	assert.ErrorIs(t, err, errBoom)
	assert.Contains(t, err.Error(), "after 2 of 7 events")
	assert.Equal(t, []int{2, 2}, rec.batchSizes(), "replay must stop at the failed batch")
	assert.Len(t, rec.spans(), 2)

	// A failure does not poison the exporter.
	rec.failAt = 0
	require.NoError(t, x.Replay(context.Background(), events(1)))
}

func TestReplayInvalidEvent(t *testing.T) {
	rec := newRecorder()
	evs := events(5)
	evs[3].Type = ""
	err := exporter.New(rec).Replay(context.Background(), evs)
	require.ErrorIs(t, err, exporter.ErrInvalidEvent)
	assert.Contains(t, err.Error(), "event 3 (seq 4)")
	assert.Empty(t, rec.batchSizes(), "nothing may be exported from a refused call")
}

func TestReplayHonoursContext(t *testing.T) {
	t.Run("cancelled before the call", func(t *testing.T) {
		rec := newRecorder()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := exporter.New(rec).Replay(ctx, events(3))
		require.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, rec.batchSizes())
	})
	t.Run("cancelled between batches", func(t *testing.T) {
		rec := newRecorder()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec.hook = func(_ context.Context, batch int) {
			if batch == 1 {
				cancel()
			}
		}
		err := exporter.New(rec, exporter.WithBatchSize(2)).Replay(ctx, events(5))
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "after 2 of 5 events")
		assert.Equal(t, []int{2}, rec.batchSizes())
	})
	t.Run("deadline while waiting for another replay", func(t *testing.T) {
		rec, release := blockedRecorder()
		x := exporter.New(rec)
		done := startReplay(x, events(1))
		waitInFlight(t, rec)

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := x.Replay(ctx, events(1))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Contains(t, err.Error(), "nothing exported")

		ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel2()
		require.ErrorIs(t, x.ForceFlush(ctx2), context.DeadlineExceeded)

		close(release)
		require.NoError(t, <-done)
		assert.Equal(t, []int{1}, rec.batchSizes())
		require.NoError(t, x.ForceFlush(context.Background()))
	})
}

// blockedRecorder returns a recorder whose first ExportSpans blocks until
// the returned channel is closed.
func blockedRecorder() (*recorder, chan struct{}) {
	rec := newRecorder()
	release := make(chan struct{})
	rec.hook = func(_ context.Context, batch int) {
		if batch == 1 {
			<-release
		}
	}
	return rec, release
}

func startReplay(x *exporter.Exporter, evs []otelaudit.Event) <-chan error {
	done := make(chan error, 1)
	go func() { done <- x.Replay(context.Background(), evs) }()
	return done
}

func waitInFlight(t *testing.T, rec *recorder) {
	t.Helper()
	require.Eventually(t, func() bool { return rec.inFlight.Load() == 1 }, 5*time.Second, time.Millisecond)
}

func TestShutdown(t *testing.T) {
	t.Run("refuses later replays and shuts down once", func(t *testing.T) {
		rec := newRecorder()
		x := exporter.New(rec)
		require.NoError(t, x.Replay(context.Background(), events(2)))
		require.NoError(t, x.Shutdown(context.Background()))

		err := x.Replay(context.Background(), events(1))
		require.ErrorIs(t, err, exporter.ErrShutdown)
		require.ErrorIs(t, x.Replay(context.Background(), nil), exporter.ErrShutdown)
		assert.Len(t, rec.spans(), 2)

		require.NoError(t, x.Shutdown(context.Background()), "second Shutdown returns nil, as in the SDK")
		assert.Equal(t, int32(1), rec.shutdowns.Load())
		assert.NoError(t, x.ForceFlush(context.Background()))
	})
	t.Run("reports the exporter's shutdown error once", func(t *testing.T) {
		errShut := errors.New("flush failed")
		rec := newRecorder()
		rec.shutdownErr = errShut
		x := exporter.New(rec)
		require.ErrorIs(t, x.Shutdown(context.Background()), errShut)
		require.NoError(t, x.Shutdown(context.Background()))
		assert.Equal(t, int32(1), rec.shutdowns.Load())
	})
	t.Run("waits for the replay in flight within its context", func(t *testing.T) {
		rec, release := blockedRecorder()
		x := exporter.New(rec)
		done := startReplay(x, events(3))
		waitInFlight(t, rec)

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := x.Shutdown(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, int32(0), rec.shutdowns.Load(), "must not shut the exporter down under a running export")

		// Already refused, although the exporter is not shut down yet.
		require.ErrorIs(t, x.Replay(context.Background(), events(1)), exporter.ErrShutdown)

		close(release)
		require.NoError(t, <-done, "the in-flight replay completes")
		require.NoError(t, x.Shutdown(context.Background()), "a later Shutdown finishes the job")
		assert.Equal(t, int32(1), rec.shutdowns.Load())
		assert.Len(t, rec.spans(), 3)
	})
	t.Run("replays queued behind the in-flight one are refused", func(t *testing.T) {
		rec, release := blockedRecorder()
		x := exporter.New(rec)
		first := startReplay(x, events(1))
		waitInFlight(t, rec)
		queued := startReplay(x, events(1))

		shut := make(chan error, 1)
		go func() { shut <- x.Shutdown(context.Background()) }()
		// Let the queued replay and Shutdown reach the lock; whichever of
		// them wins it, the queued replay must be refused because
		// Shutdown was called while it waited.
		require.Eventually(t, func() bool {
			return x.Replay(context.Background(), nil) != nil
		}, 5*time.Second, time.Millisecond)
		close(release)

		require.NoError(t, <-first)
		require.NoError(t, <-shut)
		assert.Equal(t, []int{1}, rec.batchSizes())
		// The queued call may also have been refused before queueing.
		require.ErrorIs(t, <-queued, exporter.ErrShutdown)
	})
}

func TestNilExporter(t *testing.T) {
	tests := []struct {
		name string
		x    *exporter.Exporter
	}{
		{name: "nil pointer", x: nil},
		{name: "zero value", x: &exporter.Exporter{}},
		{name: "New(nil)", x: exporter.New(nil)},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.x.Replay(ctx, events(1)), exporter.ErrNilExporter)
			assert.ErrorIs(t, tt.x.Replay(ctx, nil), exporter.ErrNilExporter)
			assert.ErrorIs(t, tt.x.ForceFlush(ctx), exporter.ErrNilExporter)
			assert.ErrorIs(t, tt.x.Shutdown(ctx), exporter.ErrNilExporter)
		})
	}
}

func TestConcurrentReplay(t *testing.T) {
	const (
		goroutines = 8
		replays    = 50
		perReplay  = 7
	)
	rec := newRecorder()
	x := exporter.New(rec, exporter.WithBatchSize(3))

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for r := range replays {
				evs := events(perReplay)
				for i := range evs {
					evs[i].Seq = uint64((g*replays+r)*perReplay + i + 1)
				}
				assert.NoError(t, x.Replay(context.Background(), evs))
			}
		})
	}
	wg.Wait()
	require.NoError(t, x.Shutdown(context.Background()))

	assert.False(t, rec.overlap.Load(), "ExportSpans was called concurrently")
	spans := rec.spans()
	require.Len(t, spans, goroutines*replays*perReplay)
	ids := make(map[trace.SpanID]struct{}, len(spans))
	for _, s := range spans {
		ids[s.SpanContext.SpanID()] = struct{}{}
	}
	assert.Len(t, ids, len(spans), "every event must get its own span ID")
	assert.Len(t, rec.batchSizes(), goroutines*replays*3) // 7 events in batches of 3: 3, 3, 1
}
