package exporter_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// flaky is a span exporter standing for a collector: it keeps what it is
// sent (across the Shutdowns of the processes that send to it), and fails
// while down is set, as a collector that is away does.
type flaky struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
	down  bool
	calls int
}

func (f *flaky) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return errors.New("collector unavailable")
	}
	f.spans = append(f.spans, spans...)
	return nil
}

func (f *flaky) Shutdown(context.Context) error { return nil }

func (f *flaky) setDown(d bool) {
	f.mu.Lock()
	f.down = d
	f.mu.Unlock()
}

// seqs returns the audit.event.seq of every span exported, in order.
func exportedSeqs(f *flaky) []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int64
	for _, s := range f.spans {
		for _, kv := range s.Attributes() {
			if kv.Key == otelaudit.KeyEventSeq {
				out = append(out, kv.Value.AsInt64())
			}
		}
	}
	return out
}

func record(t *testing.T, g *otelaudit.Generator, n int) {
	t.Helper()
	for i := range n {
		_, err := g.Append(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, TraceID: trace.TraceID{1, byte(i)}, SpanID: trace.SpanID{1}})
		require.NoError(t, err)
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestStreamFollowsGeneratorInOrder(t *testing.T) {
	g := otelaudit.NewGenerator()
	exp := &flaky{}
	s, err := exporter.NewStream(exporter.FollowGenerator(g), exp, exporter.WithStreamBatchSize(7), exporter.WithPollInterval(5*time.Millisecond))
	require.NoError(t, err)
	record(t, g, 50)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.ForceFlush(ctx))
	record(t, g, 20)
	require.NoError(t, s.Shutdown(ctx))
	assert.Equal(t, seqRange(1, 70), exportedSeqs(exp), "every event once, in Seq order")
	st := s.Stats()
	assert.Equal(t, uint64(70), st.Exported)
	assert.Equal(t, uint64(70), st.Delivered)
	assert.Zero(t, st.Pending)
	assert.NoError(t, s.Shutdown(ctx), "a second Shutdown is a no-op")
}

func TestStreamRetriesAndCountsDrops(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(10))
	exp := &flaky{down: true}
	s, err := exporter.NewStream(exporter.FollowGenerator(g), exp,
		exporter.WithPollInterval(2*time.Millisecond), exporter.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	record(t, g, 25) // the Generator holds 16..25: 1..15 are gone before they could be sent
	require.Eventually(t, func() bool { return s.Stats().Failures >= 3 }, 5*time.Second, time.Millisecond)
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = s.ForceFlush(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "collector unavailable")

	exp.setDown(false)
	ctx, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	require.NoError(t, s.ForceFlush(ctx))
	st := s.Stats()
	assert.Equal(t, seqRange(16, 25), exportedSeqs(exp))
	assert.Equal(t, uint64(15), st.Dropped, "evicted before export: counted, never silent")
	assert.Equal(t, uint64(10), st.Exported)
	assert.GreaterOrEqual(t, st.Failures, uint64(3))
	assert.Nil(t, st.LastError)
	require.NoError(t, s.Shutdown(ctx))
}

// TestStreamResumesFromStore: a Stream following a store, with its cursor
// in the store, delivers every event exactly once across a restart, after
// an outage, with nothing dropped.
func TestStreamResumesFromStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	exp := &flaky{}

	for run := range 3 {
		st, err := store.Open(path)
		require.NoError(t, err)
		g := otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithCapacity(8), otelaudit.WithStoreWait(10*time.Second))
		s, err := exporter.NewStream(st, exp, exporter.WithCursor(st, "collector"),
			exporter.WithPollInterval(2*time.Millisecond), exporter.WithBackoff(time.Millisecond, 5*time.Millisecond))
		require.NoError(t, err)
		exp.setDown(run == 1) // the second process runs during an outage
		record(t, g, 30)      // more than the Generator holds: the store keeps them
		require.NoError(t, g.ForceFlush(ctx))
		if run == 1 {
			short, c := context.WithTimeout(ctx, 30*time.Millisecond)
			require.Error(t, s.ForceFlush(short))
			c()
			assert.Equal(t, uint64(30), s.Stats().Pending, "the lag shows")
			// The process stops during the outage.
			_ = s.Shutdown(short)
		} else {
			require.NoError(t, s.ForceFlush(ctx))
			require.NoError(t, s.Shutdown(ctx))
			assert.Zero(t, s.Stats().Dropped)
		}
		require.NoError(t, g.Shutdown(ctx))
	}
	assert.Equal(t, seqRange(1, 90), exportedSeqs(exp), "every event once, in order, across restarts and the outage")
}

func TestStreamMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	g := otelaudit.NewGenerator(otelaudit.WithMeterProvider(mp), otelaudit.WithCapacity(100))
	exp := &flaky{down: true}
	s, err := exporter.NewStream(exporter.FollowGenerator(g), exp, exporter.WithMeterProvider(mp),
		exporter.WithPollInterval(2*time.Millisecond), exporter.WithBackoff(time.Millisecond, 2*time.Millisecond))
	require.NoError(t, err)
	record(t, g, 40)
	require.Eventually(t, func() bool { return s.Stats().Failures > 0 && s.Stats().Head == 40 }, 5*time.Second, time.Millisecond)

	got := collect(t, reader)
	assert.Equal(t, int64(40), got["otelaudit.events.recorded"])
	assert.Equal(t, int64(40), got["otelaudit.queue.size"])
	assert.Equal(t, int64(100), got["otelaudit.queue.capacity"])
	assert.Equal(t, int64(0), got["otelaudit.events.rejected"])
	assert.Equal(t, int64(40), got["otelaudit.export.pending"])
	assert.Positive(t, got["otelaudit.export.failures"])

	exp.setDown(false)
	ctx := context.Background()
	require.NoError(t, s.Shutdown(ctx))
	require.NoError(t, g.Shutdown(ctx))
	// After Shutdown the instruments are gone: nothing observed any more.
	got = collect(t, reader)
	assert.NotContains(t, got, "otelaudit.export.exported")
}

func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = p.Value
				}
			}
		}
	}
	return out
}

// flakyLogs is flaky's twin for log records.
type flakyLogs struct {
	mu   sync.Mutex
	seqs []int64
	down bool
}

func (f *flakyLogs) Export(_ context.Context, records []sdklog.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("collector unavailable")
	}
	for _, r := range records {
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == otelaudit.KeyEventSeq {
				f.seqs = append(f.seqs, kv.Value.AsInt64())
			}
			return true
		})
	}
	return nil
}

func (*flakyLogs) ForceFlush(context.Context) error { return nil }
func (*flakyLogs) Shutdown(context.Context) error   { return nil }

func (f *flakyLogs) setDown(d bool) {
	f.mu.Lock()
	f.down = d
	f.mu.Unlock()
}

func (f *flakyLogs) exported() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.seqs)
}

// TestLogStreamResumesFromStore is TestStreamResumesFromStore with log
// records: the same engine, cursor and retries.
func TestLogStreamResumesFromStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	exp := &flakyLogs{}

	for run := range 3 {
		st, err := store.Open(path)
		require.NoError(t, err)
		g := otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithCapacity(8), otelaudit.WithStoreWait(10*time.Second))
		s, err := exporter.NewLogStream(st, exp, exporter.WithCursor(st, "siem"), exporter.WithStreamBatchSize(7),
			exporter.WithPollInterval(2*time.Millisecond), exporter.WithBackoff(time.Millisecond, 5*time.Millisecond))
		require.NoError(t, err)
		exp.setDown(run == 1)
		record(t, g, 30)
		require.NoError(t, g.ForceFlush(ctx))
		if run == 1 {
			short, c := context.WithTimeout(ctx, 30*time.Millisecond)
			require.Error(t, s.ForceFlush(short))
			c()
			st := s.Stats()
			assert.Equal(t, uint64(30), st.Pending, "the lag shows")
			assert.Positive(t, st.Failures)
			_ = s.Shutdown(short)
		} else {
			require.NoError(t, s.ForceFlush(ctx))
			require.NoError(t, s.Shutdown(ctx))
			assert.Zero(t, s.Stats().Dropped)
		}
		require.NoError(t, g.Shutdown(ctx))
	}
	assert.Equal(t, seqRange(1, 90), exp.exported(), "every event once, in order, across restarts and the outage")
}

