package otelaudit_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// jsonEvent is the JSON form of an Event, to read it back with
// encoding/json.
type jsonEvent struct {
	Seq           uint64          `json:"seq"`
	Type          string          `json:"type"`
	Time          string          `json:"time"`
	TraceID       string          `json:"trace_id,omitempty"`
	SpanID        string          `json:"span_id,omitempty"`
	ParentSpanID  string          `json:"parent_span_id,omitempty"`
	AgentID       string          `json:"agent_id,omitempty"`
	HumanOriginID string          `json:"human_origin_id,omitempty"`
	WorkflowID    string          `json:"workflow_id,omitempty"`
	NodeID        string          `json:"node_id,omitempty"`
	Action        string          `json:"action,omitempty"`
	Resource      string          `json:"resource,omitempty"`
	Outcome       string          `json:"outcome,omitempty"`
	DurationMS    float64         `json:"duration_ms"`
	Attributes    []jsonAttribute `json:"attributes,omitempty"`
	Hash          string          `json:"hash"`
	PrevHash      string          `json:"prev_hash"`
}

// jsonAttribute is one attribute in the JSON form.
type jsonAttribute struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

func TestEventJSON(t *testing.T) {
	e := otelaudit.Event{
		Seq: 7, Type: otelaudit.TrustDenied, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)),
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, AgentID: "a\xffb", Outcome: otelaudit.Denied,
		Duration: 1500 * time.Microsecond,
		Attributes: []attribute.KeyValue{
			attribute.String("approved_by", "alice"), attribute.String("approved_by", "mallory"),
			attribute.Int("n", 1), attribute.String("n", "1"), attribute.Float64("n", 1),
			attribute.Float64("nan", math.NaN()), attribute.Float64("inf", math.Inf(-1)), attribute.Float64("tiny", 1e-9),
			attribute.Bool("b", true), attribute.ByteSlice("by", []byte{0, 255}),
			attribute.StringSlice("ss", []string{"x", "<y>"}), attribute.Int64Slice("is", []int64{1, -2}),
			attribute.Float64Slice("fs", []float64{0.5, math.Inf(1)}), attribute.BoolSlice("bs", []bool{false}),
			attribute.Slice("sl", attribute.IntValue(1), attribute.StringValue("two")),
			attribute.Map("m", attribute.String("k", "v"), attribute.Int("k", 2)),
			{Key: "empty"},
		},
	}
	b := e.AppendJSON(nil)
	require.True(t, json.Valid(b), "%s", b)
	assert.JSONEq(t, `{"seq":7,"type":"trust_denied","time":"2026-01-02T02:04:05.000000006Z",
		"trace_id":"01000000000000000000000000000000","span_id":"0200000000000000",
		"agent_id":"a\udcffb","outcome":"denied","duration_ms":1.5,
		"attributes":[
			{"key":"approved_by","type":"string","value":"alice"},{"key":"approved_by","type":"string","value":"mallory"},
			{"key":"n","type":"int64","value":1},{"key":"n","type":"string","value":"1"},{"key":"n","type":"float64","value":1},
			{"key":"nan","type":"float64","value":"NaN"},{"key":"inf","type":"float64","value":"-Infinity"},{"key":"tiny","type":"float64","value":1e-9},
			{"key":"b","type":"bool","value":true},{"key":"by","type":"bytes","value":"AP8="},
			{"key":"ss","type":"string[]","value":["x","<y>"]},{"key":"is","type":"int64[]","value":[1,-2]},
			{"key":"fs","type":"float64[]","value":[0.5,"Infinity"]},{"key":"bs","type":"bool[]","value":[false]},
			{"key":"sl","type":"slice","value":[{"type":"int64","value":1},{"type":"string","value":"two"}]},
			{"key":"m","type":"map","value":[{"key":"k","type":"string","value":"v"},{"key":"k","type":"int64","value":2}]},
			{"key":"empty","type":"empty","value":null}],
		"hash":"0000000000000000000000000000000000000000000000000000000000000000",
		"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000"}`, string(b))
	assert.Contains(t, string(b), `"<y>"`, "terminals get < as it is")
	assert.Contains(t, string(e.AppendJSONHTML(nil)), `"\u003cy\u003e"`, "browsers get it escaped")
	var back jsonEvent
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Len(t, back.Attributes, len(e.Attributes))
}
