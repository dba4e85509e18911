package evidence_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/evidence"
)

// hostileBundle is the JSON of a valid bundle of a small trail's trace,
// as a generic value to damage, and the key that verifies it.
func hostileBundle(t *testing.T) (map[string]any, ed25519.PublicKey) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	st := smallTrail(t, priv, 200, 50, -1)
	b, err := st.Evidence(trace.TraceID{3, 1})
	require.NoError(t, err)
	require.Greater(t, len(b.Events), 2)
	_, err = b.Verify(pub)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(mustJSON(t, b), &v))
	return v, pub
}

// deepPlaceholder stands for a JSON value nested too deep to marshal.
const deepPlaceholder = "<deep>"

func events(v map[string]any) []any { return v["events"].([]any) }
func event(v map[string]any, i int) map[string]any {
	return events(v)[i].(map[string]any)
}

// Bundles from someone who wants verify-proof to crash, to run out of
// memory, or to say OK: each is refused by Read or by Verify, with an
// error wrapping ErrInvalid (and, from Verify, an *Error naming the
// part), and nothing panics.
func TestHostileBundles(t *testing.T) {
	cases := []struct {
		name   string
		damage func(v map[string]any) any // the JSON value to read
		raw    string                     // or these bytes
		names  string                     // what Verify names; "" when Read refuses
	}{
		{name: "leaf index past uint64", raw: `{"format":"otelaudit.evidence.v1","events":[{"leaf_index":18446744073709551616}]}`},
		{name: "leaf index as a float", raw: `{"format":"otelaudit.evidence.v1","events":[{"leaf_index":1e30}]}`},
		{name: "proof index past int64", raw: `{"format":"otelaudit.evidence.v1","events":[{"proof":[9223372036854775808]}]}`},
		{name: "a hash of 31 bytes", raw: `{"events":[{"hash":"` + strings.Repeat("ab", 31) + `"}]}`},
		{name: "a hash not in hex", raw: `{"events":[{"prev_hash":"` + strings.Repeat("zz", 32) + `"}]}`},
		{name: "an unknown field", raw: `{"format":"otelaudit.evidence.v1","signed_by_the_ceo":true}`},
		{name: "not JSON", raw: "\x00\x01"},
		{name: "a second document after it", damage: func(v map[string]any) any { return v }, names: "trailing"},
		{name: "leaf index at the largest uint64", damage: func(v map[string]any) any {
			event(v, 1)["leaf_index"] = json.Number("18446744073709551615")
			return v
		}, names: "event seq "},
		{name: "a negative proof index", damage: func(v map[string]any) any {
			event(v, 0)["proof"].([]any)[0] = -1
			return v
		}, names: "event seq "},
		{name: "a proof index past the hashes", damage: func(v map[string]any) any {
			event(v, 0)["proof"].([]any)[0] = json.Number("9223372036854775807")
			return v
		}, names: "event seq "},
		{name: "a proof hash of 31 bytes", damage: func(v map[string]any) any {
			v["hashes"].([]any)[0] = "AAAA"
			return v
		}, names: "event seq "},
		{name: "a proof of a million hashes", damage: func(v map[string]any) any {
			p := make([]any, 1<<20)
			for i := range p {
				p[i] = 0
			}
			event(v, 0)["proof"] = p
			return v
		}, names: "event seq "},
		{name: "no proof", damage: func(v map[string]any) any {
			event(v, 1)["proof"] = []any{}
			return v
		}, names: "event seq "},
		{name: "two events' proofs swapped", damage: func(v map[string]any) any {
			a, b := event(v, 0), event(v, 1)
			a["proof"], b["proof"] = b["proof"], a["proof"]
			return v
		}, names: "event seq "},
		{name: "two events swapped", damage: func(v map[string]any) any {
			es := events(v)
			es[0], es[1] = es[1], es[0]
			return v
		}, names: "event seq "},
		{name: "an event twice", damage: func(v map[string]any) any {
			v["events"] = append(events(v), events(v)[0])
			return v
		}, names: "event seq "},
		{name: "no events", damage: func(v map[string]any) any {
			v["events"] = []any{}
			return v
		}, names: "bundle"},
		{name: "empty canonical bytes", damage: func(v map[string]any) any {
			event(v, 0)["canonical"] = ""
			return v
		}, names: "event 0"},
		{name: "the zero trace", damage: func(v map[string]any) any {
			v["trace_id"] = strings.Repeat("0", 32)
			return v
		}, names: "bundle"},
		{name: "a decoded form nested past the JSON decoder's depth", damage: func(v map[string]any) any {
			event(v, 0)["decoded"] = deepPlaceholder
			return v
		}, names: "event seq "},
		{name: "a checkpoint note of another size", damage: func(v map[string]any) any {
			v["checkpoint"] = strings.Replace(v["checkpoint"].(string), "\n200\n", "\n0200\n", 1)
			return v
		}, names: "checkpoint"},
	}
	base, pub := hostileBundle(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			if tc.damage != nil {
				var v map[string]any
				require.NoError(t, json.Unmarshal(mustJSON(t, base), &v))
				data = mustJSON(t, tc.damage(v))
				data = bytes.Replace(data, []byte(`"`+deepPlaceholder+`"`), []byte(strings.Repeat("[", 20000)+strings.Repeat("]", 20000)), 1)
				if tc.names == "trailing" {
					data = append(data, data...)
				}
			}
			b, err := evidence.Read(bytes.NewReader(data))
			if tc.names == "" || tc.names == "trailing" {
				require.Error(t, err, "Read took it")
				assert.ErrorIs(t, err, evidence.ErrInvalid)
				return
			}
			require.NoError(t, err)
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = b.Verify(pub)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			require.Error(t, err, "Verify took it")
			assert.ErrorIs(t, err, evidence.ErrInvalid)
			var ee *evidence.Error
			require.True(t, errors.As(err, &ee), "%v", err)
			assert.True(t, strings.HasPrefix(ee.What, tc.names), "names %q, want %q (%v)", ee.What, tc.names, err)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "Verify allocated more than the bundle is worth")
		})
	}

	var nilBundle *evidence.Bundle
	_, err := nilBundle.Verify(pub)
	assert.ErrorIs(t, err, evidence.ErrInvalid)
	var nilConsistency *evidence.Consistency
	_, _, err = nilConsistency.Verify(pub)
	assert.ErrorIs(t, err, evidence.ErrInvalid)
}
