// Package jsonform is the JSON form of audit events, shared by the auditz
// HTTP handler and the otelaudit CLI so that both speak the same JSON (one
// jq filter reads either).
package jsonform

import (
	"time"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Event is the JSON form of an otelaudit.Event. IDs and hashes are
// lower-case hex as OTel writes IDs everywhere; a zero trace, span or
// parent span ID is omitted rather than written as zeros, so "no parent"
// is unambiguous.
type Event struct {
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
	Hash          string         `json:"hash"`
	PrevHash      string         `json:"prev_hash"`
}

// FromEvent returns the JSON form of e.
func FromEvent(e *otelaudit.Event) Event {
	j := Event{
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
		Hash:          e.Hash.String(),
		PrevHash:      e.PrevHash.String(),
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
		j.Attributes = Map(e.Attributes)
	}
	return j
}
