package auditz

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// TestAnswerBytesAreCapped: however large the events and the limit, an
// answer holds at most WithMaxResponseBytes of JSON, stays valid JSON,
// and says it was capped.
func TestAnswerBytesAreCapped(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	// Control characters take six bytes each in JSON: the worst case.
	big := strings.Repeat("\x01", 60_000)
	for i := range 50 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, TraceID: traceA, AgentID: "a",
			Attributes: []attribute.KeyValue{attribute.String("blob", big), attribute.Int("i", i)}})
		require.NoError(t, err)
	}
	const maxBytes = 1 << 20
	h := NewHandler(g, WithMaxResponseBytes(maxBytes))
	for _, target := range []string{"/api/trace/" + traceA.String(), "/api/events?limit=1000", "/api/events?type=node_end&limit=1000"} {
		w := get(t, h, http.MethodGet, target)
		require.Equal(t, http.StatusOK, w.Code)
		assert.LessOrEqual(t, w.Body.Len(), maxBytes+200, target)
		var b struct {
			Events []map[string]any `json:"events"`
			Capped bool             `json:"capped"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b), target)
		assert.True(t, b.Capped, target)
		assert.NotEmpty(t, b.Events, target)
		assert.Less(t, len(b.Events), 50, target)
	}
	w := get(t, NewHandler(g), http.MethodGet, "/api/events?limit=2")
	assert.Contains(t, w.Body.String(), `"capped":false`)
}

// TestJSONKeepsEveryAttribute: duplicate keys are all there, in order,
// and byte strings that differ only in bytes that are not UTF-8 stay
// apart, in the fields and the attributes.
func TestJSONKeepsEveryAttribute(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	for _, agent := range []string{"agent-\xff", "agent-\xfe"} {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.TrustVerification, TraceID: traceA, AgentID: agent,
			Attributes: []attribute.KeyValue{
				attribute.String("approved_by", "alice"), attribute.String("approved_by", "mallory"),
				attribute.String("note", "x\xffy"), attribute.Int("n", 1), attribute.String("n", "1"),
			}})
		require.NoError(t, err)
	}
	w := get(t, NewHandler(g), http.MethodGet, "/api/trace/"+traceA.String())
	body := w.Body.String()
	assert.Contains(t, body, `"agent_id":"agent-\udcff"`)
	assert.Contains(t, body, `"agent_id":"agent-\udcfe"`)
	assert.Contains(t, body, `{"key":"approved_by","type":"string","value":"alice"},{"key":"approved_by","type":"string","value":"mallory"}`)
	assert.Contains(t, body, `{"key":"note","type":"string","value":"x\udcffy"}`)
	assert.Contains(t, body, `{"key":"n","type":"int64","value":1},{"key":"n","type":"string","value":"1"}`)
	assert.True(t, json.Valid(w.Body.Bytes()))
	b := decode[traceBody](t, w)
	require.Len(t, b.Events, 2)
	attrs := b.Events[0]["attributes"].([]any)
	assert.Len(t, attrs, 5)

	// The problems list speaks of agents the same way.
	p := get(t, NewHandler(g), http.MethodGet, "/api/events?agent="+"agent-%FF")
	assert.Contains(t, p.Body.String(), `agent-\udcff`)
	assert.NotContains(t, p.Body.String(), `agent-\udcfe`)
}

// TestEventsByUser: ?user= walks the index of users.
func TestEventsByUser(t *testing.T) {
	g := otelaudit.NewGenerator()
	for i := range 10 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, HumanOriginID: []string{"alice", "bob"}[i%2]})
		require.NoError(t, err)
	}
	b := decode[eventsBody](t, get(t, NewHandler(g), http.MethodGet, "/api/events?user=bob&limit=2"))
	assert.Equal(t, []uint64{8, 10}, seqs(b.Events))
	assert.True(t, b.More)
	assert.Equal(t, 3, b.Scanned, "two and the one that says there are more")
}

// TestFullTrailRequestsStayLight: on a full default trail (fullTrail), each
// request that walks an index (one of a type that is nine events in ten,
// the newest 100 of an agent that is half of them, the newest 1,000 of a
// user, the first 1,000 of a trace of some 10,000)
// grows the process's peak resident set by less than 64 MiB; decoding
// every event under the key, as a query without a limit would, takes more
// than that. Measured in a child process, whose peak
// (VmHWM) is reset before each request; without the race detector only
// (.ci/run runs it so).
func TestFullTrailRequestsStayLight(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("measures the resident set: run without -race and -short (.ci/run does)")
	}
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		t.Skip("needs Linux's /proc/self/clear_refs to reset the peak resident set")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFullTrailChild$", "-test.v")
	cmd.Env = append(os.Environ(), "OTELAUDIT_AUDITZ_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "held: ") {
			t.Log(line)
		}
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "rss: ")
		if !ok {
			continue
		}
		n++
		f := strings.Fields(rest)
		require.Len(t, f, 4, line)
		growth, err := strconv.ParseInt(f[1], 10, 64)
		require.NoError(t, err)
		t.Logf("%s: peak RSS grew by %.1f MiB, %s events, %s", f[0], float64(growth)/(1<<20), f[2], f[3])
		assert.Less(t, growth, int64(64<<20), f[0])
	}
	require.Equal(t, len(fullTrailRequests(trace.TraceID{})), n, "%s", out)
}

// TestFullTrailChild is the child process of TestFullTrailRequestsStayLight.
func TestFullTrailChild(t *testing.T) {
	if os.Getenv("OTELAUDIT_AUDITZ_CHILD") == "" {
		t.Skip("the child process of TestFullTrailRequestsStayLight")
	}
	g, big := fullTrail(t)
	h := NewHandler(g)
	for _, target := range fullTrailRequests(big) {
		// Each request measured alone: the heap an earlier one grew is
		// given back first.
		debug.FreeOSMemory()
		before := rss(t, "VmRSS:")
		require.NoError(t, os.WriteFile("/proc/self/clear_refs", []byte("5"), 0))
		start := time.Now()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		took := time.Since(start)
		require.Equal(t, http.StatusOK, w.Code)
		var b struct {
			Events []json.RawMessage `json:"events"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
		fmt.Printf("rss: %s %d %d %s\n", target, rss(t, "VmHWM:")-before, len(b.Events), took)
		if strings.HasPrefix(target, "/api/trace/") {
			fmt.Printf("held: %d events, %d bytes; the trace %d events\n", g.Stats().Len, g.Stats().Bytes, len(g.EventsByTrace(big)))
		}
	}
}

