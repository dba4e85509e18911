package exporter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// logRecorder is an sdklog.Exporter that keeps a clone of every record
// (the contract forbids keeping the slice), records batch sizes, can fail
// a chosen batch, and notices overlapping Export calls.
type logRecorder struct {
	failAt  int // 1-based batch that fails; 0: none
	failErr error

	mu      sync.Mutex
	records []sdklog.Record
	batches []int

	inFlight  atomic.Int32
	overlap   atomic.Bool
	flushes   atomic.Int32
	shutdowns atomic.Int32
}

func (r *logRecorder) Export(_ context.Context, records []sdklog.Record) error {
	if r.inFlight.Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.inFlight.Add(-1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, len(records))
	if len(r.batches) == r.failAt {
		return r.failErr
	}
	for _, rec := range records {
		r.records = append(r.records, rec.Clone())
	}
	return nil
}

func (r *logRecorder) ForceFlush(context.Context) error {
	r.flushes.Add(1)
	return nil
}

func (r *logRecorder) Shutdown(context.Context) error {
	r.shutdowns.Add(1)
	return nil
}

func (r *logRecorder) got() []sdklog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

func (r *logRecorder) batchSizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func recordAttrs(r sdklog.Record) []attribute.KeyValue {
	var kvs []attribute.KeyValue
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		kvs = append(kvs, kv)
		return true
	})
	return kvs
}