// TestLogStreamCountsDrops: following a Generator, events evicted before
// the log stream reached them are counted.
func TestLogStreamCountsDrops(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(10))
	exp := &flakyLogs{down: true}
	s, err := exporter.NewLogStream(exporter.FollowGenerator(g), exp,
		exporter.WithPollInterval(2*time.Millisecond), exporter.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	record(t, g, 25)
	require.Eventually(t, func() bool { return s.Stats().Failures >= 2 }, 5*time.Second, time.Millisecond)
	exp.setDown(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	assert.Equal(t, seqRange(16, 25), exp.exported())
	st := s.Stats()
	assert.Equal(t, uint64(15), st.Dropped)
	assert.Equal(t, uint64(10), st.Exported)
}

// TestStreamMetricsPerSignal: a span Stream and a log Stream side by side
// on one MeterProvider report apart, told by otelaudit.export.signal.
func TestStreamMetricsPerSignal(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	g := otelaudit.NewGenerator()
	spans, logs := &flaky{}, &flakyLogs{down: true}
	opts := []exporter.StreamOption{exporter.WithMeterProvider(mp),
		exporter.WithPollInterval(2 * time.Millisecond), exporter.WithBackoff(time.Millisecond, 2*time.Millisecond)}
	ss, err := exporter.NewStream(exporter.FollowGenerator(g), spans, opts...)
	require.NoError(t, err)
	ls, err := exporter.NewLogStream(exporter.FollowGenerator(g), logs, opts...)
	require.NoError(t, err)
	record(t, g, 12)
	ctx := context.Background()
	require.NoError(t, ss.ForceFlush(ctx))
	require.Eventually(t, func() bool { return ls.Stats().Failures > 0 && ls.Stats().Head == 12 }, 5*time.Second, time.Millisecond)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	bySignal := map[string]map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var points []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				points = d.DataPoints
			case metricdata.Gauge[int64]:
				points = d.DataPoints
			}
			for _, p := range points {
				sig, ok := p.Attributes.Value(exporter.SignalKey)
				if !ok {
					continue
				}
				if bySignal[sig.AsString()] == nil {
					bySignal[sig.AsString()] = map[string]int64{}
				}
				bySignal[sig.AsString()][m.Name] = p.Value
			}
		}
	}
	assert.Equal(t, int64(12), bySignal["traces"]["otelaudit.export.exported"])
	assert.Equal(t, int64(0), bySignal["traces"]["otelaudit.export.pending"])
	assert.Equal(t, int64(0), bySignal["logs"]["otelaudit.export.exported"])
	assert.Equal(t, int64(12), bySignal["logs"]["otelaudit.export.pending"])
	assert.Positive(t, bySignal["logs"]["otelaudit.export.failures"])

	logs.setDown(false)
	require.NoError(t, ss.Shutdown(ctx))
	require.NoError(t, ls.Shutdown(ctx))
	assert.Equal(t, seqRange(1, 12), logs.exported())
}

// TestStreamNotMadeByConstructor: a nil or zero Stream, or a constructor
// given nothing to follow or send to, says so; nothing panics.
func TestStreamNotMadeByConstructor(t *testing.T) {
	ctx := context.Background()
	for name, s := range map[string]*exporter.Stream{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, exporter.StreamStats{}, s.Stats())
			assert.ErrorIs(t, s.ForceFlush(ctx), exporter.ErrNilExporter)
			assert.ErrorIs(t, s.Shutdown(ctx), exporter.ErrNilExporter)
		})
	}
	g := otelaudit.NewGenerator()
	_, err := exporter.NewStream(nil, &flaky{})
	assert.ErrorIs(t, err, exporter.ErrNilTrail)
	_, err = exporter.NewLogStream(nil, &flakyLogs{})
	assert.ErrorIs(t, err, exporter.ErrNilTrail)
	_, err = exporter.NewStream(exporter.FollowGenerator(g), nil)
	assert.ErrorIs(t, err, exporter.ErrNilExporter)
	_, err = exporter.NewLogStream(exporter.FollowGenerator(g), nil)
	assert.ErrorIs(t, err, exporter.ErrNilExporter)
}

// bufferingLogs is an sdklog.Exporter that, like one writing through a
// buffer, holds what Export gives it until ForceFlush or Shutdown.
type bufferingLogs struct {
	mu        sync.Mutex
	held      int
	delivered int
	flushErr  error
}

func (b *bufferingLogs) Export(_ context.Context, records []sdklog.Record) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held += len(records)
	return nil
}

func (b *bufferingLogs) ForceFlush(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flushErr != nil {
		return b.flushErr
	}
	b.delivered += b.held
	b.held = 0
	return nil
}

func (b *bufferingLogs) Shutdown(ctx context.Context) error { return b.ForceFlush(ctx) }

func (b *bufferingLogs) counts() (held, delivered int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held, b.delivered
}

// TestLogStreamForceFlushReachesTheExporter: a log Stream's ForceFlush
// returns once the records are through the sdklog.Exporter's own buffer,
// not merely handed to it, and reports the exporter's flush failure.
func TestLogStreamForceFlushReachesTheExporter(t *testing.T) {
	g := otelaudit.NewGenerator()
	exp := &bufferingLogs{}
	s, err := exporter.NewLogStream(exporter.FollowGenerator(g), exp, exporter.WithPollInterval(time.Hour))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	record(t, g, 5)
	require.NoError(t, s.ForceFlush(ctx))
	held, delivered := exp.counts()
	assert.Equal(t, 0, held, "nothing left in the exporter's buffer")
	assert.Equal(t, 5, delivered)

	boom := errors.New("disk full")
	exp.mu.Lock()
	exp.flushErr = boom
	exp.mu.Unlock()
	record(t, g, 3)
	require.ErrorIs(t, s.ForceFlush(ctx), boom, "a flush that failed is not reported as done")

	exp.mu.Lock()
	exp.flushErr = nil
	exp.mu.Unlock()
	require.NoError(t, s.Shutdown(ctx))
	held, delivered = exp.counts()
	assert.Equal(t, 0, held)
	assert.Equal(t, 8, delivered)
}
