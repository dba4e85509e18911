package exporter

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter/internal/otlpenc"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// maxBodyPart bounds each field quoted in a log record's body. The body is
// a line for people; the attributes carry every field whole. Without a
// bound, a megabyte resource would travel twice.
const maxBodyPart = otlpenc.MaxBodyPart

// maxTemplates bounds the record templates a LogExporter keeps, one per
// distinct resource and scope. Beyond it the cache starts over: a trail
// from more sources than that only costs rebuilding templates.
const maxTemplates = 1024

// LogSeverity returns the severity of the log record of an event with
// outcome o: INFO for success and for no outcome, WARN for denied and
// failure, ERROR for error. An outcome outside these, which no Generator
// accepts, is WARN: it is not known to be a success, and it is not known to
// be an error.
func LogSeverity(o otelaudit.Outcome) log.Severity { return otlpenc.Severity(o) }

// LogBody returns the body of e's log record: one short line for people
// reading a log view, "<type>: <action> on <resource> (<outcome>)", the
// parts that are empty left out, as in
//
//	trust_denied: execute_tool charge_card on payments://cards/alice (denied)
//
// Each part is cut to 256 bytes (marked with …), and control characters,
// line and paragraph separators and invalid UTF-8 are escaped, so that a
// field set by a caller cannot forge a second line in a line-oriented log
// store. The attributes carry every field unchanged.
func LogBody(e otelaudit.Event) string {
	n := min(len(e.Type), maxBodyPart) + min(len(e.Action), maxBodyPart) + min(len(e.Resource), maxBodyPart) + min(len(e.Outcome), maxBodyPart) + 16
	return string(otlpenc.AppendBody(make([]byte, 0, n), []byte(e.Type), []byte(e.Action), []byte(e.Resource), []byte(e.Outcome)))
}

// logAttributes builds the attributes of e's log record: the span
// format's, in its order, with otelaudit.KeyDuration after the audit fields.
func logAttributes(e *otelaudit.Event) []attribute.KeyValue {
	kvs := appendAuditFields(make([]attribute.KeyValue, 0, 10+len(e.Attributes)), e)
	if e.Duration > 0 {
		kvs = append(kvs, otelaudit.KeyDuration.Int64(int64(e.Duration)))
	}
	kvs, _ = appendOwnAttributes(kvs, e, otlpenc.LogReserved)
	return kvs
}

// templateKey tells apart the resources and scopes log records are built
// for. Resources are compared by content, so that equal resources decoded
// separately share one template. attribute.Distinct is a 64-bit hash, not
// the content: a hit is confirmed against the template's resource (see
// template), so that a collision, chanced or crafted by whoever sets one
// source's resource, never gives a record another source's resource.
type templateKey struct {
	res    attribute.Distinct
	schema string
	scope  instrumentation.Scope
}

// recordTemplate is a template record and the resource it was made for,
// as given: the record's own resource has the environment's merged in.
type recordTemplate struct {
	res *resource.Resource
	rec sdklog.Record
}

// template returns an empty record carrying res and scope, with no
// attribute limits. sdklog.Record has no setters for its resource and
// scope, and only the SDK's Logger makes records that carry them: so a
// LoggerProvider with res, and a Logger for scope, emit one empty record,
// which a processor of ours keeps. Every record of that source is then a
// Clone of it with the event's fields set. Under the lock.
func (x *LogExporter) template(res *resource.Resource, scope instrumentation.Scope) sdklog.Record {
	key := templateKey{res: res.Equivalent(), schema: res.SchemaURL(), scope: scope}
	if t, ok := x.templates[key]; ok && (t.res == res || t.res.Set().Equals(res.Set())) {
		return t.rec
	}
	if len(x.templates) >= maxTemplates || x.templates == nil {
		x.templates = make(map[templateKey]recordTemplate)
	}
	keep := &keepProcessor{}
	lp := sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(keep),
		// An audit record is never cut; OTEL_LOGRECORD_* limits are for
		// application logs, and the options take precedence over them.
		sdklog.WithAttributeCountLimit(-1),
		sdklog.WithAttributeValueLengthLimit(-1),
		sdklog.WithAttributeValueDepthLimit(-1),
	)
	lp.Logger(scope.Name,
		log.WithInstrumentationVersion(scope.Version),
		log.WithSchemaURL(scope.SchemaURL),
		log.WithInstrumentationAttributeSet(scope.Attributes),
	).Emit(context.Background(), log.Record{})
	// Nothing is left in the provider: its processor holds only the
	// template, which is ours now.
	_ = lp.Shutdown(context.Background())
	// A colliding resource takes the entry over: it costs the other one
	// a rebuild, and neither ever gets the other's template.
	x.templates[key] = recordTemplate{res: res, rec: keep.rec}
	return keep.rec
}

// keepProcessor keeps the one record emitted through it.
type keepProcessor struct{ rec sdklog.Record }

func (p *keepProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	p.rec = r.Clone()
	return nil
}

func (*keepProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*keepProcessor) Shutdown(context.Context) error                         { return nil }
func (*keepProcessor) ForceFlush(context.Context) error                       { return nil }

// sourceTemplate returns the template of e's Source. Events of one tracer
// share their Source, and a trail's events come in runs of one Source, so
// the last one is kept at hand: comparing a pointer is cheaper than
// hashing a resource and a scope. Under the lock.
func (x *LogExporter) sourceTemplate(src *otelaudit.Source) sdklog.Record {
	if x.lastTemplate != nil && src == x.lastSource {
		return *x.lastTemplate
	}
	res, scope := x.r.cfg.resource, x.r.cfg.scope
	if r := src.Resource(); r != nil {
		res = r
	}
	if s := src.Scope(); s.Name != "" {
		scope = s
	}
	t := x.template(res, scope)
	x.lastSource, x.lastTemplate = src, &t
	return t
}

// record builds e's log record, observed at observed. Callers have
// validated e and hold the lock.
func (x *LogExporter) record(e *otelaudit.Event, observed time.Time) sdklog.Record {
	tmpl := x.sourceTemplate(e.Source)
	r := tmpl.Clone()
	r.SetEventName(otelaudit.NamePrefix + string(e.Type))
	r.SetTimestamp(e.Time)
	r.SetObservedTimestamp(observed)
	sev := LogSeverity(e.Outcome)
	r.SetSeverity(sev)
	r.SetSeverityText(sev.String())
	r.SetBody(attribute.StringValue(LogBody(*e)))
	r.SetAttributes(logAttributes(e)...)
	// A record outside any trace has no trace context: unlike a span, a
	// log record needs none, and a made-up trace ID would point at a trace
	// that does not exist.
	if e.TraceID.IsValid() {
		r.SetTraceID(e.TraceID)
		r.SetSpanID(e.SpanID)
		// Sampled, as the replayed span is: the record is exported, and a
		// trace-based filter must not drop an audit record.
		r.SetTraceFlags(trace.FlagsSampled)
	}
	return r
}
