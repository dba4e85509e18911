package processor

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// enclosing returns the identity that a span started in ctx, whose parent
// is psc (valid and local), inherits from its enclosing spans in this
// process, and whether the parent is in audited work (has an identity, is
// audited by its start attributes, or is itself below such a span): the
// Sampler records the children of such spans.
//
// A parent the Processor remembers (openSpans) answers from its entry.
// Any other parent is read from the span itself: the SDK gives OnStart,
// and samplers, the context the span is started in, whose span is the
// parent; its own attributes are all it passes on, or OnStart would have
// remembered it. (Reading them makes the SDK copy the parent's attribute
// slice if the parent sets attributes again later.) A parent that is not
// recording (sampled out) or not the SDK's passes nothing on.
func (p *Processor) enclosing(ctx context.Context, psc trace.SpanContext) (identity, bool) {
	if id, ok := p.open.get(psc); ok {
		return id, true
	}
	ps, ok := trace.SpanFromContext(ctx).(sdktrace.ReadOnlySpan)
	if !ok {
		return identity{}, false
	}
	if sc := ps.SpanContext(); sc.SpanID() != psc.SpanID() || sc.TraceID() != psc.TraceID() {
		return identity{}, false
	}
	var f fields
	f.scan(ps.Attributes(), p.cfg.drop)
	own := f.identity()
	return own, !own.empty() || f.startsAudited()
}

// startsAudited reports whether a span's start attributes make it audited
// by the default rules: a workflow, a node, a model call, or an explicitly
// typed span.
func (f *fields) startsAudited() bool {
	return f.explicit != "" || f.class == classWorkflow || f.class == classNode || f.class == classModel
}

// baggageIdentity is the identity the caller's runtime propagated in W3C
// Baggage, for spans with no enclosing span that has one. A key the
// Generator's Policy drops is not taken from Baggage either.
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
