package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// flushTimeout bounds every ForceFlush of the tests: generous, since a
// flush that needs it has already gone wrong.
const flushTimeout = 30 * time.Second

// TestQuickstartStreamsToCollector runs the quickstart as a user would,
// with -db and -otlp pointing at a real collector, and checks that every
// event in the store it leaves arrived at the collector exactly once, in
// the replay format: the event's trace, span IDs as exporter.SpanID
// derives them, and the audit attributes intact.
func TestQuickstartStreamsToCollector(t *testing.T) {
	col := startCollector(t)
	events, _, _ := runQuickstartToCollector(t, col, "audit events")

	spans := col.spans()
	// Nothing was killed: exactly once.
	require.Len(t, spans, len(events), "spans received vs events stored")
	bySeq := make(map[uint64]span, len(spans))
	for seq, n := range seqCounts(t, spans) {
		require.Equal(t, 1, n, "seq %d arrived %d times", seq, n)
	}
	for _, s := range spans {
		bySeq[uint64(s.Attrs[string(otelaudit.KeyEventSeq)].(int64))] = s
	}
	var withTrace, withAgent, withOutcome int
	for _, e := range events {
		s, ok := bySeq[e.Seq]
		if !assert.True(t, ok, "seq %d (%s) never arrived", e.Seq, e.Type) {
			continue
		}
		assert.Equal(t, otelaudit.NamePrefix+string(e.Type), s.Name, "seq %d", e.Seq)
		assert.Equal(t, exporter.TraceID(e), s.TraceID, "seq %d", e.Seq)
		assert.Equal(t, exporter.SpanID(e), s.SpanID, "seq %d", e.Seq)
		if e.TraceID.IsValid() {
			withTrace++
			assert.Equal(t, e.TraceID, s.TraceID, "seq %d", e.Seq)
			if e.SpanID.IsValid() {
				assert.Equal(t, e.SpanID, s.ParentSpanID, "seq %d: parent", e.Seq)
			}
		}
		if e.AgentID != "" {
			withAgent++
		}
		if e.Outcome != "" {
			withOutcome++
		}
		assert.Equal(t, replayAttrs(e), s.Attrs, "seq %d: attributes", e.Seq)
	}
	t.Logf("%d events arrived once each; %d in a trace, %d with an agent, %d with an outcome",
		len(events), withTrace, withAgent, withOutcome)
	// The quickstart's trail has all three; a check that saw none would
	// check nothing.
	assert.Positive(t, withTrace)
	assert.Positive(t, withAgent)
	assert.Positive(t, withOutcome)
}

// runQuickstartToCollector runs the quickstart as a user would, with -db
// (in a directory of its own) and -otlp pointing at col, and args besides.
// It checks that the quickstart said it streamed what, as many as the store
// it left holds, up to its last, to col, and that the store verifies; and
// returns the store's events and when the quickstart started and ended.
func runQuickstartToCollector(t *testing.T, col *collector, what string, args ...string) (events []otelaudit.Event, started, finished time.Time) {
	t.Helper()
	dir := t.TempDir()
	bin := quickstartBin(t)

	db := filepath.Join(dir, "audit.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started = time.Now()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-db", db, "-otlp", col.addr}, args...)...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	dieWithTests(cmd)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "quickstart output:\n%s", out)
	finished = time.Now()
	m := regexp.MustCompile(`(?m)^Streamed (\d+) ` + regexp.QuoteMeta(what) + ` to (\S+) \(up to seq (\d+)\)\.$`).FindSubmatch(out)
	require.NotNil(t, m, "no Streamed line in the quickstart output:\n%s", out)
	streamed, _ := strconv.Atoi(string(m[1]))
	upTo, _ := strconv.ParseUint(string(m[3]), 10, 64)
	assert.Equal(t, col.addr, string(m[2]))

	st, err := store.Open(db, store.WithReadOnly())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.VerifyError())
	events, err = st.Events(store.Query{})
	require.NoError(t, err)
	require.NotEmpty(t, events)
	assert.Equal(t, len(events), streamed, "events exported vs stored")
	assert.Equal(t, events[len(events)-1].Seq, upTo, "delivered up to")
	return events, started, finished
}

var quickstart struct {
	once sync.Once
	bin  string
	err  error
}

// quickstartBin builds the quickstart once for every test that runs it.
func quickstartBin(t *testing.T) string {
	t.Helper()
	quickstart.once.Do(func() {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			quickstart.err = err
			return
		}
		// Kept for the tests after this one: removed with collectorBin's
		// directory when they are done.
		quickstart.bin = filepath.Join(filepath.Dir(collectorBin), "quickstart")
		start := time.Now()
		quickstart.err = goBuild(root, quickstart.bin, "./examples/quickstart")
		t.Logf("built the quickstart in %s", time.Since(start).Round(time.Millisecond))
	})
	require.NoError(t, quickstart.err)
	return quickstart.bin
}

