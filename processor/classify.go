package processor

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Span attributes the processor reads. The gen_ai.* keys follow the GenAI
// semantic conventions; workflow.* and node.* are what workflow runtimes tag
// their spans with. The audit.* keys are this project's own, defined in
// otelaudit (otelaudit.KeyEventType, ...). The HTTP, database, RPC and
// messaging keys of the semantic conventions are listed in semconv.go.
const (
	KeyEndUserID      attribute.Key = "enduser.id"
	KeyGenAIOperation attribute.Key = "gen_ai.operation.name"
	KeyGenAIAgentID   attribute.Key = "gen_ai.agent.id"
	KeyGenAIAgentName attribute.Key = "gen_ai.agent.name"
	KeyAgentID        attribute.Key = "agent.id"
	KeyWorkflowID     attribute.Key = "workflow.id"
	KeyWorkflowName   attribute.Key = "workflow.name"
	KeyNodeID         attribute.Key = "node.id"
)

// Phase says which end of a span a Classifier is asked about.
type Phase uint8

const (
	// Start is OnStart: the span carries the attributes it was started with.
	Start Phase = iota + 1
	// End is OnEnd: the span is complete, with its status.
	End
)

// Classifier decides which audit event, if any, a span produces at a phase.
// It returns the empty type to produce none. At Start the span is still
// being built: read it, never keep it. A Classifier must be safe for
// concurrent use and should be fast: it runs on the caller's goroutine for
// every recorded span.
//
// A Classifier needs the span, which a sampler never has: with one, the
// Processor's Sampler records every span (see Processor.Sampler).
type Classifier func(p Phase, s sdktrace.ReadOnlySpan) otelaudit.EventType

// DefaultClassifier is the classification used when no WithClassifier
// option is given, exported so a custom Classifier can fall back to it. It
// never audits unrecognised spans (that is WithAllSpans' job), nor server
// spans (WithServerSpans').
func DefaultClassifier(p Phase, s sdktrace.ReadOnlySpan) otelaudit.EventType {
	var f fields
	attrs := s.Attributes()
	f.scan(attrs, nil)
	var kind trace.SpanKind
	if p == End && f.class == classNone && f.maybeCall {
		if kind = s.SpanKind(); callKinds(kind, false) {
			f.locateCall(attrs, nil)
		}
	}
	var name string
	if p == End && f.class == classDB {
		name = s.Name()
	}
	return f.eventType(p, s.Status().Code == codes.Error, false, false, kind, name)
}

// class is what a span is to the default classifier.
type class uint8

const (
	classNone class = iota
	classWorkflow
	classNode
	// The calls: spans of the ecosystem's instrumentations (see
	// semconv.go), one resource_access each when they end.
	classHTTP
	classDB
	classRPC
	classMessaging
	classModel
	// classOther is a client, producer or consumer span of no known
	// convention, audited as a call under WithAllSpans (eventType only).
	classOther
)

// fields is what one pass over a span's (or span event's) attributes finds:
// its class and every value an audit event takes from attributes. One pass,
// one switch per attribute: this runs on the hot path.
type fields struct {
	class       class
	explicit    otelaudit.EventType
	workflowOp  bool // a gen_ai.operation.name that denotes a workflow
	agentID     string
	agentName   string
	agentAlt    string
	humanOrigin string
	endUser     string
	workflowID  string
	workflow    string
	nodeID      string
	action      string
	resource    string
	outcome     otelaudit.Outcome
	// call locates the semantic-convention attributes of a call;
	// maybeCall is set when an attribute's key could be one of them.
	call      call
	maybeCall bool
	// drop counts attributes that must not be copied into the event.
	drop int
}

