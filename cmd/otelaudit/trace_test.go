package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func TestTraceTable(t *testing.T) {
	f := newFixture(t)
	for k, id := range fixtureTraces {
		want := seqsWhere(func(i int, _ otelaudit.Event) bool { return i%3 == k })
		for _, args := range [][]string{
			{"trace", id.String(), "--db", f.db},
			{"trace", "--db", f.db, id.String()},
			{"trace", "--db=" + f.db, strings.ToUpper(id.String())},
		} {
			r := runCLI(t, nil, args...)
			require.Equal(t, exitOK, r.code, "%q: %s", args, r.stderr)
			assert.Empty(t, r.stderr)
			assert.Equal(t, want, tableSeqs(t, r.stdout), "%q: the trace's events, in Seq order", args)
		}
	}

	r := runCLI(t, nil, "trace", fixtureTraces[0].String(), "--db", f.db)
	lines := strings.Split(r.stdout, "\n")
	assert.Regexp(t, `^SEQ +TIME +TYPE +OUTCOME +AGENT +NODE/ACTION +RESOURCE +DURATION$`, lines[0])
	// Event 0: node_start, no outcome, no duration.
	assert.Regexp(t, `^1 +2026-03-01T03:00:00\.000Z +node_start +- +planner +node-0/fetch +https://api\.example\.com/orders/0 +-$`, lines[1])
	// Event 6 (seq 7): node_end, success, 1.5ms.
	assert.Regexp(t, `^7 +2026-03-01T03:00:06\.000Z +node_end +success +planner +node-2/fetch +\S+/orders/6 +1\.5ms$`, lines[3])
	// Columns line up: every row's TIME starts where the header's does.
	col := strings.Index(lines[0], "TIME")
	for _, l := range lines[1 : len(lines)-1] {
		assert.Regexp(t, regexp.MustCompile(`^\d+ +$`), l[:col], "row %q", l)
	}
}

func TestTraceJSON(t *testing.T) {
	f := newFixture(t)
	id := fixtureTraces[1]
	r := runCLI(t, nil, "trace", "--json", id.String(), "--db", f.db)
	require.Equal(t, exitOK, r.code, r.stderr)
	objs := jsonLines(t, r.stdout)
	want := seqsWhere(func(i int, _ otelaudit.Event) bool { return i%3 == 1 })
	require.Len(t, objs, len(want))
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for i, o := range objs {
		assert.Equal(t, id.String(), o["trace_id"])
		assert.EqualValues(t, want[i], o["seq"])
		e := fixtureEvent(int(want[i]) - 1)
		assert.Equal(t, string(e.Type), o["type"])
		assert.Equal(t, e.Time.Format("2006-01-02T15:04:05Z07:00"), o["time"])
		assert.Equal(t, e.SpanID.String(), o["span_id"])
		assert.Equal(t, e.AgentID, o["agent_id"])
		assert.Equal(t, e.WorkflowID, o["workflow_id"])
		assert.Equal(t, e.NodeID, o["node_id"])
		assert.Equal(t, e.Action, o["action"])
		assert.Equal(t, e.Resource, o["resource"])
		assert.EqualValues(t, float64(e.Duration)/1e6, o["duration_ms"])
		assert.Equal(t, []any{
			map[string]any{"key": "i", "type": "int64", "value": float64(want[i] - 1)},
			map[string]any{"key": "tool", "type": "string", "value": "http"},
		}, o["attributes"])
		assert.Regexp(t, hex64, o["hash"])
		assert.Regexp(t, hex64, o["prev_hash"])
		assert.NotContains(t, o, "parent_span_id", "a zero parent is left out")
	}
}

func TestTraceNotFound(t *testing.T) {
	f := newFixture(t)
	id := "0123456789abcdef0123456789abcdef"
	r := runCLI(t, nil, "trace", id, "--db", f.db)
	assert.Equal(t, exitFail, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "no events of trace "+id)
	assert.Empty(t, r.stdout)
}

func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "-"},
		{"plain", "plain"},
		{"tab\there", `"tab\there"`},
		{"new\nline", `"new\nline"`},
		{"\x1b[31mred", `"\x1b[31mred"`},
		{"ünïcode", "ünïcode"},
		{strings.Repeat("x", 100), strings.Repeat("x", maxCell-1) + "…"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, cell(tc.in), "%q", tc.in)
	}
}
