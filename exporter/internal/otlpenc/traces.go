// Package otlpenc writes audit events, read in place from their binary
// encoding (internal/wire), as OTLP protobuf: ExportTraceServiceRequest
// bodies of spans in the exporter's replayed span format, with no Event,
// SDK span snapshot or OTLP struct in between. The content is what the
// exporter's SpanExporter path produces through the OTel SDK's OTLP
// exporters, field for field; the exporter's tests check it against them.
package otlpenc

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// optionalKeys are the keys of the strings after the header that a span
// carries when non-empty, in the span format's order, with the index of
// their string.
var optionalKeys = [...]struct {
	key string
	str int
}{
	{string(otelaudit.KeyOutcome), wire.StrOutcome},
	{string(otelaudit.KeyAgentID), wire.StrAgent},
	{string(otelaudit.KeyHumanOriginID), wire.StrHumanOrigin},
	{string(otelaudit.KeyWorkflowID), wire.StrWorkflow},
	{string(otelaudit.KeyNodeID), wire.StrNode},
	{string(otelaudit.KeyAction), wire.StrAction},
	{string(otelaudit.KeyResource), wire.StrResource},
}

// maxReservedKey bounds the length of the keys otelaudit.ReservedKey
// accepts; a key no longer than 32 bytes that does not escape is converted
// to a string on the stack, so Reserved never allocates.
const maxReservedKey = 32

// outcomeOf is the outcome of the encoded bytes, for the rules of
// otelaudit.Outcome (Failed) and Severity to decide on. The defined
// outcomes are short, so a longer one, none of them, is given as a
// placeholder of the same standing ("custom"), and the conversion of a
// short one stays on the stack: the hot path never allocates for it.
func outcomeOf(b []byte) otelaudit.Outcome {
	if len(b) > maxReservedKey {
		return "custom"
	}
	return otelaudit.Outcome(b)
}

// Reserved reports whether key is one of the span format's own keys
// (otelaudit.ReservedKey), which an event's attribute may not use.
func Reserved(key []byte) bool {
	return auditKey(key) && otelaudit.ReservedKey(attribute.Key(key))
}

// auditKey reports whether key could be one of the format's own keys: no
// longer than maxReservedKey, and under otelaudit.NamePrefix. Most keys
// are not, and are told so without the copy of a conversion.
func auditKey(key []byte) bool {
	return len(key) <= maxReservedKey && len(key) > len(otelaudit.NamePrefix) &&
		string(key[:len(otelaudit.NamePrefix)]) == otelaudit.NamePrefix
}

// The span's flags: sampled, and "whether the parent is remote is known",
// as the SDK's exporters set them, plus "remote" when there is a parent.
const (
	flagsNoParent = 0x01 | 0x100
	flagsParent   = 0x01 | 0x100 | 0x200
)

// Traces builds one ExportTraceServiceRequest from events added one by
// one. Spans are grouped by resource, then by scope, in the order each
// first appears, as OTLP wants them. Make one with NewTraces.
type Traces struct{ groups }

// NewTraces returns a Traces that gives events whose Source does not name
// a resource res (nil: none), and those whose Source names no scope, scope.
func NewTraces(res *resource.Resource, scope instrumentation.Scope) *Traces {
	return &Traces{groups{defRes: res, defScope: scope}}
}

// Add appends the span of the event encoded in data, whose Source is src.
// Bytes that are not an encoded event, or an event without a type, are
// refused with an error wrapping otelaudit.ErrMalformed, and nothing is added.
func (t *Traces) Add(data []byte, src *otelaudit.Source) error {
	var h wire.Header
	var strs [wire.NumStrings][]byte
	rest, err := readEvent(data, &h, &strs)
	if err != nil {
		return err
	}
	ri, si := t.group(src)
	g := &t.res[ri].scopes[si]
	b, err := appendSpan(g.items, &h, &strs, rest)
	return t.add(g, b, h.Seq, err)
}