// scan reads attrs once. drop holds the keys the Generator's Policy drops
// (see config.drop). The semantic-convention attributes of calls are
// located by locateCall, for the spans whose kind can make them calls.
//
// A key in drop still classifies the span (a dropped node.id still makes it
// a node) but fills no field; the Generator leaves it out of Attributes, as
// every attribute its Policy does not keep. The audit.* attributes that
// become fields (see consumed) are taken out of Attributes: the exporter
// writes them back from the fields under the same names, so nothing is
// lost and nothing is stored twice. f.drop counts them, for keep.
func (f *fields) scan(attrs []attribute.KeyValue, drop map[attribute.Key]struct{}) {
	var nodeOp, modelOp, hasNode, hasWorkflow bool
	for i := range attrs {
		kv := &attrs[i]
		dropped := false
		if drop != nil {
			_, dropped = drop[kv.Key]
		}
		switch kv.Key {
		case otelaudit.KeyEventType:
			f.explicit = otelaudit.EventType(str(kv))
		case KeyGenAIOperation:
			switch kv.Value.AsString() {
			case "invoke_workflow", "invoke_agent", "create_agent", "plan":
				f.workflowOp = true
			case "execute_tool":
				nodeOp = true
			case "chat", "generate_content", "text_completion", "embeddings":
				modelOp = true
				f.call.at(&f.call.aiOperation, i, dropped)
			}
		case KeyWorkflowID:
			hasWorkflow = true
			if !dropped {
				f.workflowID = str(kv)
			}
		case KeyWorkflowName:
			hasWorkflow = true
			if !dropped {
				f.workflow = str(kv)
			}
		case KeyNodeID:
			hasNode = true
			if !dropped {
				f.nodeID = str(kv)
			}
		case KeyGenAIAgentID:
			if !dropped {
				f.agentID = str(kv)
			}
		case KeyGenAIAgentName:
			if !dropped {
				f.agentName = str(kv)
			}
		case KeyAgentID:
			if !dropped {
				f.agentAlt = str(kv)
			}
		case KeyEndUserID:
			if !dropped {
				f.endUser = str(kv)
			}
		case otelaudit.KeyHumanOriginID:
			if !dropped {
				f.humanOrigin = str(kv)
			}
		case otelaudit.KeyAction:
			if !dropped {
				f.action = str(kv)
			}
		case otelaudit.KeyResource:
			if !dropped {
				f.resource = str(kv)
			}
		case otelaudit.KeyOutcome:
			if o, ok := validOutcome(kv); ok && !dropped {
				f.outcome = o
			}
		default:
			// The first letters of the keys call.note knows.
			if kv.Key != "" {
				switch kv.Key[0] {
				case 'h', 'u', 's', 'd', 'r', 'm', 'g':
					f.maybeCall = true
				}
			}
		}
		// Only audit.* keys can be consumed: the others skip the second
		// look.
		if strings.HasPrefix(string(kv.Key), otelaudit.NamePrefix) && consumed(kv) {
			f.drop++
		}
	}
	switch {
	case hasNode || nodeOp:
		// Node spans usually carry their workflow's id too: node wins.
		f.class = classNode
	case hasWorkflow || f.workflowOp:
		f.class = classWorkflow
	case modelOp:
		// A model call may be of any kind: locate its provider and model.
		f.class = classModel
		f.locateCall(attrs, drop)
	}
}

// locateCall is a second pass over attrs for a span that may be a call (a
// client, producer or consumer span, or a server span under
// WithServerSpans): it locates the semantic-convention attributes of
// calls and, if the span is nothing else, makes it the call they describe.
// Only such spans pay for it: the spans of a runtime's own work never do.
func (f *fields) locateCall(attrs []attribute.KeyValue, drop map[attribute.Key]struct{}) {
	f.call.attrs = attrs
	for i := range attrs {
		dropped := false
		if drop != nil {
			_, dropped = drop[attrs[i].Key]
		}
		f.call.note(attrs[i].Key, i, dropped)
	}
	if f.class == classNone {
		f.class = f.call.class()
	}
}

// validOutcome reads an audit.outcome attribute; ok is false unless it is
// one of the four outcomes.
func validOutcome(kv *attribute.KeyValue) (otelaudit.Outcome, bool) {
	o := otelaudit.Outcome(str(kv))
	return o, o != "" && o.Valid()
}

// eventType is the default classification. Explicitly typed spans produce
// one event, at End, so that it carries the outcome and duration; so do
// calls, whose instrumentations set their attributes after the start.
// kind is the span's (at Start, only under allSpans); name matters for
// database calls at End (see callKind and dbStatement).
func (f *fields) eventType(p Phase, failed, allSpans, serverSpans bool, kind trace.SpanKind, name string) otelaudit.EventType {
	if f.explicit != "" {
		if p == End {
			return f.explicit
		}
		return ""
	}
	c := f.class
	if c >= classHTTP && !callKind(c, kind, serverSpans) {
		c = classNone
	}
	if c == classDB && p == End && !f.call.dbStatement(name) {
		// Driver bookkeeping (rows, session resets, pings, prepares,
		// transactions) is noise, never an access, even under WithAllSpans.
		return ""
	}
	if c == classNone && allSpans {
		c = classNode
		if outbound(kind) {
			// Instrumentations of calls set their attributes after the
			// start: audit such a span once, when it ends, as a call.
			c = classOther
		}
	}
	switch c {
	case classNone:
		return ""
	case classWorkflow:
		return pick(p, failed, otelaudit.WorkflowStart, otelaudit.WorkflowEnd, otelaudit.WorkflowError)
	case classNode:
		return pick(p, failed, otelaudit.NodeStart, otelaudit.NodeEnd, otelaudit.NodeError)
	}
	if p == End {
		return otelaudit.ResourceAccess
	}
	return ""
}