// TestLogRecordFormat pins every field of the log record of an event,
// and every severity.
func TestLogRecordFormat(t *testing.T) {
	src := otelaudit.NewSource(srcRes, srcScope)
	full := otelaudit.Event{
		Seq: 42, Type: otelaudit.NodeEnd, Time: t0,
		TraceID: traceA, SpanID: spanA, ParentSpanID: mustSpanID("1111111111111111"),
		AgentID: "planner", HumanOriginID: "alice", WorkflowID: "wf-1", NodeID: "fetch",
		Action: "execute_tool http_get", Resource: "https://api.example/v1", Outcome: otelaudit.Denied,
		Duration: 1500 * time.Microsecond,
		Attributes: []attribute.KeyValue{
			attribute.String("gen_ai.tool.name", "http_get"),
			attribute.Int64Slice("ports", []int64{80, 443}),
			otelaudit.KeyOutcome.String("success"), // forged audit field: dropped
			otelaudit.KeyDuration.Int64(1),         // forged duration: dropped
			{Key: "", Value: attribute.StringValue("invalid")},
		},
		Source: src,
	}
	minimal := otelaudit.Event{Seq: 7, Type: "custom_type", Time: t0}

	tests := []struct {
		name     string
		e        otelaudit.Event
		sev      log.Severity
		sevText  string
		body     string
		attrs    []attribute.KeyValue
		traced   bool
		res      *resource.Resource
		scope    instrumentation.Scope
		eventNam string
	}{
		{
			name: "every field", e: full,
			sev: log.SeverityWarn, sevText: "WARN",
			body: "node_end: execute_tool http_get on https://api.example/v1 (denied)",
			attrs: []attribute.KeyValue{
				otelaudit.KeyEventType.String("node_end"),
				otelaudit.KeyEventSeq.Int64(42),
				otelaudit.KeyOutcome.String("denied"),
				otelaudit.KeyAgentID.String("planner"),
				otelaudit.KeyHumanOriginID.String("alice"),
				otelaudit.KeyWorkflowID.String("wf-1"),
				otelaudit.KeyNodeID.String("fetch"),
				otelaudit.KeyAction.String("execute_tool http_get"),
				otelaudit.KeyResource.String("https://api.example/v1"),
				otelaudit.KeyDuration.Int64(1_500_000),
				attribute.String("gen_ai.tool.name", "http_get"),
				attribute.Int64Slice("ports", []int64{80, 443}),
			},
			traced: true, res: srcRes, scope: srcScope, eventNam: "audit.node_end",
		},
		{
			name: "nothing optional, outside any trace", e: minimal,
			sev: log.SeverityInfo, sevText: "INFO", body: "custom_type",
			attrs: []attribute.KeyValue{
				otelaudit.KeyEventType.String("custom_type"),
				otelaudit.KeyEventSeq.Int64(7),
			},
			res: defRes, scope: defScope, eventNam: "audit.custom_type",
		},
	}
	for _, o := range []struct {
		outcome otelaudit.Outcome
		sev     log.Severity
		text    string
	}{
		{otelaudit.Success, log.SeverityInfo, "INFO"},
		{otelaudit.Failure, log.SeverityWarn, "WARN"},
		{otelaudit.Denied, log.SeverityWarn, "WARN"},
		{otelaudit.Error, log.SeverityError, "ERROR"},
		{"unheard_of", log.SeverityWarn, "WARN"},
	} {
		e := minimal
		e.Outcome = o.outcome
		tests = append(tests, struct {
			name     string
			e        otelaudit.Event
			sev      log.Severity
			sevText  string
			body     string
			attrs    []attribute.KeyValue
			traced   bool
			res      *resource.Resource
			scope    instrumentation.Scope
			eventNam string
		}{
			name: "outcome " + string(o.outcome), e: e, sev: o.sev, sevText: o.text,
			body: "custom_type (" + string(o.outcome) + ")",
			attrs: []attribute.KeyValue{
				otelaudit.KeyEventType.String("custom_type"),
				otelaudit.KeyEventSeq.Int64(7),
				otelaudit.KeyOutcome.String(string(o.outcome)),
			},
			res: defRes, scope: defScope, eventNam: "audit.custom_type",
		})
	}

	// The resources compared below are the records' whole resources: the
	// logs SDK would merge these into them.
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &logRecorder{}
			x := exporter.NewLogExporter(rec, exporter.WithResource(defRes))
			before := time.Now()
			require.NoError(t, x.Replay(context.Background(), []otelaudit.Event{tt.e}))
			after := time.Now()
			got := rec.got()
			require.Len(t, got, 1)
			r := got[0]

			assert.Equal(t, tt.eventNam, r.EventName())
			assert.True(t, r.Timestamp().Equal(tt.e.Time), "timestamp is the event's time: %s", r.Timestamp())
			assert.False(t, r.ObservedTimestamp().Before(before), "observed when exported")
			assert.False(t, r.ObservedTimestamp().After(after), "observed when exported")
			assert.Equal(t, tt.sev, r.Severity())
			assert.Equal(t, tt.sevText, r.SeverityText())
			assert.Equal(t, attribute.StringValue(tt.body), r.Body())
			assert.Equal(t, tt.attrs, recordAttrs(r))
			assert.Zero(t, r.DroppedAttributes())
			if tt.traced {
				assert.Equal(t, tt.e.TraceID, r.TraceID())
				assert.Equal(t, tt.e.SpanID, r.SpanID(), "the span ID of the action")
				assert.Equal(t, trace.FlagsSampled, r.TraceFlags())
			} else {
				assert.False(t, r.TraceID().IsValid(), "no trace context made up")
				assert.False(t, r.SpanID().IsValid())
				assert.Zero(t, r.TraceFlags())
			}
			assert.True(t, tt.res.Equal(r.Resource()), "resource: %v", r.Resource())
			assert.Equal(t, tt.scope, r.InstrumentationScope())
		})
	}
}

// TestLogRecordResourceUnderEnvironment: the logs SDK merges
// OTEL_RESOURCE_ATTRIBUTES into every LoggerProvider's resource, which is
// the only way a record gets one. The event's own attributes win; what the
// environment adds beside them is documented.
func TestLogRecordResourceUnderEnvironment(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-env,deployment.environment.name=prod")
	t.Setenv("OTEL_SERVICE_NAME", "")
	rec := &logRecorder{}
	x := exporter.NewLogExporter(rec)
	e := events(1)[0]
	e.Source = otelaudit.NewSource(srcRes, srcScope)
	require.NoError(t, x.Replay(context.Background(), []otelaudit.Event{e}))
	res := rec.got()[0].Resource()
	name, _ := res.Set().Value("service.name")
	assert.Equal(t, "checkout", name.AsString(), "the source's service.name wins")
	env, ok := res.Set().Value("deployment.environment.name")
	assert.True(t, ok)
	assert.Equal(t, "prod", env.AsString())
}

