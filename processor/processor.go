package processor

import (
	"context"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
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
//
// What of each span's attributes an event keeps is the Generator's Policy
// (see otelaudit.WithPolicy), applied to every event it records; a key
// its Drop names is also kept out of the fields the processor fills and
// out of what it takes from Baggage.
func New(g *otelaudit.Generator, opts ...Option) *Processor {
	cfg := newConfig(opts)
	if g != nil {
		cfg.drop = policyDrops(g.Policy())
	}
	return &Processor{g: g, cfg: cfg, open: newOpenSpans(cfg.maxOpenSpans)}
}

// spanInfo is what the events of one span share beyond its attributes.
type spanInfo struct {
	self    trace.SpanContext
	parent  trace.SpanContext
	outer   identity // inherited from the enclosing spans or Baggage
	dropped dropped  // by the SDK's span limits
}

// OnStart records the start event of a workflow or node span, and
// remembers what the span's descendants inherit through it when they
// could not read it from the span itself.
func (p *Processor) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if p.off() {
		return
	}
	attrs := s.Attributes()
	var f fields
	f.scan(attrs, p.cfg.drop)
	// Calls produce nothing at Start but under WithAllSpans: their kind (a
	// lock on an open span) and attributes are read only then.
	var kind trace.SpanKind
	if p.cfg.allSpans {
		kind = p.locate(s, &f, attrs)
	}
	t := p.classify(Start, s, &f, false, kind)
	// The SDK calls OnStart with the context the span was started in: its
	// span is the parent (see enclosing), its Baggage the caller's.
	psc := s.Parent()
	var outer identity
	inTree := false
	if psc.IsValid() && !psc.IsRemote() {
		outer, inTree = p.enclosing(parent, psc)
	}
	if !inTree && !p.cfg.noBaggage {
		outer = p.baggageIdentity(parent)
	}
	own := f.hasIdentity()
	if t == "" && !inTree && !own && outer.empty() {
		// Outside audited work: nothing to record, nothing to pass on.
		return
	}
	// A span whose own attributes give both what it passes on and that it
	// is audited (a workflow's root span, typically) needs no entry: its
	// children read it from the span (see enclosing).
	if f.inherits(outer) || !own && !f.startsAudited() {
		if !p.open.put(s.SpanContext(), f.identity().or(outer)) {
			p.g.AddUntracked(1)
		}
	}
	if t == "" {
		return
	}
	info := spanInfo{self: s.SpanContext(), parent: psc, outer: outer, dropped: dropped{attributes: s.DroppedAttributes()}}
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
	// Each accessor of the SDK's snapshot of an ended span copies the
	// whole snapshot (value receivers): every one is read once, and only
	// when it can matter.
	var sc trace.SpanContext
	var outer identity
	tracked := false
	if p.open.inUse() {
		sc = s.SpanContext()
		outer, tracked = p.open.take(sc)
	}
	attrs := s.Attributes()
	var f fields
	f.scan(attrs, p.cfg.drop)
	kind := p.locate(s, &f, attrs)
	failed := s.Status().Code == codes.Error
	t := p.classify(End, s, &f, failed, kind)
	events := s.Events()
	audited := t != "" || hasAuditEvent(events)
	// Counted whether audited or not: an attribute or a span event the
	// limits took may be what would have made the span audited (a link
	// never would). The SDK drops the oldest span events, so a span that
	// kept none lost none, unless span events are switched off
	// (EventCountLimit 0).
	dropped := dropped{attributes: s.DroppedAttributes()}
	if len(events) > 0 {
		dropped.events = s.DroppedEvents()
	}
	if audited {
		dropped.links = s.DroppedLinks()
	}
	if dropped.any() {
		p.g.AddTruncated(1)
	}
	if !audited {
		return
	}
	if !sc.IsValid() {
		sc = s.SpanContext()
	}
	info := spanInfo{self: sc, parent: s.Parent(), outer: outer, dropped: dropped}
	if !tracked && p.open.inUse() && info.parent.IsValid() {
		// Not remembered (the table was full, or the span's own
		// attributes said all it passes on): its parent may be.
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
	t, ok := strings.CutPrefix(name, otelaudit.NamePrefix)
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

// locate reads the kind of a span the default rules did not classify by
// its own attributes but that has attributes a call could have (or any,
// under WithAllSpans), and locates its call attributes if the kind can
// make it a call; it returns the kind, or zero when it did not need it. A
// workflow's or node's spans, and plain ones, never pay for either.
func (p *Processor) locate(s sdktrace.ReadOnlySpan, f *fields, attrs []attribute.KeyValue) trace.SpanKind {
	if f.class != classNone || !f.maybeCall && !p.cfg.allSpans {
		return 0
	}
	kind := s.SpanKind()
	if callKinds(kind, p.cfg.serverSpans) {
		f.locateCall(attrs, p.cfg.drop)
	}
	return kind
}

func (p *Processor) classify(ph Phase, s sdktrace.ReadOnlySpan, f *fields, failed bool, kind trace.SpanKind) otelaudit.EventType {
	if p.cfg.classifier != nil {
		return p.cfg.classifier(ph, s)
	}
	var name string
	if ph == End && f.class == classDB {
		name = s.Name()
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
	own.scan(se.Attributes, p.cfg.drop)
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
	e.Type = t
	e.TraceID = info.self.TraceID()
	e.SpanID = info.self.SpanID()
	e.ParentSpanID = info.parent.SpanID()
	e.AgentID = or(f.agent(), info.outer.agent)
	e.HumanOriginID = or(f.human(), info.outer.human)
	e.WorkflowID = or(f.workflowKey(), info.outer.workflow)
	e.NodeID = or(f.nodeID, info.outer.node)
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
	e.Attributes = info.dropped.annotate(keep(attrs, f.drop), eventDropped)
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