// appendSpan appends the Span field of the event whose header, strings
// and attributes (count first) are given.
func appendSpan(b []byte, h *wire.Header, strs *[wire.NumStrings][]byte, attrs []byte) ([]byte, error) {
	when := time.Unix(h.Sec, int64(h.Nsec))
	id := Identity{TraceID: h.TraceID, SpanID: h.SpanID, Seq: h.Seq, Type: strs[wire.StrType], UnixNano: when.UnixNano()}
	traceID := TraceID(&id)
	spanID := SpanID(&id)

	// Spans are 128 bytes to 16 KiB long, mostly: two length bytes.
	b, start := openLenN(append(b, tagScopeItems), 2)
	b = appendBytesField(b, tagSpanTraceID, traceID[:])
	b = appendBytesField(b, tagSpanSpanID, spanID[:])
	flags := uint32(flagsNoParent)
	if h.TraceID != ([16]byte{}) && h.SpanID != ([8]byte{}) {
		b = appendBytesField(b, tagSpanParent, h.SpanID[:])
		flags = flagsParent
	}
	b = appendName(b, tagSpanName, strs[wire.StrType])
	b = append(b, tagSpanKind, 1) // SPAN_KIND_INTERNAL
	// Start events have no duration; a negative one counts as none.
	dur := time.Duration(max(h.Duration, 0))
	b = appendFixed64Field(b, tagSpanStart, uint64(max(0, when.Add(-dur).UnixNano()))) //nolint:gosec // clamped
	b = appendFixed64Field(b, tagSpanEnd, uint64(max(0, when.UnixNano())))             //nolint:gosec // clamped

	// The audit fields, then the event's own attributes. An attribute
	// without a key, or posing as an audit field, is dropped and counted,
	// as the SDK path drops it.
	b = appendAuditFields(b, tagSpanAttrs, h, strs)
	b, dropped, err := appendAttrs(b, tagSpanAttrs, attrs, Reserved)
	if err != nil {
		return b, err
	}
	if dropped > 0 {
		b = appendVarintField(b, tagSpanDropped, dropped)
	}
	b = appendStatus(b, strs[wire.StrOutcome])
	b = append(b, tagSpanFlags0, tagSpanFlags1)
	b = append(b, byte(flags), byte(flags>>8), byte(flags>>16), byte(flags>>24))
	return closeLenN(b, start, 2), nil
}

// appendName appends a string field of "audit." and the event type: the
// span name, the log record's event name.
func appendName(b []byte, tag byte, typ []byte) []byte {
	if !utf8Valid(typ) {
		return appendStrField(b, tag, otelaudit.NamePrefix+string(typ))
	}
	b = append(b, tag)
	b = append(appendUvarint(b, uint64(len(otelaudit.NamePrefix)+len(typ))), otelaudit.NamePrefix...)
	return append(b, typ...)
}

// appendStatus appends the span's Status: Error with the outcome as
// message for a failed outcome (Outcome.Failed); Ok for success; Unset
// otherwise, as the exporter's span status.
// The SDK's exporters always send a Status, even an unset one.
func appendStatus(b []byte, outcome []byte) []byte {
	b, s := openLen(append(b, tagSpanStatus))
	switch o := outcomeOf(outcome); {
	case o.Failed():
		b = appendBytesField(b, tagStatusMsg, outcome)
		b = appendVarintField(b, tagStatusCode, 2) // STATUS_CODE_ERROR
	case o == otelaudit.Success:
		b = appendVarintField(b, tagStatusCode, 1) // STATUS_CODE_OK
	}
	return closeLen(b, s)
}

func appendUvarint(b []byte, x uint64) []byte {
	if x < 0x80 {
		return append(b, byte(x))
	}
	return appendVarint(b, x)
}

// AppendRequest appends the ExportTraceServiceRequest of the spans added
// since the last Reset.
func (t *Traces) AppendRequest(b []byte) []byte {
	// The SDK's trace exporter always sends the resource and, for a
	// scope that is not the zero one, the scope's schema URL with it.
	return t.appendRequest(b, false)
}

// appendStringField appends a string field unless it is empty, as proto3
// leaves out fields at their default.
func appendStringField(b []byte, tag byte, s string) []byte {
	if s == "" {
		return b
	}
	return appendStrField(b, tag, s)
}
