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
// span's own events: AgentID, HumanOriginID, WorkflowID, NodeID, Action
// (the span name when no audit.action), Resource and Source from the span,
// with the Processor's WithDropAttributes honoured; TraceID, SpanID and
// ParentSpanID from the span's context. e's Type and Attributes are the
// caller's (the span's attributes are on its start event already).
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
			p.fillFromSpan(&e, s)
		}
	}
	return p.g.Require(ctx, e)
}

// fillFromSpan fills the fields e leaves empty from span s, as the span's
// own events have them.
func (p *Processor) fillFromSpan(e *otelaudit.Event, s sdktrace.ReadOnlySpan) {
	var f fields
	f.scan(s.Attributes(), p.cfg.drop, p.cfg.keepContent)
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&e.AgentID, f.agent())
	set(&e.HumanOriginID, f.human())
	set(&e.WorkflowID, f.workflowKey())
	set(&e.NodeID, f.nodeID)
	set(&e.Action, f.action)
	set(&e.Action, s.Name())
	set(&e.Resource, f.resource)
	sc := s.SpanContext()
	e.TraceID, e.SpanID = sc.TraceID(), sc.SpanID()
	if !e.ParentSpanID.IsValid() {
		e.ParentSpanID = s.Parent().SpanID()
	}
	if e.Source == nil {
		e.Source = p.sources.get(s)
	}
}
