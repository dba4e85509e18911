package processor

import (
	"context"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Processor is an sdktrace.SpanProcessor that turns the spans of an agent or
// workflow runtime into audit events in a Generator.
//
// It works synchronously on the goroutine that starts or ends the span and
// never blocks on I/O: each event costs one pass over the span's attributes
// and one short critical section in the Generator. It keeps no reference to
// any span: what an event needs is copied out before OnStart or OnEnd
// returns. What it remembers of open spans (the identity their descendants
// inherit, see WithMaxOpenSpans) is bounded and released when they end.
type Processor struct {
	g        *otelaudit.Generator
	cfg      config
	sources  sourceCache
	open     *openSpans
	shutdown atomic.Bool
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

// New returns a Processor that records into g. With a nil g the Processor
// records nothing, which is safe but useless.
func New(g *otelaudit.Generator, opts ...Option) *Processor {
	cfg := newConfig(opts)
	return &Processor{g: g, cfg: cfg, open: newOpenSpans(cfg.maxOpenSpans)}
}

// spanInfo is what the events of one span share beyond its attributes.
type spanInfo struct {
	parent  trace.SpanContext
	outer   identity // inherited from the enclosing spans or Baggage
	dropped dropped  // by the SDK's span limits
}

// OnStart records the start event of a workflow or node span, and
// remembers the span's identity for its descendants.
func (p *Processor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if p.off() {
		return
	}
	attrs := s.Attributes()
	var f fields
	f.scan(attrs, p.cfg.drop, p.cfg.keepContent)
	// The SDK calls OnStart with the context the span was started in:
	// its span context is the new span's parent (zero for a new root).
	info := spanInfo{parent: trace.SpanContextFromContext(parent)}
	var tracked bool
	info.outer, tracked = p.open.get(info.parent)
	if !tracked && !p.cfg.noBaggage {
		info.outer = p.baggageIdentity(parent)
	}
	t := p.classify(Start, s, &f, false)
	if id := f.identity().or(info.outer); tracked || t != "" || !id.empty() {
		if !p.open.put(s.SpanContext(), id) {
			p.g.AddUntracked(1)
		}
	}
	if t == "" {
		return
	}
	info.dropped.attributes = s.DroppedAttributes()
	p.record(parent, s, t, &f, Start, false, attrs, &info)
}

// OnEnd records one event per span event named audit.<type>, then the end
// (or error) event of a workflow or node span, the single event of an
// explicitly typed span or the resource_access of a call; and forgets the
// span.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	if p.off() {
		return
	}
	outer, tracked := p.open.take(s.SpanContext())
	attrs := s.Attributes()
	var f fields
	f.scan(attrs, p.cfg.drop, p.cfg.keepContent)
	failed := s.Status().Code == codes.Error
	t := p.classify(End, s, &f, failed)
	info := spanInfo{parent: s.Parent(), outer: outer, dropped: droppedAtEnd(s)}
	if info.dropped.any() {
		// Counted whether audited or not: the attribute or span event the
		// limits took may be the one that would have made it audited.
		p.g.AddTruncated(1)
	}
	events := s.Events()
	if !tracked && (t != "" || hasAuditEvent(events)) {
		// Not remembered (the table was full, or the span had nothing to
		// pass on when it started): its parent may be.
		info.outer, _ = p.open.get(info.parent)
	}
	// Span events happened before the span ended: record them first, so
	// that within a span Seq order is time order.
	for _, se := range events {
		if name, ok := auditEventType(se.Name); ok {
			p.recordSpanEvent(s, f, name, se, &info)
		}
	}
	if t != "" {
		p.record(context.Background(), s, t, &f, End, failed, attrs, &info)
	}
}

// auditEventType is the type of a span event named audit.<type>.
func auditEventType(name string) (otelaudit.EventType, bool) {
	t, ok := strings.CutPrefix(name, SpanEventPrefix)
	return otelaudit.EventType(t), ok && t != ""
}

