package jsonform

import (
	"encoding/json"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func TestEventForm(t *testing.T) {
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
	b := AppendEvent(nil, &e)
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
	assert.Contains(t, string(AppendEventHTML(nil, &e)), `"\u003cy\u003e"`, "browsers get it escaped")
	var back Event
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Len(t, back.Attributes, len(e.Attributes))
}

// FuzzAppendString: every string gives valid JSON; valid UTF-8 reads back
// as itself; and two different byte strings never give the same JSON.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\xff", "\xfe", "\xed\xa0\x80", "é\u2028\"\\\x00<>&", "\U0001F600\xf0\x9f"} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ja, jb := AppendString(nil, a), AppendString(nil, b)
		if !json.Valid(ja) {
			t.Fatalf("invalid JSON for %q: %s", a, ja)
		}
		if a != b && string(ja) == string(jb) {
			t.Fatalf("%q and %q both give %s", a, b, ja)
		}
		if utf8.ValidString(a) {
			var back string
			if err := json.Unmarshal(ja, &back); err != nil || back != a {
				t.Fatalf("%q came back as %q (%v)", a, back, err)
			}
		}
		if h := AppendStringHTML(nil, a); !json.Valid(h) {
			t.Fatalf("invalid JSON for %q: %s", a, h)
		}
	})
}