// replayAttrs is the attribute map the replay format gives e's span, as
// pcommon's AsRaw reads it back.
func replayAttrs(e otelaudit.Event) map[string]any {
	m := map[string]any{
		string(otelaudit.KeyEventType): string(e.Type),
		string(otelaudit.KeyEventSeq):  int64(e.Seq),
	}
	for k, v := range map[attribute.Key]string{
		otelaudit.KeyOutcome:       string(e.Outcome),
		otelaudit.KeyAgentID:       e.AgentID,
		otelaudit.KeyHumanOriginID: e.HumanOriginID,
		otelaudit.KeyWorkflowID:    e.WorkflowID,
		otelaudit.KeyNodeID:        e.NodeID,
		otelaudit.KeyAction:        e.Action,
		otelaudit.KeyResource:      e.Resource,
	} {
		if v != "" {
			m[string(k)] = v
		}
	}
	for _, kv := range e.Attributes {
		if _, reserved := m[string(kv.Key)]; reserved || !kv.Valid() {
			continue
		}
		m[string(kv.Key)] = rawValue(kv.Value)
	}
	return m
}

// rawValue is v as pcommon.Value.AsRaw has it after OTLP.
func rawValue(v attribute.Value) any {
	switch v.Type() {
	case attribute.BOOL, attribute.INT64, attribute.FLOAT64, attribute.STRING:
		return v.AsInterface()
	case attribute.BOOLSLICE:
		return anySlice(v.AsBoolSlice())
	case attribute.INT64SLICE:
		return anySlice(v.AsInt64Slice())
	case attribute.FLOAT64SLICE:
		return anySlice(v.AsFloat64Slice())
	case attribute.STRINGSLICE:
		return anySlice(v.AsStringSlice())
	case attribute.BYTESLICE:
		return v.AsByteSlice()
	case attribute.SLICE:
		out := []any{}
		for _, e := range v.AsSlice() {
			out = append(out, rawValue(e))
		}
		return out
	case attribute.MAP:
		out := map[string]any{}
		for _, kv := range v.AsMap() {
			out[string(kv.Key)] = rawValue(kv.Value)
		}
		return out
	}
	return nil
}

func anySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestCollectorKilledAndRestartedTwice records events continuously from
// several goroutines into a Generator with a store, streamed to a
// collector that is SIGKILLed and restarted twice meanwhile. Every event
// must arrive at least once: an export the collector acknowledged is in
// its file, and one it did not is retried by the Stream. Duplicates are
// allowed (a batch written just before the kill, whose answer was lost, is
// sent again) and counted.
func TestCollectorKilledAndRestartedTwice(t *testing.T) {
	col := startCollector(t)
	rt := newAuditRuntime(t, col.addr, nil)
	killAndRestartTwice(t, col, rt, func() map[uint64]int { return seqCounts(t, col.spans()) })
}

// killAndRestartTwice records events steadily into rt, streamed to col,
// while col is SIGKILLed and restarted twice, then checks with received
// (how often each Seq arrived) that every event arrived at least once, and
// that rt's Stream saw the outages and delivered everything.
func killAndRestartTwice(t *testing.T, col *collector, rt *auditRuntime, received func() map[uint64]int) {
	t.Helper()

	// Events arrive steadily, a few thousand in all, from before the
	// first kill until a second after the second restart, so that both
	// outages fall inside the trail.
	const workers = 4
	const pace = 4 * time.Millisecond
	var (
		wg       sync.WaitGroup
		stop     = make(chan struct{})
		recorded atomic.Int64
		errs     errCounter
	)
	ctx := context.Background()
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := rt.g.Append(ctx, testEvent(w, i))
				errs.add(err)
				recorded.Add(1)
				time.Sleep(pace)
			}
		})
	}
	for kill := 1; kill <= 2; kill++ {
		time.Sleep(time.Second)
		col.kill()
		t.Logf("kill %d: collector SIGKILLed after %d events recorded", kill, recorded.Load())
		time.Sleep(300 * time.Millisecond)
		col.start()
		t.Logf("kill %d: collector restarted after %d events recorded", kill, recorded.Load())
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	errs.requireNone(t, "Append")

	n := rt.g.Stats().LastSeq
	require.Equal(t, uint64(recorded.Load()), n, "events recorded")
	fctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	require.NoError(t, rt.g.ForceFlush(fctx))
	require.NoError(t, rt.stream.ForceFlush(fctx))

	counts := received()
	var missing []uint64
	dups := 0
	for seq := uint64(1); seq <= n; seq++ {
		switch c := counts[seq]; {
		case c == 0:
			missing = append(missing, seq)
		case c > 1:
			dups += c - 1
		}
	}
	assert.Empty(t, missing, "events that never arrived")
	assert.Len(t, counts, int(n), "distinct Seqs received (none outside 1..%d)", n)

	ss := rt.stream.Stats()
	t.Logf("%d events; %d duplicates received; stream: exported %d, failures %d (last error cleared: %v)",
		n, dups, ss.Exported, ss.Failures, ss.LastError == nil)
	assert.Positive(t, ss.Failures, "the outages made no export fail")
	assert.Zero(t, ss.Dropped)
	assert.Equal(t, n, ss.Delivered)
	assert.Zero(t, ss.Pending)
	assert.GreaterOrEqual(t, ss.Exported, n)
	cur, err := rt.st.Cursor(cursorName)
	require.NoError(t, err)
	assert.Equal(t, n, cur, "saved cursor")
}

