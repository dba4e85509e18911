package processor

import (
	"context"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Processor is an sdktrace.SpanProcessor that turns the spans of an agent or
// workflow runtime into audit events in a Generator.
//
// It works synchronously on the goroutine that starts or ends the span and
// never blocks on I/O: each event costs one pass over the span's attributes
// and one short critical section in the Generator. It keeps no reference to
// any span: what an event needs is copied out before OnStart or OnEnd
// returns.
type Processor struct {
	g        *otelaudit.Generator
	cfg      config
	sources  sourceCache
	shutdown atomic.Bool
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

// New returns a Processor that records into g. With a nil g the Processor
// records nothing, which is safe but useless.
func New(g *otelaudit.Generator, opts ...Option) *Processor {
	return &Processor{g: g, cfg: newConfig(opts)}
}

// OnStart records the start event of a workflow or node span.
func (p *Processor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if p.off() {
		return
	}
	attrs := s.Attributes()
	var f fields
	f.scan(attrs, p.cfg.drop, p.cfg.keepContent)
	t := p.classify(Start, s, &f, false)
	if t == "" {
		return
	}
	p.record(parent, s, t, &f, Start, false, attrs)
}

// OnEnd records one event per span event named audit.<type>, then the end
// (or error) event of a workflow or node span, or the single event of an
// explicitly typed span.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	if p.off() {
		return
	}
	attrs := s.Attributes()
	var f fields
	f.scan(attrs, p.cfg.drop, p.cfg.keepContent)
	// Span events happened before the span ended: record them first, so
	// that within a span Seq order is time order.
	for _, se := range s.Events() {
		name, ok := strings.CutPrefix(se.Name, SpanEventPrefix)
		if !ok || name == "" {
			continue
		}
		p.recordSpanEvent(s, f, otelaudit.EventType(name), se)
	}
	failed := s.Status().Code == codes.Error
	if t := p.classify(End, s, &f, failed); t != "" {
		p.record(context.Background(), s, t, &f, End, failed, attrs)
	}
}

func (p *Processor) classify(ph Phase, s sdktrace.ReadOnlySpan, f *fields, failed bool) otelaudit.EventType {
	if p.cfg.classifier != nil {
		return p.cfg.classifier(ph, s)
	}
	return f.eventType(ph, failed, p.cfg.allSpans)
}

// record records the event of type t that the span itself produces at
// phase ph.
func (p *Processor) record(ctx context.Context, s sdktrace.ReadOnlySpan, t otelaudit.EventType, f *fields, ph Phase, failed bool, attrs []attribute.KeyValue) {
	var e otelaudit.Event
	p.fill(&e, s, t, f, attrs)
	e.Outcome = outcome(f.outcome, t, ph, failed)
	if ph == Start {
		e.Time = s.StartTime()
	} else {
		e.Time = s.EndTime()
		e.Duration = max(e.Time.Sub(s.StartTime()), 0)
	}
	// The Generator counts what it refuses (Stats.Rejected); a span
	// processor has no caller to return the error to.
	_, _ = p.g.Append(ctx, e)
}

// recordSpanEvent records a span event named audit.<type>, at the span
// event's own time, with the span event's attributes (which may override the
// span's agent, action, resource and outcome).
func (p *Processor) recordSpanEvent(s sdktrace.ReadOnlySpan, f fields, t otelaudit.EventType, se sdktrace.Event) {
	var own fields
	own.scan(se.Attributes, p.cfg.drop, p.cfg.keepContent)
	f.overlay(&own)
	var e otelaudit.Event
	p.fill(&e, s, t, &f, se.Attributes)
	e.Outcome = outcome(f.outcome, t, End, false)
	e.Time = se.Time
	_, _ = p.g.Append(context.Background(), e)
}

// fill sets what every event of span s takes from the span and from the
// fields found in its (or its span event's) attributes attrs.
func (p *Processor) fill(e *otelaudit.Event, s sdktrace.ReadOnlySpan, t otelaudit.EventType, f *fields, attrs []attribute.KeyValue) {
	sc := s.SpanContext()
	e.Type = t
	e.TraceID = sc.TraceID()
	e.SpanID = sc.SpanID()
	e.ParentSpanID = s.Parent().SpanID()
	e.AgentID = f.agent()
	e.HumanOriginID = f.human()
	e.WorkflowID = f.workflowKey()
	e.NodeID = f.nodeID
	e.Action = f.action
	if e.Action == "" {
		e.Action = s.Name()
	}
	e.Resource = f.resource
	e.Attributes = keep(attrs, f.drop, p.cfg.drop, p.cfg.keepContent)
	e.Source = p.sources.get(s)
}

func (p *Processor) off() bool {
	return p == nil || p.g == nil || p.shutdown.Load()
}

// Shutdown stops the Processor: spans started or ended after it are not
// audited, as the SDK's processors do. Then it flushes the Generator (see
// ForceFlush), so that a TracerProvider's Shutdown leaves every audited
// span durable when the Generator has a store. It does not shut the
// Generator down, which other processors or direct Record calls may share:
// its owner calls Generator.Shutdown. Calling it again only flushes again.
func (p *Processor) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.shutdown.Store(true)
	return p.ForceFlush(ctx)
}

// ForceFlush returns once every event recorded so far is durable in the
// Generator's store (Generator.ForceFlush); without a store, at once, since
// every event is in the Generator by the time OnStart or OnEnd returns. It
// reports ctx's error if ctx is already done, so a caller's deadline is
// never silently ignored.
func (p *Processor) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p == nil || p.g == nil {
		return nil
	}
	return p.g.ForceFlush(ctx)
}
