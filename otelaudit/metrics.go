package otelaudit

import (
	"context"
	"errors"
	"time"
	"weak"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// meterName is the instrumentation scope of the Generator's metrics.
const meterName = "github.com/otelaudit/otelaudit-go/otelaudit"

// registerMetrics publishes Stats as observable instruments: they are read
// when the metrics SDK collects, so the hot path pays nothing for them.
// The names follow OTel's conventions (dot-separated, {event} units).
func (g *Generator) registerMetrics(mp metric.MeterProvider) (metric.Registration, error) {
	m := mp.Meter(meterName)
	if err := g.requireInstruments(m); err != nil {
		return nil, err
	}
	counter := func(name, desc string) (metric.Int64ObservableCounter, error) {
		return m.Int64ObservableCounter(name, metric.WithUnit("{event}"), metric.WithDescription(desc))
	}
	gauge := func(name, desc string) (metric.Int64ObservableGauge, error) {
		return m.Int64ObservableGauge(name, metric.WithUnit("{event}"), metric.WithDescription(desc))
	}
	recorded, err := counter("otelaudit.events.recorded", "Audit events accepted by the generator.")
	if err != nil {
		return nil, err
	}
	evicted, err := counter("otelaudit.events.evicted", "Held audit events dropped at the capacity bound.")
	if err != nil {
		return nil, err
	}
	rejected, err := counter("otelaudit.events.rejected", "Audit events refused: bad input, full, store behind, shut down.")
	if err != nil {
		return nil, err
	}
	size, err := gauge("otelaudit.queue.size", "Audit events held in memory.")
	if err != nil {
		return nil, err
	}
	capacity, err := gauge("otelaudit.queue.capacity", "Most audit events held in memory.")
	if err != nil {
		return nil, err
	}
	pending, err := gauge("otelaudit.store.pending", "Audit events accepted but not yet durable in the store.")
	if err != nil {
		return nil, err
	}
	storeErrors, err := m.Int64ObservableCounter("otelaudit.store.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Failed store writes; each was retried."))
	if err != nil {
		return nil, err
	}
	truncated, err := m.Int64ObservableCounter("otelaudit.spans.truncated", metric.WithUnit("{span}"),
		metric.WithDescription("Spans that reached the processor with data dropped by the SDK's span limits."))
	if err != nil {
		return nil, err
	}
	untracked, err := m.Int64ObservableCounter("otelaudit.spans.untracked", metric.WithUnit("{span}"),
		metric.WithDescription("Spans the processor could not remember while open: its table of open spans was full."))
	if err != nil {
		return nil, err
	}
	held, err := m.Int64ObservableGauge("otelaudit.queue.bytes", metric.WithUnit("By"),
		metric.WithDescription("What the held audit events weigh against the byte budget."))
	if err != nil {
		return nil, err
	}
	cut, err := counter("otelaudit.events.cut", "Audit events cut to the event size cap.")
	if err != nil {
		return nil, err
	}
	redacted, err := counter("otelaudit.events.redacted", "Audit events from which the policy removed a known secret.")
	if err != nil {
		return nil, err
	}
	hasStore := g.cfg.store != nil
	// The callback holds the Generator weakly: a MeterProvider (the global
	// one above all) lives as long as the program, and must not keep alive
	// every Generator ever made. NewGenerator unregisters the callback once
	// the Generator is collected.
	wg := weak.Make(g)
	return m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		g := wg.Value()
		if g == nil {
			return nil
		}
		st := g.Stats()
		o.ObserveInt64(recorded, int64(st.Recorded))
		o.ObserveInt64(evicted, int64(st.Evicted))
		o.ObserveInt64(rejected, int64(st.Rejected))
		o.ObserveInt64(size, int64(st.Len))
		o.ObserveInt64(capacity, int64(st.Capacity))
		o.ObserveInt64(truncated, int64(st.Truncated))
		o.ObserveInt64(untracked, int64(st.Untracked))
		o.ObserveInt64(held, st.Bytes)
		o.ObserveInt64(cut, int64(st.Cut))
		o.ObserveInt64(redacted, int64(st.Redacted))
		if hasStore {
			o.ObserveInt64(pending, int64(st.LastSeq-st.Durable))
			o.ObserveInt64(storeErrors, int64(st.StoreErrors))
		}
		return nil
	}, recorded, evicted, rejected, size, capacity, pending, storeErrors, truncated, untracked, held, cut, redacted)
}

// requireDurationBuckets are the bounds, in seconds, of the Require
// latency histogram: a commit with fsync takes from a fraction of a
// millisecond to tens of milliseconds, a deadline seconds. The SDK's
// default bounds (0, 5, 10, 25, ... 10000) are for milliseconds, and
// would put every Require in the first bucket.
var requireDurationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// requireInstruments makes the synchronous instruments of Require: its
// latency, recorded by every call, and its failures, both with error.type
// on failures (see requireErrorType).
func (g *Generator) requireInstruments(m metric.Meter) error {
	d, err := m.Float64Histogram("otelaudit.require.duration", metric.WithUnit("s"),
		metric.WithDescription("How long Require took: until the event was durable (and signed), or until it failed."),
		metric.WithExplicitBucketBoundaries(requireDurationBuckets...))
	if err != nil {
		return err
	}
	f, err := m.Int64Counter("otelaudit.require.failures", metric.WithUnit("{call}"),
		metric.WithDescription("Require calls that gave no receipt, by error.type."))
	if err != nil {
		return err
	}
	g.req.duration, g.req.failures = d, f
	return nil
}

// observeRequire records one Require call that began at start.
func (g *Generator) observeRequire(start time.Time, err error) {
	if g.invalid() || g.req.duration == nil {
		return
	}
	ctx := context.Background()
	if err == nil {
		g.req.duration.Record(ctx, time.Since(start).Seconds())
		return
	}
	attrs := metric.WithAttributeSet(attribute.NewSet(semconv.ErrorTypeKey.String(requireErrorType(err))))
	g.req.duration.Record(ctx, time.Since(start).Seconds(), attrs)
	g.req.failures.Add(ctx, 1, attrs)
}

// requireErrorType is the error.type of a Require failure: a short name of
// its reason, from a small fixed set, so that it can be an attribute.
func requireErrorType(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{
		{ErrNoStore, "no_store"},
		{ErrStoreRefused, "store_refused"},
		{ErrStoreFailed, "store_failed"},
		{ErrStoreBehind, "store_behind"},
		{ErrShutdown, "shutdown"},
		{ErrFull, "full"},
		{ErrEmptyType, "invalid_event"},
		{ErrInvalidEvent, "invalid_event"},
		{context.DeadlineExceeded, "timeout"},
		{context.Canceled, "canceled"},
	} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "_OTHER"
}