// TestCollectorNeverStarted streams to a port nobody listens on. Recording
// must not notice: no Append fails or waits, the store gets every event,
// and the lag shows in Stats and in the metrics. Once a collector starts
// on that port, everything arrives, exactly once.
func TestCollectorNeverStarted(t *testing.T) {
	col := newCollector(t, freePort(t)) // not started yet
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	rt := newAuditRuntime(t, col.addr, mp)

	const workers, perWorker = 4, 1250
	const n = workers * perWorker
	// The runtime's hot path must never wait for the exporter: an Append
	// that did would take an export timeout (2 s). Without the race
	// detector the slowest takes about 10 ms here; with it the store
	// writer's sealing, which holds the Generator's lock for a chunk of
	// events at a time, is ten times slower, and the slowest takes 20 to
	// 60 ms on 2 cores, more when other tests' processes are busy.
	maxAppend := 100 * time.Millisecond
	if raceEnabled {
		maxAppend = 300 * time.Millisecond
	}
	var (
		wg      sync.WaitGroup
		errs    errCounter
		slowest [workers]time.Duration
	)
	ctx := context.Background()
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				start := time.Now()
				_, err := rt.g.Append(ctx, testEvent(w, i))
				slowest[w] = max(slowest[w], time.Since(start))
				errs.add(err)
			}
		})
	}
	wg.Wait()
	errs.requireNone(t, "Append")
	worst := max(slowest[0], slowest[1], slowest[2], slowest[3])
	t.Logf("slowest Append: %s", worst)
	assert.Less(t, worst, maxAppend, "slowest Append")

	fctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	require.NoError(t, rt.g.ForceFlush(fctx))
	gs := rt.g.Stats()
	require.Equal(t, uint64(n), gs.LastSeq)
	assert.Equal(t, gs.LastSeq, gs.Durable, "durable")
	assert.Equal(t, uint64(n), gs.Recorded)
	assert.Zero(t, gs.Rejected)

	// The Stream sees the store's head at its next attempt: within its
	// longest backoff (500 ms).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ss := rt.stream.Stats()
		assert.Equal(c, uint64(n), ss.Pending, "stream pending")
		assert.Zero(c, ss.Exported, "stream exported")
		assert.Positive(c, ss.Failures, "stream failures")
		assert.Error(c, ss.LastError, "stream last error")

		var rm metricdata.ResourceMetrics
		if !assert.NoError(c, reader.Collect(ctx, &rm)) {
			return
		}
		assert.Equal(c, int64(n), metricValue(rm, "otelaudit.export.pending"), "otelaudit.export.pending")
		assert.Equal(c, int64(n), metricValue(rm, "otelaudit.events.recorded"), "otelaudit.events.recorded")
		assert.Equal(c, int64(0), metricValue(rm, "otelaudit.export.exported"), "otelaudit.export.exported")
		assert.Equal(c, int64(0), metricValue(rm, "otelaudit.store.pending"), "otelaudit.store.pending")
	}, 10*time.Second, 50*time.Millisecond)
	t.Logf("before the collector: stream %+v", rt.stream.Stats())

	col.start()
	require.NoError(t, rt.stream.ForceFlush(fctx))
	spans := col.spans()
	counts := seqCounts(t, spans)
	for seq := uint64(1); seq <= n; seq++ {
		assert.Equal(t, 1, counts[seq], "seq %d", seq)
	}
	assert.Len(t, spans, n, "spans received")
	ss := rt.stream.Stats()
	assert.Equal(t, uint64(n), ss.Exported)
	assert.Equal(t, uint64(n), ss.Delivered)
	assert.Zero(t, ss.Pending)
	assert.Zero(t, ss.Dropped)
	assert.NoError(t, ss.LastError)
	// And the collector, never killed here, shuts down cleanly.
	col.stop()
}

// metricValue returns the value of the int64 gauge or sum called name, -1
// when rm has no single point of it.
func metricValue(rm metricdata.ResourceMetrics, name string) int64 {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				if len(d.DataPoints) == 1 {
					return d.DataPoints[0].Value
				}
			case metricdata.Sum[int64]:
				if len(d.DataPoints) == 1 {
					return d.DataPoints[0].Value
				}
			}
			return -1
		}
	}
	return -1
}
