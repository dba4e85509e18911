package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func TestEvents(t *testing.T) {
	f := newFixture(t)
	all := func(int, otelaudit.Event) bool { return true }
	tests := []struct {
		name string
		args []string
		want []uint64
		more bool // a note says the limit cut the list
	}{
		{"default limit", nil, seqsWhere(all), false},
		{"newest 5", []string{"--limit", "5"}, []uint64{26, 27, 28, 29, 30}, true},
		{"limit 0 is all", []string{"--limit", "0"}, seqsWhere(all), false},
		{"limit equal to the matches", []string{"--limit", "30"}, seqsWhere(all), false},
		{"type", []string{"--type", "trust_denied"}, []uint64{4, 9, 14, 19, 24, 29}, false},
		{"agent", []string{"--agent", "executor"}, seqsWhere(func(i int, _ otelaudit.Event) bool { return i%2 == 1 }), false},
		{"agent, newest 2", []string{"--agent", "executor", "--limit", "2"}, []uint64{28, 30}, true},
		{"type and agent", []string{"--type", "node_end", "--agent", "planner"}, []uint64{7, 17, 27}, false},
		{"since and until as times", []string{"--since", "2026-03-01T03:00:10Z", "--until", "2026-03-01T03:00:15Z"}, []uint64{11, 12, 13, 14, 15}, false},
		{"since as a duration ago", []string{"--since", "1h", "--limit", "0"}, seqsWhere(all), false},
		{"until as a duration ago", []string{"--until", "59m50s"}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false},
		{"flags after nothing", []string{"--type", "node_start", "--limit", "1"}, []uint64{26}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"events", "--db", f.db}, tc.args...)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, tc.want, tableSeqs(t, r.stdout))
			if tc.more {
				assertOneErrorLine(t, r)
				assert.Contains(t, r.stderr, "there are more")
			} else {
				assert.Empty(t, r.stderr)
			}
		})
	}
}

func TestEventsJSON(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "events", "--db", f.db, "--json", "--agent", "planner", "--limit", "3")
	require.Equal(t, exitOK, r.code, r.stderr)
	objs := jsonLines(t, r.stdout)
	require.Len(t, objs, 3)
	for i, o := range objs {
		assert.EqualValues(t, 25+2*i, o["seq"], "oldest first")
		assert.Equal(t, "planner", o["agent_id"])
		assert.NotEmpty(t, o["trace_id"])
	}
}

func TestEventsNoneMatch(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"--type", "workflow_start"},
		{"--agent", "nobody"},
		{"--since", "50m"},
	} {
		r := runCLI(t, nil, append([]string{"events", "--db", f.db}, args...)...)
		assert.Equal(t, exitFail, r.code, "%q", args)
		assertOneErrorLine(t, r)
		assert.Contains(t, r.stderr, "no events match")
		assert.Empty(t, r.stdout)
	}
}
