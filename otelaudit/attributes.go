package otelaudit

import "go.opentelemetry.io/otel/attribute"

// NamePrefix starts this project's names: every audit.* attribute key,
// and, followed by an event type, the name of that event outside the
// trail. The processor reads a span event named "audit.trust_denied" as an
// event of type trust_denied; the exporter names the span and the log
// event it replays an event as the same way, as in "audit.node_end".
const NamePrefix = "audit."

// The attribute keys of an event's fields, in the order the exporter writes
// them on a replayed span or log record. A span attribute with
// KeyEventType, KeyAction, KeyResource, KeyOutcome or KeyHumanOriginID sets
// that field of the event the processor records (see the processor's
// package documentation).
const (
	KeyEventType     attribute.Key = "audit.event.type"
	KeyEventSeq      attribute.Key = "audit.event.seq"
	KeyOutcome       attribute.Key = "audit.outcome"
	KeyAgentID       attribute.Key = "audit.agent.id"
	KeyHumanOriginID attribute.Key = "audit.human_origin.id"
	KeyWorkflowID    attribute.Key = "audit.workflow.id"
	KeyNodeID        attribute.Key = "audit.node.id"
	KeyAction        attribute.Key = "audit.action"
	KeyResource      attribute.Key = "audit.resource"
)

// KeyDuration is the log record attribute holding an event's Duration in
// nanoseconds, set when it is positive. A span carries the duration as its
// start and end times; a log record has one timestamp, so the duration
// travels as an attribute.
const KeyDuration attribute.Key = "audit.duration_ns"

// ReservedKey reports whether k is the key of one of an event's fields
// (KeyEventType to KeyResource above). The exporter owns these keys: an
// event attribute with one of them is dropped on replay, so that a copied
// span attribute can never pass itself off as an audit field.
func ReservedKey(k attribute.Key) bool {
	switch k {
	case KeyEventType, KeyEventSeq, KeyOutcome, KeyAgentID, KeyHumanOriginID,
		KeyWorkflowID, KeyNodeID, KeyAction, KeyResource:
		return true
	}
	return false
}