func hasAuditEvent(events []sdktrace.Event) bool {
	for i := range events {
		if _, ok := auditEventType(events[i].Name); ok {
			return true
		}
	}
	return false
}

func (p *Processor) classify(ph Phase, s sdktrace.ReadOnlySpan, f *fields, failed bool) otelaudit.EventType {
	if p.cfg.classifier != nil {
		return p.cfg.classifier(ph, s)
	}
	var kind trace.SpanKind
	var name string
	if f.needsKind(p.cfg.allSpans) {
		kind = s.SpanKind()
		if ph == End && f.class == classDB {
			name = s.Name()
		}
	}
	return f.eventType(ph, failed, p.cfg.allSpans, p.cfg.serverSpans, kind, name)
}

// record records the event of type t that the span itself produces at
// phase ph.
func (p *Processor) record(ctx context.Context, s sdktrace.ReadOnlySpan, t otelaudit.EventType, f *fields, ph Phase, failed bool, attrs []attribute.KeyValue, info *spanInfo) {
	var e otelaudit.Event
	p.fill(&e, s, t, f, attrs, info, 0)
	var callOutcome otelaudit.Outcome
	if ph == End && f.isCall() {
		callOutcome = f.callOutcome()
	}
	e.Outcome = outcome(f.outcome, t, ph, failed, callOutcome)
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
func (p *Processor) recordSpanEvent(s sdktrace.ReadOnlySpan, f fields, t otelaudit.EventType, se sdktrace.Event, info *spanInfo) {
	var own fields
	own.scan(se.Attributes, p.cfg.drop, p.cfg.keepContent)
	f.overlay(&own)
	var e otelaudit.Event
	p.fill(&e, s, t, &f, se.Attributes, info, se.DroppedAttributeCount)
	e.Outcome = outcome(f.outcome, t, End, false, "")
	e.Time = se.Time
	_, _ = p.g.Append(context.Background(), e)
}

// fill sets what every event of span s takes from the span, from the
// fields found in its (or its span event's) attributes attrs, and from
// what it inherits; eventDropped is a span event's own dropped attributes.
func (p *Processor) fill(e *otelaudit.Event, s sdktrace.ReadOnlySpan, t otelaudit.EventType, f *fields, attrs []attribute.KeyValue, info *spanInfo, eventDropped int) {
	sc := s.SpanContext()
	e.Type = t
	e.TraceID = sc.TraceID()
	e.SpanID = sc.SpanID()
	e.ParentSpanID = info.parent.SpanID()
	id := f.identity().or(info.outer)
	e.AgentID = id.agent
	e.HumanOriginID = id.human
	e.WorkflowID = id.workflow
	e.NodeID = id.node
	e.Action = f.action
	e.Resource = f.resource
	if f.isCall() {
		if e.Action == "" {
			e.Action = f.callAction(s)
		}
		if e.Resource == "" {
			e.Resource = f.callResource()
		}
	}
	if e.Action == "" {
		e.Action = s.Name()
	}
	e.Attributes = info.dropped.annotate(keep(attrs, f.drop, p.cfg.drop, p.cfg.keepContent), eventDropped)
	e.Source = p.sources.get(s)
}

// baggageIdentity is the identity the caller's runtime propagated in W3C
// Baggage, for spans with no enclosing span that has one. A key given to
// WithDropAttributes is not taken from Baggage either.
func (p *Processor) baggageIdentity(ctx context.Context) identity {
	b := baggage.FromContext(ctx)
	if b.Len() == 0 {
		return identity{}
	}
	member := func(k attribute.Key) string {
		if _, dropped := p.cfg.drop[k]; dropped {
			return ""
		}
		return b.Member(string(k)).Value()
	}
	return identity{agent: member(KeyGenAIAgentID), human: member(KeyEndUserID), workflow: member(KeyWorkflowID)}
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
