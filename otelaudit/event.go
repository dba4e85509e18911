package otelaudit

import (
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// EventType names the kind of runtime action an Event records. The constants
// below are the types the processor produces by default; any other non-empty
// value is a valid custom type.
type EventType string

// The event types every runtime action maps to by default.
const (
	WorkflowStart     EventType = "workflow_start"
	WorkflowEnd       EventType = "workflow_end"
	WorkflowError     EventType = "workflow_error"
	NodeStart         EventType = "node_start"
	NodeEnd           EventType = "node_end"
	NodeError         EventType = "node_error"
	TrustVerification EventType = "trust_verification"
	TrustDenied       EventType = "trust_denied"
	ResourceAccess    EventType = "resource_access"
	DelegationUsed    EventType = "delegation_used"
)

// ImpliedOutcome is the outcome t says by itself, whatever the action
// reports: Denied for TrustDenied, Error for a type ending in "_error"
// (WorkflowError, NodeError and custom types named the same way), and the
// empty Outcome for every other type, whose outcome the action tells.
func (t EventType) ImpliedOutcome() Outcome {
	switch {
	case t == TrustDenied:
		return Denied
	case strings.HasSuffix(string(t), "_error"):
		return Error
	}
	return ""
}

// Outcome is how an action ended. The empty Outcome means "not known yet", as
// on a start event.
type Outcome string

// The outcomes an Event may carry.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
	Denied  Outcome = "denied"
	Error   Outcome = "error"
)

// Valid reports whether o is empty or one of the four defined outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case "", Success, Failure, Denied, Error:
		return true
	}
	return false
}

// Failed reports whether o says the action did not succeed: Failure,
// Denied or Error. The exporter gives such an event an error status, and
// auditz counts it among a trace's problems.
func (o Outcome) Failed() bool {
	switch o {
	case Failure, Denied, Error:
		return true
	}
	return false
}

// Event is one entry of the audit trail: who did what, in which trace, with
// what outcome.
//
// Events returned by a Generator are deep copies: changing one, or its
// Attributes, never changes what the Generator holds.
type Event struct {
	// Seq is assigned by the Generator: strictly increasing, never reused,
	// not even after Clear. Any value set before Record is ignored.
	Seq  uint64
	Type EventType
	// Time is when the action happened. Zero on Record means "now".
	Time time.Time
	// TraceID and SpanID tie the event to the OTel span of the action.
	// Zero on Record means "take them from the span in the context".
	TraceID       trace.TraceID
	SpanID        trace.SpanID
	ParentSpanID  trace.SpanID
	AgentID       string
	HumanOriginID string
	WorkflowID    string
	NodeID        string
	Action        string
	// Resource is what the action touched (a file, a URL, a tool). The OTel
	// resource of the emitting process is in Source.
	Resource string
	Outcome  Outcome
	Duration time.Duration
	// Attributes are kept in the order given.
	Attributes []attribute.KeyValue
	// Source is the OTel resource and instrumentation scope of the span the
	// event came from; nil when unknown. It is immutable and shared.
	Source *Source

	// PrevHash and Hash place the event in the trail's hash chain (see
	// ChainHash): Hash covers every field above, Seq and Source included,
	// and PrevHash, which is the Hash of the event before. Both are set by
	// the Generator, which ignores any value given to Record.
	PrevHash Hash
	Hash     Hash
}

// clone returns a copy of e that shares no mutable memory with it.
func (e *Event) clone() Event {
	c := *e
	if e.Attributes != nil {
		c.Attributes = append(make([]attribute.KeyValue, 0, len(e.Attributes)), e.Attributes...)
	}
	return c
}
