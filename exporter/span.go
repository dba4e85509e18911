package exporter

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter/internal/otlpenc"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// identity is what both ID derivations hash (see SpanID): the fields that
// tell one recorded event from another. Outcome and attributes are left
// out on purpose: they describe the event, they do not identify it. The
// derivations live in exporter/internal/otlpenc, which the direct OTLP Stream
// shares, so that both paths give an event the same IDs.
func identity(e *otelaudit.Event) otlpenc.Identity {
	return otlpenc.Identity{
		TraceID:  e.TraceID,
		SpanID:   e.SpanID,
		Seq:      e.Seq,
		Type:     []byte(e.Type),
		UnixNano: e.Time.UnixNano(),
	}
}

// SpanID returns the span ID Replay gives the span of e. It is a pure
// function of e's TraceID, SpanID, Seq, Type and Time, so replaying the same
// event again, from any process, yields the same ID and a backend can
// de-duplicate. It is never the zero (invalid) span ID.
//
// The ID is the big-endian FNV-1a 64 hash of: the ASCII string
// "otelaudit/replay-span-id/v1", a zero byte, TraceID (16 bytes), SpanID
// (8 bytes), Seq (8 bytes), len(Type) (8 bytes), Type, Time.UnixNano()
// (8 bytes, two's complement); integers big-endian. Should that hash be
// zero, the ID is 6f74656c61756474 instead.
func SpanID(e otelaudit.Event) trace.SpanID {
	id := identity(&e)
	return otlpenc.SpanID(&id)
}

// TraceID returns the trace ID Replay gives the span of e: e.TraceID when it
// is valid. An event with the zero TraceID was recorded outside any trace;
// rather than refuse it, and so keep it out of the backend, Replay puts it in
// a trace of its own whose ID is derived from the event like SpanID (FNV-1a
// 128), so that it is still stable across replays. Such a span is a root
// span: it has no parent, because the event's SpanID, if any, belongs to no
// known trace. The derivation is SpanID's with FNV-1a 128 instead of 64 and
// the string "otelaudit/replay-trace-id/v1" in place of the span ID's; the
// hashed TraceID is then all zeros.
func TraceID(e otelaudit.Event) trace.TraceID {
	if e.TraceID.IsValid() {
		return e.TraceID
	}
	id := identity(&e)
	return otlpenc.TraceID(&id)
}

// status maps an outcome to a span status. Outcomes outside the four
// defined ones leave the status unset: the outcome itself is still in
// otelaudit.KeyOutcome, and guessing Ok or Error for it would misreport the
// audit trail.
func status(o otelaudit.Outcome) sdktrace.Status {
	switch {
	case o.Failed():
		return sdktrace.Status{Code: codes.Error, Description: string(o)}
	case o == otelaudit.Success:
		// OTel drops descriptions on non-error statuses; keep it empty.
		return sdktrace.Status{Code: codes.Ok}
	}
	return sdktrace.Status{Code: codes.Unset}
}

// attributes builds the span attributes of e in the fixed order. The result
// is always a freshly allocated slice: exporters may rewrite what they are
// handed (stdouttrace does), and e.Attributes still belongs to the caller.
// It also returns how many of e's own attributes were dropped, for being
// invalid (as the SDK drops them) or for using an exporter-owned key.
func attributes(e *otelaudit.Event) ([]attribute.KeyValue, int) {
	kvs := appendAuditFields(make([]attribute.KeyValue, 0, 9+len(e.Attributes)), e)
	return appendOwnAttributes(kvs, e, otelaudit.ReservedKey)
}

// appendAuditFields appends the audit.* attributes of e, shared by spans and
// log records, in their fixed order.
func appendAuditFields(kvs []attribute.KeyValue, e *otelaudit.Event) []attribute.KeyValue {
	kvs = append(kvs,
		otelaudit.KeyEventType.String(string(e.Type)),
		// Seq is a Generator counter and stays far below 2^63; the
		// conversion only matters for hand-made events.
		otelaudit.KeyEventSeq.Int64(int64(e.Seq)), //nolint:gosec // see above
	)
	optional := [...]struct {
		key attribute.Key
		val string
	}{
		{otelaudit.KeyOutcome, string(e.Outcome)},
		{otelaudit.KeyAgentID, e.AgentID},
		{otelaudit.KeyHumanOriginID, e.HumanOriginID},
		{otelaudit.KeyWorkflowID, e.WorkflowID},
		{otelaudit.KeyNodeID, e.NodeID},
		{otelaudit.KeyAction, e.Action},
		{otelaudit.KeyResource, e.Resource},
	}
	for _, o := range optional {
		if o.val != "" {
			kvs = append(kvs, o.key.String(o.val))
		}
	}
	return kvs
}

// appendOwnAttributes appends e's own attributes but those that are
// invalid or use a key reserved says the exporter owns, and returns how
// many it left out.
func appendOwnAttributes(kvs []attribute.KeyValue, e *otelaudit.Event, reserved func(attribute.Key) bool) ([]attribute.KeyValue, int) {
	dropped := 0
	for _, kv := range e.Attributes {
		if !kv.Valid() || reserved(kv.Key) {
			dropped++
			continue
		}
		kvs = append(kvs, kv)
	}
	return kvs, dropped
}

// span builds the replayed span of e. Callers have validated e.
func (x *Exporter) span(e *otelaudit.Event) sdktrace.ReadOnlySpan {
	traceID := TraceID(*e)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    traceID,
		SpanID:     SpanID(*e),
		TraceFlags: trace.FlagsSampled, // it is being exported, so it was sampled
	})
	var parent trace.SpanContext
	if e.TraceID.IsValid() && e.SpanID.IsValid() {
		// Remote: the replay is produced away from the action's span, by
		// another component and usually later, possibly in another process.
		parent = trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    e.TraceID,
			SpanID:     e.SpanID,
			TraceFlags: trace.FlagsSampled,
			Remote:     true,
		})
	}

	// Start events have no duration; a negative one is nonsense and would put
	// the start after the end, so it counts as none.
	dur := max(e.Duration, 0)

	res, scope := x.r.cfg.resource, x.r.cfg.scope
	if r := e.Source.Resource(); r != nil {
		res = r
	}
	// A Source without a scope name knows the resource but not the tracer;
	// the default scope at least says who emitted the span.
	if s := e.Source.Scope(); s.Name != "" {
		scope = s
	}

	attrs, dropped := attributes(e)
	return tracetest.SpanStub{
		Name:                 otelaudit.NamePrefix + string(e.Type),
		SpanContext:          sc,
		Parent:               parent,
		SpanKind:             trace.SpanKindInternal,
		StartTime:            e.Time.Add(-dur),
		EndTime:              e.Time,
		Attributes:           attrs,
		Status:               status(e.Outcome),
		DroppedAttributes:    dropped,
		Resource:             res,
		InstrumentationScope: scope,
	}.Snapshot()
}