func outbound(kind trace.SpanKind) bool {
	return kind == trace.SpanKindClient || kind == trace.SpanKindProducer || kind == trace.SpanKindConsumer
}

func pick(p Phase, failed bool, start, end, fail otelaudit.EventType) otelaudit.EventType {
	switch {
	case p == Start:
		return start
	case failed:
		return fail
	}
	return end
}

// agent is the first of gen_ai.agent.id, gen_ai.agent.name, agent.id.
func (f *fields) agent() string {
	switch {
	case f.agentID != "":
		return f.agentID
	case f.agentName != "":
		return f.agentName
	}
	return f.agentAlt
}

func (f *fields) human() string {
	if f.humanOrigin != "" {
		return f.humanOrigin
	}
	return f.endUser
}

func (f *fields) workflowKey() string {
	if f.workflowID != "" {
		return f.workflowID
	}
	return f.workflow
}

// identity is who acts in the span, from its own attributes alone.
func (f *fields) identity() identity {
	return identity{agent: f.agent(), human: f.human(), workflow: f.workflowKey(), node: f.nodeID}
}

// hasIdentity reports whether the span's own attributes name anyone.
func (f *fields) hasIdentity() bool {
	return f.agentID != "" || f.agentName != "" || f.agentAlt != "" || f.humanOrigin != "" || f.endUser != "" ||
		f.workflowID != "" || f.workflow != "" || f.nodeID != ""
}

// inherits reports whether outer gives the span something its own
// attributes do not.
func (f *fields) inherits(outer identity) bool {
	return outer.agent != "" && f.agent() == "" || outer.human != "" && f.human() == "" ||
		outer.workflow != "" && f.workflowKey() == "" || outer.node != "" && f.nodeID == ""
}

// or is a, else b.
func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// overlay lets a span event's own attributes override the span's.
func (f *fields) overlay(o *fields) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&f.agentID, o.agentID)
	set(&f.agentName, o.agentName)
	set(&f.agentAlt, o.agentAlt)
	set(&f.humanOrigin, o.humanOrigin)
	set(&f.endUser, o.endUser)
	set(&f.workflowID, o.workflowID)
	set(&f.workflow, o.workflow)
	set(&f.nodeID, o.nodeID)
	set(&f.action, o.action)
	set(&f.resource, o.resource)
	f.outcome = o.outcome
	f.drop = o.drop
}

// outcome is the event's outcome. At Start: only what the type says
// (EventType.ImpliedOutcome); a start has not ended, so an
// audit.outcome on the span speaks of its end. Otherwise: an explicit
// audit.outcome, else what the type says, else what the call's own status
// says (callOutcome, see semconv.go; empty when not a call), else the span
// status (failed is error, anything else success).
func outcome(explicit otelaudit.Outcome, t otelaudit.EventType, p Phase, failed bool, callOutcome otelaudit.Outcome) otelaudit.Outcome {
	if p != Start && explicit != "" {
		return explicit
	}
	if o := t.ImpliedOutcome(); o != "" {
		return o
	}
	switch {
	case p == Start:
		return ""
	case callOutcome != "":
		return callOutcome
	case failed:
		return otelaudit.Error
	}
	return otelaudit.Success
}

// str returns a string attribute's value, or the value's text for others.
func str(kv *attribute.KeyValue) string {
	if kv.Value.Type() == attribute.STRING {
		return kv.Value.AsString()
	}
	return kv.Value.Emit()
}

// consumed reports whether kv becomes a field of the event, and so is left
// out of its Attributes (see scan): audit.event.type, audit.human_origin.id,
// audit.action, audit.resource, and audit.outcome when it holds one of the
// four outcomes. Dropped by the Policy or not: a dropped one fills no field
// and is not kept either.
func consumed(kv *attribute.KeyValue) bool {
	switch kv.Key {
	case otelaudit.KeyEventType, otelaudit.KeyHumanOriginID, otelaudit.KeyAction, otelaudit.KeyResource:
		return true
	case otelaudit.KeyOutcome:
		_, ok := validOutcome(kv)
		return ok
	}
	return false
}

// keep returns attrs without the n attributes scan found consumed; attrs
// itself when nothing is left out, since the Generator copies what it
// stores anyway.
func keep(attrs []attribute.KeyValue, n int) []attribute.KeyValue {
	if n == 0 {
		return attrs
	}
	out := make([]attribute.KeyValue, 0, len(attrs)-n)
	for i := range attrs {
		if !consumed(&attrs[i]) {
			out = append(out, attrs[i])
		}
	}
	return out
}
