package processor

import (
	"slices"

	"go.opentelemetry.io/otel/attribute"
)

// Attributes that say an event's span lost data to the SDK's span limits
// (sdktrace.SpanLimits) before the processor saw it: the counts the SDK
// reports, on every event of that span, each only when not zero. A span
// event's audit event also says how many of the span event's own
// attributes were dropped.
const (
	KeySpanDroppedAttributes  attribute.Key = "audit.span.dropped_attributes"
	KeySpanDroppedEvents      attribute.Key = "audit.span.dropped_events"
	KeySpanDroppedLinks       attribute.Key = "audit.span.dropped_links"
	KeyEventDroppedAttributes attribute.Key = "audit.span_event.dropped_attributes"
)

// dropped is what the SDK's limits took from a span.
type dropped struct {
	attributes, events, links int
}

func (d dropped) any() bool { return d.attributes > 0 || d.events > 0 || d.links > 0 }

// annotate returns attrs with the counts of d, and of a span event's own
// dropped attributes (eventAttrs), appended. attrs may be the SDK's slice
// (keep returns it when it leaves nothing out): never append in place.
func (d dropped) annotate(attrs []attribute.KeyValue, eventAttrs int) []attribute.KeyValue {
	if !d.any() && eventAttrs <= 0 {
		return attrs
	}
	out := slices.Grow(slices.Clip(attrs), 4)
	if d.attributes > 0 {
		out = append(out, KeySpanDroppedAttributes.Int(d.attributes))
	}
	if d.events > 0 {
		out = append(out, KeySpanDroppedEvents.Int(d.events))
	}
	if d.links > 0 {
		out = append(out, KeySpanDroppedLinks.Int(d.links))
	}
	if eventAttrs > 0 {
		out = append(out, KeyEventDroppedAttributes.Int(eventAttrs))
	}
	return out
}