func TestLogSeverity(t *testing.T) {
	for o, want := range map[otelaudit.Outcome]log.Severity{
		"": log.SeverityInfo, otelaudit.Success: log.SeverityInfo,
		otelaudit.Denied: log.SeverityWarn, otelaudit.Failure: log.SeverityWarn,
		otelaudit.Error: log.SeverityError, "other": log.SeverityWarn,
	} {
		assert.Equal(t, want, exporter.LogSeverity(o), "outcome %q", o)
	}
}

// TestLogBody: the body is one line whatever the fields hold, and short.
func TestLogBody(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2 bytes each
	tests := []struct {
		name string
		e    otelaudit.Event
		want string
	}{
		{"type only", otelaudit.Event{Type: "node_start"}, "node_start"},
		{"action", otelaudit.Event{Type: "node_start", Action: "plan"}, "node_start: plan"},
		{"resource", otelaudit.Event{Type: "resource_access", Resource: "s3://b/k", Outcome: otelaudit.Success}, "resource_access: s3://b/k (success)"},
		{"all", otelaudit.Event{Type: "trust_denied", Action: "execute_tool charge_card", Resource: "payments://cards/alice", Outcome: otelaudit.Denied},
			"trust_denied: execute_tool charge_card on payments://cards/alice (denied)"},
		{"forged line", otelaudit.Event{Type: "node_end", Action: "x\n2026-01-01 INFO trust_verification: all fine\r"},
			`node_end: x\n2026-01-01 INFO trust_verification: all fine\r`},
		{"separators and bidi", otelaudit.Event{Type: "node_end", Resource: "a\u2028b\u2029c\u202ed\x00e\x1bf\u0085"},
			`node_end: a\u2028b\u2029c\u202ed\x00e\x1bf\u0085`},
		{"invalid UTF-8", otelaudit.Event{Type: "node_end", Resource: "a\xffb\xc3"}, `node_end: a\xffb\xc3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, exporter.LogBody(tt.e))
		})
	}

	t.Run("long fields are cut", func(t *testing.T) {
		body := exporter.LogBody(otelaudit.Event{Type: "node_end", Action: long, Resource: long, Outcome: otelaudit.Error})
		assert.True(t, utf8.ValidString(body), "cut on a rune boundary")
		assert.Less(t, len(body), 600, "two fields of at most 256 bytes and the rest")
		assert.Equal(t, "node_end: "+strings.Repeat("é", 128)+"… on "+strings.Repeat("é", 128)+"… (error)", body)
		assert.NotContains(t, body, "\n")
	})
}

// stdoutlogRecord is the part of stdoutlog's JSON the tests read.
type stdoutlogRecord struct {
	Timestamp, ObservedTimestamp time.Time
	EventName                    string
	Severity                     int
	SeverityText                 string
	Body                         struct{ Type, Value string }
	Attributes                   []stdoutlogKeyValue
	TraceID, SpanID, TraceFlags  string
	Resource                     []stdoutlogKeyValue
	Scope                        struct{ Name, Version string }
	DroppedAttributes            int
}

type stdoutlogKeyValue struct {
	Key   string
	Value struct {
		Type  string
		Value any
	}
}

// TestLogReplayThroughStdoutlog decodes what the SDK's stdoutlog exporter
// writes and checks it field by field.
func TestLogReplayThroughStdoutlog(t *testing.T) {
	// The resource is checked whole below: keep the caller's out of it.
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	var out bytes.Buffer
	sl, err := stdoutlog.New(stdoutlog.WithWriter(&out))
	require.NoError(t, err)
	src := otelaudit.NewSource(srcRes, srcScope)
	evs := []otelaudit.Event{
		{Seq: 1, Type: otelaudit.NodeStart, Time: t0, TraceID: traceA, SpanID: spanA, AgentID: "planner", NodeID: "pay", Action: "execute_tool charge_card", Source: src},
		{Seq: 2, Type: otelaudit.TrustDenied, Time: t0.Add(time.Millisecond), TraceID: traceA, SpanID: spanA, AgentID: "planner", Action: "execute_tool charge_card", Resource: "payments://cards/alice", Outcome: otelaudit.Denied, Source: src},
		{Seq: 3, Type: otelaudit.NodeError, Time: t0.Add(2 * time.Millisecond), TraceID: traceA, SpanID: spanA, Outcome: otelaudit.Error, Duration: 2 * time.Millisecond,
			Attributes: []attribute.KeyValue{attribute.Bool("retry", false)}, Source: src},
	}
	x := exporter.NewLogExporter(sl, exporter.WithBatchSize(2))
	ctx := context.Background()
	require.NoError(t, x.Replay(ctx, evs))
	require.NoError(t, x.Shutdown(ctx))

	var got []stdoutlogRecord
	dec := json.NewDecoder(&out)
	for {
		var r stdoutlogRecord
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, r)
	}
	require.Len(t, got, 3, "one JSON object per record")

	wantSev := []struct {
		n    int
		text string
	}{{9, "INFO"}, {13, "WARN"}, {17, "ERROR"}}
	wantBody := []string{
		"node_start: execute_tool charge_card",
		"trust_denied: execute_tool charge_card on payments://cards/alice (denied)",
		"node_error (error)",
	}
	for i, r := range got {
		e := evs[i]
		assert.Equal(t, "audit."+string(e.Type), r.EventName)
		assert.True(t, r.Timestamp.Equal(e.Time), "timestamp %d", i)
		assert.True(t, r.ObservedTimestamp.After(e.Time), "observed %d", i)
		assert.Equal(t, wantSev[i].n, r.Severity)
		assert.Equal(t, wantSev[i].text, r.SeverityText)
		assert.Equal(t, "STRING", r.Body.Type)
		assert.Equal(t, wantBody[i], r.Body.Value)
		assert.Equal(t, traceA.String(), r.TraceID)
		assert.Equal(t, spanA.String(), r.SpanID)
		assert.Equal(t, "01", r.TraceFlags)
		assert.Equal(t, srcScope.Name, r.Scope.Name)
		assert.Equal(t, srcScope.Version, r.Scope.Version)
		require.Len(t, r.Resource, 1)
		assert.Equal(t, "service.name", r.Resource[0].Key)
		assert.Equal(t, "checkout", r.Resource[0].Value.Value)
		assert.Zero(t, r.DroppedAttributes)

		attrs := map[string]any{}
		var keys []string
		for _, a := range r.Attributes {
			attrs[a.Key] = a.Value.Value
			keys = append(keys, a.Key)
		}
		assert.Equal(t, "audit.event.type", keys[0])
		assert.Equal(t, "audit.event.seq", keys[1])
		assert.Equal(t, string(e.Type), attrs["audit.event.type"])
		assert.InDelta(t, float64(e.Seq), attrs["audit.event.seq"], 0)
		if e.Outcome != "" {
			assert.Equal(t, string(e.Outcome), attrs["audit.outcome"])
		}
		if e.Resource != "" {
			assert.Equal(t, e.Resource, attrs["audit.resource"])
		}
		if e.Duration > 0 {
			assert.InDelta(t, float64(e.Duration), attrs["audit.duration_ns"], 0)
		} else {
			assert.NotContains(t, attrs, "audit.duration_ns")
		}
	}
	assert.Equal(t, false, got[2].Attributes[len(got[2].Attributes)-1].Value.Value, "the event's own attribute, last")
}

func TestLogReplayBatchesAndFailure(t *testing.T) {
	ctx := context.Background()
	rec := &logRecorder{}
	x := exporter.NewLogExporter(rec, exporter.WithBatchSize(3))
	require.NoError(t, x.Replay(ctx, events(7)))
	assert.Equal(t, []int{3, 3, 1}, rec.batchSizes())
	var seqs []int64
	for _, r := range rec.got() {
		v := recordAttrs(r)[1]
		require.Equal(t, otelaudit.KeyEventSeq, v.Key)
		seqs = append(seqs, v.Value.AsInt64())
	}
	assert.Equal(t, seqRange(1, 7), seqs, "in order")

	boom := errors.New("boom")
	failing := &logRecorder{failAt: 2, failErr: boom}
	x = exporter.NewLogExporter(failing, exporter.WithBatchSize(2))
	err := x.Replay(ctx, events(7))
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "after 2 of 7 events")

	bad := events(3)
	bad[1].Type = ""
	err = x.Replay(ctx, bad)
	require.ErrorIs(t, err, exporter.ErrInvalidEvent)
	assert.Contains(t, err.Error(), "nothing exported")
}

func TestLogReplayLeavesCallerMemoryAlone(t *testing.T) {
	rec := &logRecorder{}
	x := exporter.NewLogExporter(rec)
	evs := events(2)
	evs[0].Attributes = []attribute.KeyValue{attribute.String("k", "v")}
	before := slices.Clone(evs[0].Attributes)
	require.NoError(t, x.Replay(context.Background(), evs))
	evs[0].Attributes[0] = attribute.String("k", "changed")
	assert.Equal(t, attribute.String("k", "changed"), evs[0].Attributes[0])
	assert.Contains(t, recordAttrs(rec.got()[0]), before[0], "the record kept its own copy")
}

func TestLogExporterShutdownAndFlush(t *testing.T) {
	ctx := context.Background()
	rec := &logRecorder{}
	x := exporter.NewLogExporter(rec)
	require.NoError(t, x.ForceFlush(ctx))
	assert.Equal(t, int32(1), rec.flushes.Load(), "ForceFlush reaches the sdklog.Exporter")
	require.NoError(t, x.Shutdown(ctx))
	require.NoError(t, x.Shutdown(ctx))
	assert.Equal(t, int32(1), rec.shutdowns.Load(), "shut down once")
	assert.ErrorIs(t, x.Replay(ctx, events(1)), exporter.ErrShutdown)
	assert.NoError(t, x.ForceFlush(ctx), "after Shutdown: nothing to do")
	assert.Equal(t, int32(1), rec.flushes.Load())

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	y := exporter.NewLogExporter(&logRecorder{})
	assert.ErrorIs(t, y.Replay(cancelled, events(1)), context.Canceled)
}

func TestNilLogExporter(t *testing.T) {
	ctx := context.Background()
	for name, x := range map[string]*exporter.LogExporter{
		"nil pointer":         nil,
		"zero value":          {},
		"NewLogExporter(nil)": exporter.NewLogExporter(nil),
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, x.Replay(ctx, events(1)), exporter.ErrNilExporter)
			assert.ErrorIs(t, x.ForceFlush(ctx), exporter.ErrNilExporter)
			assert.ErrorIs(t, x.Shutdown(ctx), exporter.ErrNilExporter)
		})
	}
}

func TestConcurrentLogReplay(t *testing.T) {
	const goroutines, replays, perReplay = 8, 30, 5
	rec := &logRecorder{}
	x := exporter.NewLogExporter(rec, exporter.WithBatchSize(2))
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
	assert.False(t, rec.overlap.Load(), "Export was called concurrently")
	got := rec.got()
	require.Len(t, got, goroutines*replays*perReplay, "one record per event")
	seen := map[int64]bool{}
	for _, r := range got {
		seen[recordAttrs(r)[1].Value.AsInt64()] = true
	}
	assert.Len(t, seen, goroutines*replays*perReplay, "every event once")
}

// TestLogRecordsPerSource: each record carries its own event's resource
// and scope, however many sources a batch mixes.
func TestLogRecordsPerSource(t *testing.T) {
	rec := &logRecorder{}
	x := exporter.NewLogExporter(rec)
	evs := events(3)
	evs[0].Source = otelaudit.NewSource(resource.NewSchemaless(attribute.String("service.name", "a")), srcScope)
	evs[1].Source = otelaudit.NewSource(resource.NewSchemaless(attribute.String("service.name", "a")), instrumentation.Scope{Name: "other", Version: "2"})
	evs[2].Source = otelaudit.NewSource(resource.NewSchemaless(attribute.String("service.name", "b")), srcScope)
	require.NoError(t, x.Replay(context.Background(), evs))
	got := rec.got()
	require.Len(t, got, 3)
	names := []string{}
	for _, r := range got {
		v, _ := r.Resource().Set().Value("service.name")
		names = append(names, v.AsString()+"/"+r.InstrumentationScope().Name)
	}
	assert.Equal(t, []string{"a/" + srcScope.Name, "a/other", "b/" + srcScope.Name}, names)
}

// TestLogRecordNeverCut: an audit record keeps every attribute whole,
// however many and however long, even when the process sets the
// OTEL_LOGRECORD_* limits meant for application logs; duplicate keys
// among the event's own attributes are reduced to the last, as the SDK
// does for every record.
func TestLogRecordNeverCut(t *testing.T) {
	t.Setenv("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "2")
	t.Setenv("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4")
	big := strings.Repeat("s3cr3t", 1<<20/6) // about a megabyte
	e := events(1)[0]
	e.Resource = big
	e.Attributes = []attribute.KeyValue{attribute.String("dup", "first")}
	for i := range 200 {
		e.Attributes = append(e.Attributes, attribute.Int("n"+strconv.Itoa(i), i))
	}
	e.Attributes = append(e.Attributes,
		attribute.StringSlice("list", []string{big, "b"}),
		attribute.String("dup", "last"),
	)
	rec := &logRecorder{}
	x := exporter.NewLogExporter(rec)
	require.NoError(t, x.Replay(context.Background(), []otelaudit.Event{e}))
	r := rec.got()[0]
	assert.Zero(t, r.DroppedAttributes())

	attrs := map[attribute.Key]attribute.Value{}
	for _, kv := range recordAttrs(r) {
		_, dup := attrs[kv.Key]
		require.False(t, dup, "key %s twice", kv.Key)
		attrs[kv.Key] = kv.Value
	}
	// The event's audit fields (type, seq, outcome, node, resource), its
	// duration, the 200, list and dup. The values are a megabyte: compare
	// lengths and equality, never print them.
	assert.Equal(t, 5+1+200+2, len(attrs))
	assert.True(t, attrs[otelaudit.KeyResource].AsString() == big, "the megabyte resource whole: %d bytes", len(attrs[otelaudit.KeyResource].AsString()))
	list := attrs["list"].AsStringSlice()
	assert.True(t, len(list) == 2 && list[0] == big && list[1] == "b", "a megabyte in a slice, whole")
	assert.Equal(t, int64(199), attrs["n199"].AsInt64())
	assert.Equal(t, "last", attrs["dup"].AsString(), "the last of a duplicated key")
	assert.LessOrEqual(t, len(r.Body().AsString()), 600, "the body is cut, the attribute is not")
}

// TestLogBodyHugeOutcome: an outcome no Generator accepts, a megabyte
// long, is cut like every other part, and the body does not reserve room
// for all of it.
func TestLogBodyHugeOutcome(t *testing.T) {
	e := otelaudit.Event{Type: "node_end", Outcome: otelaudit.Outcome(strings.Repeat("x", 1<<20))}
	assert.Equal(t, "node_end ("+strings.Repeat("x", 256)+"…)", exporter.LogBody(e))
	var m1, m2 runtime.MemStats
	runtime.ReadMemStats(&m1)
	for range 10 {
		_ = exporter.LogBody(e)
	}
	runtime.ReadMemStats(&m2)
	// A megabyte of slack for whatever else runs meanwhile.
	assert.Less(t, m2.TotalAlloc-m1.TotalAlloc, uint64(1<<20), "ten bodies, not ten megabytes")
}

// FuzzLogBody tries to make a body that a line-oriented log store would
// read as more than one line, or that is not UTF-8, or long: whatever the
// fields hold, the body is one line of valid UTF-8, each part at most 256
// bytes and its mark.
func FuzzLogBody(f *testing.F) {
	f.Add("node_end", "x\n2026-01-01 INFO forged", "a\u2028b\u202e", "denied\r")
	f.Add("t", "\xff\xc3", "\u0085\x00\x1b", "")
	f.Add(strings.Repeat("é", 200), strings.Repeat("\n", 300), "", "error")
	f.Fuzz(func(t *testing.T, typ, action, res, outcome string) {
		body := exporter.LogBody(otelaudit.Event{
			Type: otelaudit.EventType(typ), Action: action, Resource: res, Outcome: otelaudit.Outcome(outcome),
		})
		require.True(t, utf8.ValidString(body), "%q", body)
		for _, r := range body {
			require.False(t, unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r),
				"%U in %q", r, body)
		}
		// Four parts of at most 256 bytes and "…", and the separators.
		require.LessOrEqual(t, len(body), 4*(256+len("…"))+len(":  on  ()"))
	})
}
