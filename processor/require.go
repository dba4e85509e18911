package processor

import (
	"context"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Require records e as an audit event of the span in ctx and returns once
// it is durable (see otelaudit.Generator.Require): for a tool, running
// inside its span, that must not act unless the trail holds what it is
// about to do. A span processor cannot hold up a span's start; the tool
// can hold up its own action.
//
// The fields e leaves empty are filled as the Processor fills those of the
// span's own events: AgentID, HumanOriginID, WorkflowID and NodeID from
// the span's attributes, else inherited from its enclosing spans or
// Baggage; Action (the span name when no audit.action), Resource and
// Source from the span, leaving out what the Generator's Policy drops;
// TraceID, SpanID and ParentSpanID from the span's context. e's Type and
// Attributes are the caller's (the span's attributes are on its start event already).
//
// The Processor recorded the span's start event when the span started,
// before the tool ran: a receipt for e proves that event durable too,
// since a commit takes events in Seq order. After Shutdown the Processor
// stops auditing spans, but Require still records e: it is the tool's
// call, not the span's. With a nil Processor, or one without a Generator,
// it returns an error wrapping otelaudit.ErrNoReceipt.
func (p *Processor) Require(ctx context.Context, e otelaudit.Event) (otelaudit.Receipt, error) {
	if p == nil || p.g == nil {
		var g *otelaudit.Generator
		return g.Require(ctx, e)
	}
	if ctx != nil {
		if s, ok := trace.SpanFromContext(ctx).(sdktrace.ReadOnlySpan); ok && !e.TraceID.IsValid() {
			p.fillFromSpan(ctx, &e, s)
		}
	}
	return p.g.Require(ctx, e)
}

// fillFromSpan fills the fields e leaves empty from span s, the span in
// ctx, as the span's own events have them: who acts is what s's own
// attributes say, else what it inherits from its enclosing spans or from
// Baggage, as its children would.
func (p *Processor) fillFromSpan(ctx context.Context, e *otelaudit.Event, s sdktrace.ReadOnlySpan) {
	var f fields
	f.scan(s.Attributes(), p.cfg.drop)
	sc := s.SpanContext()
	outer, inTree := p.enclosing(ctx, sc)
	if !inTree && !p.cfg.noBaggage {
		outer = p.baggageIdentity(ctx)
	}
	id := f.identity().or(outer)
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&e.AgentID, id.agent)
	set(&e.HumanOriginID, id.human)
	set(&e.WorkflowID, id.workflow)
	set(&e.NodeID, id.node)
	set(&e.Action, f.action)
	set(&e.Action, s.Name())
	set(&e.Resource, f.resource)
	e.TraceID, e.SpanID = sc.TraceID(), sc.SpanID()
	if !e.ParentSpanID.IsValid() {
		e.ParentSpanID = s.Parent().SpanID()
	}
	if e.Source == nil {
		e.Source = p.sources.get(s)
	}
}