func rss(t *testing.T, field string) int64 {
	f, err := os.Open("/proc/self/status")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// TestHostileParams: whatever the parameters, an answer is a 200 with
// valid JSON or a 400 that says why, never a panic; the zero time
// (0001-01-01T00:00:00Z), which every query takes for "no bound", is
// refused rather than answered with every event as "until year 1".
func TestHostileParams(t *testing.T) {
	g := otelaudit.NewGenerator()
	for i := range 5 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, TraceID: traceA, AgentID: "a\xff",
			Time: time.Date(2026, 1, 2, 0, 0, i, 0, time.UTC)})
		require.NoError(t, err)
	}
	h := NewHandler(g)
	for _, tt := range []struct {
		target string
		code   int
		n      int
	}{
		{"/api/events?agent=a%FF", 200, 5},
		{"/api/events?agent=a%EF%BF%BD", 200, 0}, // U+FFFD is not the byte 0xff
		{"/api/events?type=%00&limit=1", 200, 0},
		{"/api/events?limit=99999999999999999999999", 200, 5},
		{"/api/events?limit=-99999999999999999999999", 400, 0},
		{"/api/events?limit=0x10", 400, 0},
		{"/api/events?since=%FF", 400, 0},
		{"/api/events?until=0001-01-01T00:00:00Z", 400, 0},
		{"/api/events?since=0001-01-01T00:00:00Z", 400, 0},
		{"/api/events?until=0001-01-01T01:00:00%2B01:00", 400, 0}, // the same instant
		{"/api/events?until=0001-01-01T00:00:00.000000001Z", 200, 0},
		{"/api/events?since=9999-12-31T23:59:59.999999999Z", 200, 0},
		{"/api/events?until=2026-01-02T00:00:02Z&since=2026-01-02T00:00:02Z", 400, 0},
		{"/api/events?until=2026-01-02T00:00:02Z&agent=a%FF", 200, 2},
		{"/api/trace/" + traceA.String() + "?limit=99999999999999999999999", 200, 5},
		{"/api/trace/" + strings.ToUpper(traceA.String()) + "%FF", 400, 0},
	} {
		w := get(t, h, http.MethodGet, tt.target)
		require.Equal(t, tt.code, w.Code, "%s: %s", tt.target, w.Body.String())
		var b struct {
			Events []map[string]any `json:"events"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b), tt.target)
		assert.Len(t, b.Events, tt.n, tt.target)
	}
}

// TestCappedEventsKeepTheNewest: /api/events answers the newest events;
// when the byte cap stops it short of the limit, what it leaves out are
// the older of them, so the newest event is always there, and the events
// shown are the newest that fit, in order. /api/trace, read from its
// start, keeps the oldest.
func TestCappedEventsKeepTheNewest(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	big := strings.Repeat("x", 30_000)
	for i := range 40 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, TraceID: traceA, AgentID: "a",
			Attributes: []attribute.KeyValue{attribute.String("blob", big), attribute.Int("i", i)}})
		require.NoError(t, err)
	}
	const maxBytes = 256 << 10
	h := NewHandler(g, WithMaxResponseBytes(maxBytes))
	seqs := func(target string) []uint64 {
		w := get(t, h, http.MethodGet, target)
		require.Equal(t, http.StatusOK, w.Code)
		assert.LessOrEqual(t, w.Body.Len(), maxBytes+200, target)
		var b struct {
			Events []struct {
				Seq uint64 `json:"seq"`
			} `json:"events"`
			Capped bool `json:"capped"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b), target)
		require.True(t, b.Capped, target)
		var out []uint64
		for _, e := range b.Events {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, target := range []string{"/api/events?limit=1000", "/api/events?type=node_end&limit=1000", "/api/events?agent=a&outcome=none&limit=1000"} {
		got := seqs(target)
		require.NotEmpty(t, got, target)
		assert.Equal(t, uint64(40), got[len(got)-1], "%s: the newest event is there", target)
		for i := range got {
			assert.Equal(t, uint64(40-len(got)+1+i), got[i], "%s: the newest that fit, oldest first", target)
		}
	}
	got := seqs("/api/trace/" + traceA.String())
	require.NotEmpty(t, got)
	assert.Equal(t, uint64(1), got[0], "a trace keeps its start")
}
