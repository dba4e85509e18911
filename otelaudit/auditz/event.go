package auditz

import (
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"

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
		j.Attributes = attrsValue(e.Attributes)
	}
	return j
}

func attrsValue(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		// OTel says the last value of a repeated key wins.
		m[string(kv.Key)] = jsonValue(kv.Value)
	}
	return m
}

// jsonValue turns an attribute value into something encoding/json writes
// faithfully. Floats JSON cannot hold (NaN, ±Inf) become the strings OTel's
// own Emit uses, because encoding/json would refuse the whole response.
// Byte slices become base64 strings, as encoding/json writes []byte.
func jsonValue(v attribute.Value) any {
	switch v.Type() {
	case attribute.FLOAT64:
		return jsonFloat(v.AsFloat64())
	case attribute.FLOAT64SLICE:
		fs := v.AsFloat64Slice()
		out := make([]any, len(fs))
		for i, f := range fs {
			out[i] = jsonFloat(f)
		}
		return out
	case attribute.SLICE:
		vs := v.AsSlice()
		out := make([]any, len(vs))
		for i, x := range vs {
			out[i] = jsonValue(x)
		}
		return out
	case attribute.MAP:
		return attrsValue(v.AsMap())
	case attribute.BOOL, attribute.INT64, attribute.STRING, attribute.BOOLSLICE,
		attribute.INT64SLICE, attribute.STRINGSLICE, attribute.BYTESLICE, attribute.EMPTY:
		return v.AsInterface()
	}
	// A kind newer than this code: OTel's own text form is still truthful.
	return v.Emit()
}

func jsonFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}
