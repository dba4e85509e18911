package otlpenc

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// ErrNeedsRecord is returned by Logs.Add for an event whose attributes
// the log SDK would rewrite: duplicate keys, among the event's own
// attributes or inside a map value, which it reduces to one. The caller
// builds that event's record with the SDK (sdklog.Record) and adds it
// with AddRecord, so that the rules are the SDK's own.
var ErrNeedsRecord = errors.New("otlpenc: event needs the log SDK's record")

// Field tags of a LogRecord (logs/v1).
const (
	tagLogTime     = 0x09 // time_unix_nano = 1, fixed64
	tagLogSevNum   = 0x10 // severity_number = 2
	tagLogSevText  = 0x1a // severity_text = 3
	tagLogBody     = 0x2a // body = 5
	tagLogAttrs    = 0x32 // attributes = 6
	tagLogDropped  = 0x38 // dropped_attributes_count = 7
	tagLogFlags    = 0x45 // flags = 8, fixed32
	tagLogTraceID  = 0x4a // trace_id = 9
	tagLogSpanID   = 0x52 // span_id = 10
	tagLogObserved = 0x59 // observed_time_unix_nano = 11, fixed64
	tagLogEvent    = 0x62 // event_name = 12
)

// Logs builds one ExportLogsServiceRequest of log records in the
// exporter's log record format (see exporter.LogExporter), from events
// added one by one, grouped as Traces groups spans. Make one with NewLogs.
type Logs struct {
	groups
	merged map[*resource.Resource]*resource.Resource
}

// NewLogs returns a Logs with the default resource and scope of
// NewTraces. Every resource is merged with the environment's
// (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME), the resource's own
// attributes winning, as the log SDK's LoggerProvider merges it.
func NewLogs(res *resource.Resource, scope instrumentation.Scope) *Logs {
	l := &Logs{groups: groups{defRes: res, defScope: scope}, merged: map[*resource.Resource]*resource.Resource{}}
	l.resolve = l.merge
	return l
}

func (l *Logs) merge(res *resource.Resource) *resource.Resource {
	if m, ok := l.merged[res]; ok {
		return m
	}
	if len(l.merged) >= 1024 { // a trail from more resources only costs merging again
		clear(l.merged)
	}
	// The error (conflicting schema URLs) is the SDK's to report, and it
	// keeps the merged resource all the same.
	m, _ := resource.Merge(resource.Environment(), res)
	l.merged[res] = m
	return m
}

// Add appends the log record of the event encoded in data, whose Source is
// src, observed at observed. Bytes that are not an encoded event are
// refused with otelaudit.ErrMalformed; an event the SDK would rewrite with
// ErrNeedsRecord. Either way nothing is added.
func (l *Logs) Add(data []byte, src *otelaudit.Source, observed time.Time) error {
	var h wire.Header
	var strs [wire.NumStrings][]byte
	rest, err := readEvent(data, &h, &strs)
	if err != nil {
		return err
	}
	if err := checkLogAttrs(rest); err != nil {
		return fmt.Errorf("event %d: %w", h.Seq, err)
	}
	ri, si := l.group(src)
	g := &l.res[ri].scopes[si]
	b, err := appendLogRecord(g.items, &h, &strs, rest, observed)
	return l.add(g, b, h.Seq, err)
}

// LogReserved reports whether k is one of the log record format's own
// keys: the span format's and otelaudit.KeyDuration, which the log
// exporter writes as an attribute too.
func LogReserved(k attribute.Key) bool {
	return k == otelaudit.KeyDuration || otelaudit.ReservedKey(k)
}

// logReserved is LogReserved of encoded bytes, without a copy.
func logReserved(key []byte) bool {
	return auditKey(key) && LogReserved(attribute.Key(key))
}

// checkLogAttrs walks the encoded attributes (count first) and reports
// ErrNeedsRecord if the log SDK would drop any as a duplicate: two of the
// event's own attributes that are kept with one key, or one key twice in
// a map value (whose keys are sorted, so duplicates are neighbours).
func checkLogAttrs(attrs []byte) error {
	r := valueReader{b: attrs}
	n := r.count(2, "attribute count")
	var few [16][]byte
	keys := few[:0]
	for range n {
		key := r.str("attribute key")
		dup := r.scan(0)
		if r.err != nil {
			return r.err
		}
		if len(key) == 0 || logReserved(key) {
			continue
		}
		if dup {
			return ErrNeedsRecord
		}
		for _, k := range keys {
			if string(k) == string(key) {
				return ErrNeedsRecord
			}
		}
		keys = append(keys, key)
	}
	if r.err != nil {
		return r.err
	}
	return nil
}

// scan reads one encoded value and reports whether a map in it has a key
// twice. It walks the kinds as value does, but writes nothing: it runs
// before anything is written, to choose between this writer and the
// SDK's record, so folding it into value would make every value pay for
// a check only the log records need.
func (r *valueReader) scan(depth int) (dup bool) {
	if depth > wire.MaxDepth {
		r.fail("values nested too deep")
		return false
	}
	k := r.take(1, "value kind")
	if len(k) == 0 {
		return false
	}
	switch k[0] {
	case wire.KindEmpty:
	case wire.KindBool:
		r.boolean()
	case wire.KindInt64, wire.KindFloat64:
		r.take(8, "number")
	case wire.KindString, wire.KindByteSlice:
		r.str("string")
	case wire.KindBoolSlice:
		for range r.count(1, "slice") {
			r.boolean()
		}
	case wire.KindInt64Slice, wire.KindFloat64Slice:
		n := r.count(8, "slice")
		r.take(8*n, "slice")
	case wire.KindStringSlice:
		for range r.count(1, "slice") {
			r.str("string")
		}
	case wire.KindSlice:
		for range r.count(1, "slice") {
			dup = r.scan(depth+1) || dup
		}
	case wire.KindMap:
		var prev []byte
		for i := range r.count(2, "map") {
			key := r.str("map key")
			if i > 0 && string(key) == string(prev) {
				dup = true
			}
			prev = key
			dup = r.scan(depth+1) || dup
		}
	default:
		r.fail(fmt.Sprintf("unknown value kind %d", k[0]))
	}
	return dup
}

