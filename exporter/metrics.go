package exporter

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meterName is the instrumentation scope of the metrics of this package.
const meterName = "github.com/otelaudit/otelaudit-go/exporter"

// SignalKey is the attribute of a Stream's metrics that says what it
// exports: "traces" (NewStream) or "logs" (NewLogStream).
const SignalKey = attribute.Key("otelaudit.export.signal")

// registerMetrics publishes the Stream's counters as observable
// instruments: read from Stats when the SDK collects, nothing on the export
// path.
func (s *Stream) registerMetrics(mp metric.MeterProvider) error {
	m := mp.Meter(meterName)
	exported, err := m.Int64ObservableCounter("otelaudit.export.exported",
		metric.WithUnit("{event}"), metric.WithDescription("Audit events exported by the stream."))
	if err != nil {
		return err
	}
	failures, err := m.Int64ObservableCounter("otelaudit.export.failures",
		metric.WithUnit("{attempt}"), metric.WithDescription("Failed export attempts of the stream; each was retried."))
	if err != nil {
		return err
	}
	dropped, err := m.Int64ObservableCounter("otelaudit.export.dropped",
		metric.WithUnit("{event}"), metric.WithDescription("Audit events gone from the trail before the stream exported them."))
	if err != nil {
		return err
	}
	pending, err := m.Int64ObservableGauge("otelaudit.export.pending",
		metric.WithUnit("{event}"), metric.WithDescription("Audit events recorded but not exported yet: the stream's lag."))
	if err != nil {
		return err
	}
	// The signal tells a span Stream's figures from a log Stream's, which
	// the same process may run side by side.
	attrs := metric.WithAttributeSet(attribute.NewSet(SignalKey.String(s.signal)))
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := s.Stats()
		o.ObserveInt64(exported, int64(st.Exported), attrs)
		o.ObserveInt64(failures, int64(st.Failures), attrs)
		o.ObserveInt64(dropped, int64(st.Dropped), attrs)
		o.ObserveInt64(pending, int64(st.Pending), attrs)
		return nil
	}, exported, failures, dropped, pending)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.reg = reg
	s.mu.Unlock()
	return nil
}
