package auditz

import (
	"time"

	"github.com/otelaudit/otelaudit-go/internal/jsonattr"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// jsonEvent is the wire shape of an otelaudit.Event. IDs are lower-case hex
// as OTel writes them everywhere; a zero span or parent span ID is omitted
// rather than sent as zeros, so "no parent" is unambiguous.
type jsonEvent struct {
	Seq           uint64         `json:"seq"`
	Type          string         `json:"type"`
	Time          string         `json:"time"`
	TraceID       string         `json:"trace_id,omitempty"`
	SpanID        string         `json:"span_id,omitempty"`
	ParentSpanID  string         `json:"parent_span_id,omitempty"`
	AgentID       string         `json:"agent_id,omitempty"`
	HumanOriginID string         `json:"human_origin_id,omitempty"`
	WorkflowID    string         `json:"workflow_id,omitempty"`
	NodeID        string         `json:"node_id,omitempty"`
	Action        string         `json:"action,omitempty"`
	Resource      string         `json:"resource,omitempty"`
	Outcome       string         `json:"outcome,omitempty"`
	DurationMS    float64        `json:"duration_ms"`
	Attributes    map[string]any `json:"attributes,omitempty"`
}

func toJSONEvents(events []otelaudit.Event) []jsonEvent {
	out := make([]jsonEvent, len(events))
	for i := range events {
		out[i] = toJSONEvent(&events[i])
	}
	return out
}

func toJSONEvent(e *otelaudit.Event) jsonEvent {
	j := jsonEvent{
		Seq:           e.Seq,
		Type:          string(e.Type),
		Time:          e.Time.UTC().Format(time.RFC3339Nano),
		AgentID:       e.AgentID,
		HumanOriginID: e.HumanOriginID,
		WorkflowID:    e.WorkflowID,
		NodeID:        e.NodeID,
		Action:        e.Action,
		Resource:      e.Resource,
		Outcome:       string(e.Outcome),
		DurationMS:    float64(e.Duration) / float64(time.Millisecond),
	}
	if e.TraceID.IsValid() {
		j.TraceID = e.TraceID.String()
	}
	if e.SpanID.IsValid() {
		j.SpanID = e.SpanID.String()
	}
	if e.ParentSpanID.IsValid() {
		j.ParentSpanID = e.ParentSpanID.String()
	}
	if len(e.Attributes) > 0 {
		j.Attributes = jsonattr.Map(e.Attributes)
	}
	return j
}