// Severity is the severity of the log record of an event with outcome o
// (exporter.LogSeverity documents it): INFO for success and for no
// outcome, ERROR for error, WARN for every other outcome.
func Severity(o otelaudit.Outcome) log.Severity {
	switch o {
	case otelaudit.Success, "":
		return log.SeverityInfo
	case otelaudit.Error:
		return log.SeverityError
	}
	return log.SeverityWarn
}

// appendLogRecord appends the LogRecord field of the event whose header,
// strings and attributes (count first) are given.
func appendLogRecord(b []byte, h *wire.Header, strs *[wire.NumStrings][]byte, attrs []byte, observed time.Time) ([]byte, error) {
	b, start := openLenN(append(b, tagScopeItems), 2)
	when := time.Unix(h.Sec, int64(h.Nsec))
	if t := when.UnixNano(); t > 0 {
		b = appendFixed64Field(b, tagLogTime, uint64(t))
	}
	sev := Severity(outcomeOf(strs[wire.StrOutcome]))
	b = appendVarintField(b, tagLogSevNum, uint64(sev)) //nolint:gosec // a small positive enum
	b = appendBytesField(b, tagLogSevText, sev.String())
	b, body := openLen(append(b, tagLogBody))
	b, s := openLenN(append(b, tagAnyString), 1)
	b = AppendBody(b, strs[wire.StrType], strs[wire.StrAction], strs[wire.StrResource], strs[wire.StrOutcome])
	b = closeLen(closeLen(b, s), body)

	// The audit fields, the duration, then the event's own attributes.
	// An attribute without a key, or with one the format owns, is left
	// out, as the log exporter leaves it out of the record.
	b = appendAuditFields(b, tagLogAttrs, h, strs)
	if h.Duration > 0 {
		b = appendIntKV(b, tagLogAttrs, string(otelaudit.KeyDuration), uint64(h.Duration))
	}
	b, _, err := appendAttrs(b, tagLogAttrs, attrs, logReserved)
	if err != nil {
		return b, err
	}
	// A record outside any trace has no trace context.
	if h.TraceID != ([16]byte{}) {
		b = append(b, tagLogFlags, 1, 0, 0, 0) // sampled
		b = appendBytesField(b, tagLogTraceID, h.TraceID[:])
		if h.SpanID != ([8]byte{}) {
			b = appendBytesField(b, tagLogSpanID, h.SpanID[:])
		}
	}
	if t := observed.UnixNano(); t > 0 {
		b = appendFixed64Field(b, tagLogObserved, uint64(t))
	}
	b = appendName(b, tagLogEvent, strs[wire.StrType])
	return closeLenN(b, start, 2), nil
}

// AddRecord appends r, a record the log SDK built (see ErrNeedsRecord),
// under its own resource and scope, as the SDK's OTLP log exporters write
// it.
func (l *Logs) AddRecord(r *sdklog.Record) {
	res := r.Resource()
	ri, si := l.groupOf(res, r.InstrumentationScope())
	g := &l.res[ri].scopes[si]
	b, start := openLenN(append(g.items, tagScopeItems), 2)
	if t := r.Timestamp().UnixNano(); t > 0 {
		b = appendFixed64Field(b, tagLogTime, uint64(t))
	}
	if sev := r.Severity(); sev != 0 {
		b = appendVarintField(b, tagLogSevNum, uint64(sev)) //nolint:gosec // a small positive enum
	}
	b = appendStringField(b, tagLogSevText, r.SeverityText())
	var body int
	b, body = openLen(append(b, tagLogBody))
	v := r.Body()
	b = closeLen(appendAttrValue(b, &v), body)
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		b = appendKeyValue(b, tagLogAttrs, string(kv.Key), &kv.Value)
		return true
	})
	if d := r.DroppedAttributes(); d > 0 {
		b = appendVarintField(b, tagLogDropped, uint64(d))
	}
	if f := r.TraceFlags(); f != 0 {
		b = append(b, tagLogFlags, byte(f), 0, 0, 0)
	}
	if id := r.TraceID(); id.IsValid() {
		b = appendBytesField(b, tagLogTraceID, id[:])
	}
	if id := r.SpanID(); id.IsValid() {
		b = appendBytesField(b, tagLogSpanID, id[:])
	}
	if t := r.ObservedTimestamp().UnixNano(); t > 0 {
		b = appendFixed64Field(b, tagLogObserved, uint64(t))
	}
	b = appendStringField(b, tagLogEvent, r.EventName())
	g.items = closeLenN(b, start, 2)
	l.n++
}

// AppendRequest appends the ExportLogsServiceRequest of the records added
// since the last Reset.
func (l *Logs) AppendRequest(b []byte) []byte { return l.appendRequest(b, true) }
