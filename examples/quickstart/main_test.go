package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstart runs the quickstart as the README does and checks what a
// newcomer is told: the trail of the trip-planner trace with its denial and
// failure, the stats, and one replayed span per event in that trace.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, "trip-planner", false))
	text := out.String()

	assert.Contains(t, text, `Audit trail of workflow "trip-planner"`)
	for _, want := range []string{"workflow_start", "node_start", "trust_verification", "resource_access", "node_end", "trust_denied", "node_error", "workflow_error"} {
		assert.Contains(t, text, want)
	}
	assert.Contains(t, text, "52 recorded, 52 held")
	assert.Contains(t, text, "0 evicted, 0 rejected")
	// Traces are sampled at 10%; the trail has every workflow whatever the
	// sampler kept.
	assert.Contains(t, text, "Audited: 4 of 4.")
	// The search tool's real otelhttp request is in the trail, with the
	// agent and user of its workflow, and its URL without the query.
	table, _, _ := strings.Cut(text, "Replaying")
	assert.Regexp(t, `resource_access +trip-planner-agent +alice +search +GET +http://flights\.example/api/search +success`, table)
	assert.NotContains(t, table, "passenger=alice")

	var spans, sameTrace int
	var traceID string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var s struct {
			Name        string
			SpanContext struct{ TraceID string }
		}
		require.NoError(t, json.Unmarshal([]byte(line), &s), line)
		assert.True(t, strings.HasPrefix(s.Name, "audit."), s.Name)
		if traceID == "" {
			traceID = s.SpanContext.TraceID
		}
		if s.SpanContext.TraceID == traceID {
			sameTrace++
		}
		spans++
	}
	assert.Equal(t, 18, spans, "one replayed span per event of the trace")
	assert.Equal(t, spans, sameTrace, "every replayed span keeps the trace ID")
	assert.Contains(t, text, "trace "+traceID)
}

// TestQuickstartLogs runs the quickstart with -logs: the trail of the
// shown trace is replayed as stdoutlog's log records instead of spans.
func TestQuickstartLogs(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, runWith(context.Background(), &out, options{workflow: "trip-planner", logs: true}))
	text := out.String()
	assert.Contains(t, text, "through stdoutlog, one log record per audit event")
	assert.NotContains(t, text, "stdouttrace")

	var traceID string
	severities := map[string]string{}
	records := 0
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r struct {
			EventName, SeverityText, TraceID, SpanID string
			Body                                     struct{ Value string }
		}
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		assert.True(t, strings.HasPrefix(r.EventName, "audit."), r.EventName)
		assert.NotEmpty(t, r.Body.Value)
		assert.Len(t, r.SpanID, 16)
		if traceID == "" {
			traceID = r.TraceID
		}
		assert.Equal(t, traceID, r.TraceID, "every record keeps the trace ID")
		severities[r.EventName] = r.SeverityText
		records++
	}
	assert.Equal(t, 18, records, "one record per event of the trace")
	assert.Equal(t, "INFO", severities["audit.workflow_start"])
	assert.Equal(t, "INFO", severities["audit.trust_verification"])
	assert.Equal(t, "WARN", severities["audit.trust_denied"])
	assert.Equal(t, "ERROR", severities["audit.node_error"])
	assert.Equal(t, "ERROR", severities["audit.workflow_error"])
	assert.Contains(t, text, "Replayed 18 log records named audit.<type>, each with the trace ID "+traceID)
}

func TestQuickstartUnknownWorkflow(t *testing.T) {
	err := run(&bytes.Buffer{}, "nope", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trip-planner")
}

// TestQuickstartServe runs the quickstart with -serve on a free port, checks
// that the printed URL serves the page and the shown trace, that the runtime
// keeps recording, and that cancelling the context shuts it down cleanly.
func TestQuickstartServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, out, "trip-planner", false, "127.0.0.1:0") }()

	var pageURL string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`(http://127\.0\.0\.1:\d+/)\?trace=([0-9a-f]{32})`).FindStringSubmatch(out.String())
		if m == nil {
			return false
		}
		pageURL = m[0]
		return true
	}, 10*time.Second, 20*time.Millisecond, "the URL of the page is printed")
	base, traceID, _ := strings.Cut(pageURL, "?trace=")

	resp, err := http.Get(pageURL)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))

	var trail struct {
		Total int `json:"total"`
	}
	getJSON(t, base+"api/trace/"+traceID, &trail)
	assert.Equal(t, 18, trail.Total, "the trace shown in the output")

	// The runtime keeps running: more events arrive each round.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		// assert, not require: a failed attempt is collected and retried
		// rather than ending the test from the polling goroutine.
		resp, err := http.Get(base + "api/stats")
		if !assert.NoError(c, err) {
			return
		}
		defer resp.Body.Close()
		var s struct {
			Recorded int `json:"recorded"`
		}
		if assert.Equal(c, http.StatusOK, resp.StatusCode) && assert.NoError(c, json.NewDecoder(resp.Body).Decode(&s)) {
			assert.Greater(c, s.Recorded, 52, "more events each round")
		}
	}, 10*time.Second, 100*time.Millisecond)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("no clean shutdown after the context was cancelled")
	}
	assert.Contains(t, out.String(), "Stopped serving.")
	_, err = http.Get(base)
	assert.Error(t, err, "the server is gone")
}

func TestQuickstartServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var out bytes.Buffer
	err = runServe(context.Background(), &out, "trip-planner", false, ln.Addr().String())
	require.Error(t, err)
	assert.Empty(t, out.String(), "fails before any output")
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// syncBuffer is written by the serving goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
