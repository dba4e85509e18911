package auditz

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
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

var (
	traceA = trace.TraceID{0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	traceB = trace.TraceID{0xb2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	traceC = trace.TraceID{0xc3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	t0     = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
)

const (
	hostileScript = `<script>alert(1)</script>`
	hostileImg    = `"><img src=x onerror=alert(1)>`
)

// fixture records three traces: A is a workflow with a denial, B a clean
// one, C a failing tool. Times are one second apart, in Seq order.
func fixture(t testing.TB) *otelaudit.Generator {
	t.Helper()
	// Every attribute kept: the hostile values are what these tests send.
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	wf, node := trace.SpanID{1}, trace.SpanID{2}
	events := []otelaudit.Event{
		{Type: otelaudit.WorkflowStart, TraceID: traceA, SpanID: wf, AgentID: "planner", WorkflowID: "trip"},
		{Type: otelaudit.NodeStart, TraceID: traceA, SpanID: node, ParentSpanID: wf, AgentID: "planner", NodeID: "pay"},
		{Type: otelaudit.WorkflowStart, TraceID: traceB, SpanID: wf, AgentID: "triage", WorkflowID: "support"},
		{Type: otelaudit.TrustDenied, TraceID: traceA, SpanID: node, ParentSpanID: wf, AgentID: "planner", NodeID: "pay",
			Outcome: otelaudit.Denied, Attributes: []attribute.KeyValue{
				attribute.String("policy", hostileScript),
				attribute.String("note", hostileImg),
				attribute.Int64("amount", 42),
				attribute.Float64("nan", math.NaN()),
				attribute.StringSlice("tags", []string{"a", hostileScript}),
			}},
		{Type: otelaudit.NodeError, TraceID: traceA, SpanID: node, ParentSpanID: wf, AgentID: "planner", NodeID: "pay",
			Outcome: otelaudit.Error, Duration: 1500 * time.Microsecond},
		{Type: otelaudit.WorkflowEnd, TraceID: traceB, SpanID: wf, AgentID: "triage", WorkflowID: "support", Outcome: otelaudit.Success},
		{Type: otelaudit.ResourceAccess, TraceID: traceC, SpanID: node, AgentID: "expense", Outcome: otelaudit.Failure},
		{Type: otelaudit.WorkflowError, TraceID: traceA, SpanID: wf, AgentID: "planner", WorkflowID: "trip", Outcome: otelaudit.Error},
	}
	for i, e := range events {
		e.Time = t0.Add(time.Duration(i) * time.Second)
		_, err := g.Record(context.Background(), e)
		require.NoError(t, err)
	}
	return g
}

// get serves one request and returns the recorder; it checks what every
// response must carry.
func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	require.NotPanics(t, func() { h.ServeHTTP(w, httptest.NewRequest(method, target, nil)) })
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), target)
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'self'", target)
	assert.NotEmpty(t, w.Header().Get("Content-Type"), target)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	var v T
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v), w.Body.String())
	return v
}

type traceBody struct {
	TraceID   string           `json:"trace_id"`
	Total     int              `json:"total"`
	Truncated bool             `json:"truncated"`
	Events    []map[string]any `json:"events"`
}

// attrMap reads the attribute list of an event's JSON form into a map,
// checking that each has a key, a type and a value.
func attrMap(t *testing.T, e map[string]any) map[string]any {
	t.Helper()
	m := map[string]any{}
	for _, a := range e["attributes"].([]any) {
		kv := a.(map[string]any)
		require.Contains(t, kv, "type")
		require.Contains(t, kv, "value")
		m[kv["key"].(string)] = kv["value"]
	}
	return m
}

func seqs(events []map[string]any) []uint64 {
	out := make([]uint64, len(events))
	for i, e := range events {
		out[i] = uint64(e["seq"].(float64))
	}
	return out
}

func TestTrace(t *testing.T) {
	h := NewHandler(fixture(t))
	w := get(t, h, http.MethodGet, "/api/trace/"+traceA.String())
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	b := decode[traceBody](t, w)
	assert.Equal(t, traceA.String(), b.TraceID)
	assert.Equal(t, 5, b.Total)
	assert.False(t, b.Truncated)
	assert.Equal(t, []uint64{1, 2, 4, 5, 8}, seqs(b.Events), "oldest first")

	first := b.Events[0]
	assert.Equal(t, "workflow_start", first["type"])
	assert.Equal(t, "2026-01-02T15:04:05Z", first["time"])
	assert.Equal(t, traceA.String(), first["trace_id"])
	assert.Equal(t, trace.SpanID{1}.String(), first["span_id"])
	assert.NotContains(t, first, "parent_span_id", "a root has no parent")
	assert.Equal(t, "planner", first["agent_id"])
	assert.Equal(t, "trip", first["workflow_id"])

	denied := b.Events[2]
	assert.Equal(t, trace.SpanID{1}.String(), denied["parent_span_id"])
	assert.Equal(t, "denied", denied["outcome"])
	attrs := attrMap(t, denied)
	assert.Equal(t, hostileScript, attrs["policy"], "values come back intact")
	assert.Equal(t, float64(42), attrs["amount"])
	assert.Equal(t, "NaN", attrs["nan"], "a float JSON cannot hold becomes a string, not a failed response")
	assert.Equal(t, []any{"a", hostileScript}, attrs["tags"])
	assert.InDelta(t, 1.5, b.Events[3]["duration_ms"], 1e-9)

	// Upper case is accepted: IDs get pasted from tools that print it.
	w = get(t, h, http.MethodGet, "/api/trace/"+strings.ToUpper(traceA.String()))
	assert.Equal(t, http.StatusOK, w.Code)

	// A well-formed ID with no events is an empty trail, not an error.
	w = get(t, h, http.MethodGet, "/api/trace/"+trace.TraceID{9}.String())
	require.Equal(t, http.StatusOK, w.Code)
	b = decode[traceBody](t, w)
	assert.Equal(t, 0, b.Total)
	assert.Empty(t, b.Events)
}

func TestTraceLimit(t *testing.T) {
	g := fixture(t)
	h := NewHandler(g, WithMaxLimit(3))
	b := decode[traceBody](t, get(t, h, http.MethodGet, "/api/trace/"+traceA.String()))
	assert.Equal(t, 5, b.Total)
	assert.True(t, b.Truncated)
	assert.Equal(t, []uint64{1, 2, 4}, seqs(b.Events), "the oldest are kept")

	b = decode[traceBody](t, get(t, h, http.MethodGet, "/api/trace/"+traceA.String()+"?limit=2"))
	assert.Equal(t, []uint64{1, 2}, seqs(b.Events))
	b = decode[traceBody](t, get(t, h, http.MethodGet, "/api/trace/"+traceA.String()+"?limit=99"))
	assert.Len(t, b.Events, 3, "never above the max limit")
}

type eventsBody struct {
	Events  []map[string]any `json:"events"`
	Limit   int              `json:"limit"`
	Scanned int              `json:"scanned"`
	More    bool             `json:"more"`
}

func TestEvents(t *testing.T) {
	h := NewHandler(fixture(t))
	tests := []struct {
		query string
		want  []uint64
		more  bool
	}{
		{"", []uint64{1, 2, 3, 4, 5, 6, 7, 8}, false},
		{"?limit=3", []uint64{6, 7, 8}, true},
		{"?type=workflow_start", []uint64{1, 3}, false},
		{"?type=workflow_start&agent=triage", []uint64{3}, false},
		{"?agent=planner", []uint64{1, 2, 4, 5, 8}, false},
		{"?agent=planner&limit=2", []uint64{5, 8}, true},
		{"?outcome=error", []uint64{5, 8}, false},
		{"?outcome=none", []uint64{1, 2, 3}, false},
		{"?since=2026-01-02T15:04:07Z&until=2026-01-02T15:04:09Z", []uint64{3, 4}, false}, // until is exclusive
		{"?since=2026-01-02T15:04:07Z&until=2026-01-02T15:04:09.000000001Z", []uint64{3, 4, 5}, false},
		{"?user=nobody", []uint64{}, false},
		{"?since=2026-01-02T16:04:07%2B01:00&outcome=denied", []uint64{4}, false},
		{"?type=custom_type", []uint64{}, false},
		{"?agent=nobody", []uint64{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			w := get(t, h, http.MethodGet, "/api/events"+tt.query)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			b := decode[eventsBody](t, w)
			assert.Equal(t, tt.want, seqs(b.Events))
			assert.Equal(t, tt.more, b.More)
			assert.NotNil(t, b.Events, "an empty list, not null")
		})
	}
}

func TestEventsBounded(t *testing.T) {
	g := otelaudit.NewGenerator()
	for i := range 50 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, TraceID: traceA, Time: t0.Add(time.Duration(i))})
		require.NoError(t, err)
	}
	h := NewHandler(g, WithMaxLimit(10), WithScanWindow(20))
	b := decode[eventsBody](t, get(t, h, http.MethodGet, "/api/events?limit=1000"))
	assert.Equal(t, 10, b.Limit)
	assert.Len(t, b.Events, 10)
	assert.Equal(t, uint64(50), seqs(b.Events)[9])
	assert.True(t, b.More)
	assert.Equal(t, 11, b.Scanned, "no filter: the newest limit+1 events only, not the scan window")
	b = decode[eventsBody](t, get(t, NewHandler(g), http.MethodGet, "/api/events?limit=50"))
	assert.Len(t, b.Events, 50)
	assert.False(t, b.More, "all held events fit")

	// A filter without an index looks at the scan window only.
	b = decode[eventsBody](t, get(t, h, http.MethodGet, "/api/events?outcome=none&limit=10&since=2000-01-01T00:00:00Z"))
	assert.LessOrEqual(t, b.Scanned, 20)
	b = decode[eventsBody](t, get(t, h, http.MethodGet, "/api/events?until=2000-01-01T00:00:00Z"))
	assert.Equal(t, 20, b.Scanned)
	assert.Empty(t, b.Events)

	// Default limit.
	h = NewHandler(g)
	b = decode[eventsBody](t, get(t, h, http.MethodGet, "/api/events"))
	assert.Equal(t, DefaultLimit, b.Limit)
}

type problemsBody struct {
	Problems []struct {
		TraceID    string `json:"trace_id"`
		WorkflowID string `json:"workflow_id"`
		AgentID    string `json:"agent_id"`
		Events     int    `json:"events"`
		Problems   int    `json:"problems"`
		Errors     int    `json:"errors"`
		Failures   int    `json:"failures"`
		Denials    int    `json:"denials"`
		LastType   string `json:"last_type"`
		LastTime   string `json:"last_time"`
	} `json:"problems"`
	Limit   int  `json:"limit"`
	Scanned int  `json:"scanned"`
	More    bool `json:"more"`
}

func TestProblems(t *testing.T) {
	h := NewHandler(fixture(t))
	w := get(t, h, http.MethodGet, "/api/problems")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	b := decode[problemsBody](t, w)
	require.Len(t, b.Problems, 2, "trace B has no problem")
	a, c := b.Problems[0], b.Problems[1]
	assert.Equal(t, traceA.String(), a.TraceID, "newest problem first")
	assert.Equal(t, "trip", a.WorkflowID)
	assert.Equal(t, "planner", a.AgentID)
	assert.Equal(t, 5, a.Events)
	assert.Equal(t, 3, a.Problems)
	assert.Equal(t, 1, a.Denials)
	assert.Equal(t, 2, a.Errors)
	assert.Equal(t, "workflow_error", a.LastType)
	assert.Equal(t, "2026-01-02T15:04:12Z", a.LastTime)
	assert.Equal(t, traceC.String(), c.TraceID)
	assert.Equal(t, 1, c.Failures)
	assert.Equal(t, 8, b.Scanned)

	b = decode[problemsBody](t, get(t, h, http.MethodGet, "/api/problems?limit=1"))
	require.Len(t, b.Problems, 1)
	assert.True(t, b.More)

	b = decode[problemsBody](t, get(t, NewHandler(otelaudit.NewGenerator()), http.MethodGet, "/api/problems"))
	assert.NotNil(t, b.Problems)
	assert.Empty(t, b.Problems)
}

func TestStats(t *testing.T) {
	g := fixture(t)
	_, err := g.Record(context.Background(), otelaudit.Event{})
	require.Error(t, err)
	w := get(t, NewHandler(g), http.MethodGet, "/api/stats")
	require.Equal(t, http.StatusOK, w.Code)
	s := decode[map[string]float64](t, w)
	st := g.Stats()
	assert.Positive(t, st.Bytes)
	assert.Equal(t, map[string]float64{
		"recorded": 8, "evicted": 0, "rejected": 1, "cleared": 0, "len": 8,
		"capacity": otelaudit.DefaultCapacity, "last_seq": 8, "durable": 0, "store_errors": 0,
		"truncated": 0, "untracked": 0, "bytes": float64(st.Bytes), "max_bytes": otelaudit.DefaultMaxBytes,
		"evicted_for_bytes": 0, "cut": 0, "redacted": 0,
	}, s)
}

func TestBadInput(t *testing.T) {
	h := NewHandler(fixture(t))
	tests := []struct {
		name, method, target string
		status               int
		want                 error
	}{
		{"short trace ID", "GET", "/api/trace/abc", 400, ErrBadRequest},
		{"non-hex trace ID", "GET", "/api/trace/" + strings.Repeat("z", 32), 400, ErrBadRequest},
		{"zero trace ID", "GET", "/api/trace/" + strings.Repeat("0", 32), 400, ErrBadRequest},
		{"hostile trace ID", "GET", "/api/trace/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 400, ErrBadRequest},
		{"trace limit", "GET", "/api/trace/" + traceA.String() + "?limit=x", 400, ErrBadRequest},
		{"limit text", "GET", "/api/events?limit=ten", 400, ErrBadRequest},
		{"limit zero", "GET", "/api/events?limit=0", 400, ErrBadRequest},
		{"limit negative", "GET", "/api/problems?limit=-5", 400, ErrBadRequest},
		{"limit negative overflow", "GET", "/api/events?limit=-99999999999999999999999", 400, ErrBadRequest},
		{"bad since", "GET", "/api/events?since=yesterday", 400, ErrBadRequest},
		{"bad until", "GET", "/api/events?until=2026-13-01T00:00:00Z", 400, ErrBadRequest},
		{"until before since", "GET", "/api/events?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", 400, ErrBadRequest},
		{"bad outcome", "GET", "/api/events?outcome=maybe", 400, ErrBadRequest},
		{"POST", "POST", "/api/events", 405, ErrMethod},
		{"DELETE", "DELETE", "/api/trace/" + traceA.String(), 405, ErrMethod},
		{"PUT page", "PUT", "/", 405, ErrMethod},
		{"unknown path", "GET", "/api/nope", 404, ErrNotFound},
		{"unknown static", "GET", "/static/nope.js", 404, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(t, h, tt.method, tt.target)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			b := decode[errorBody](t, w)
			assert.Contains(t, b.Error, tt.want.Error())
			assert.NotContains(t, w.Body.String(), "<script>", "echoed input is escaped")
		})
	}
	w := get(t, h, "POST", "/api/stats")
	assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"))

	// A path that climbs out of static/ is refused before any file is
	// looked up (not redirected: see TestStripPrefix): the embedded files
	// are all that can be served.
	w = get(t, h, "GET", "/static/../handler.go")
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Empty(t, w.Header().Get("Location"))
	assert.Equal(t, http.StatusNotFound, get(t, h, "GET", "/handler.go").Code)
}

// TestStripPrefix mounts the handler as the package documentation says and
// checks that the page and its files are served under the prefix, and that
// no answer redirects out of the mount point: the paths the inner mux would
// redirect (/static, unclean paths) are 404s.
func TestStripPrefix(t *testing.T) {
	// The handler as mounted; called directly, because an outer ServeMux
	// would clean (and redirect, prefix kept) the unclean paths itself.
	mounted := http.StripPrefix("/debug/audit", NewHandler(fixture(t)))
	for _, tt := range []struct {
		target string
		status int
	}{
		{"/debug/audit/", http.StatusOK},
		{"/debug/audit/?trace=" + traceA.String(), http.StatusOK},
		{"/debug/audit/static/app.js", http.StatusOK},
		{"/debug/audit/static/style.css", http.StatusOK},
		{"/debug/audit/api/stats", http.StatusOK},
		{"/debug/audit/static", http.StatusNotFound},
		{"/debug/audit/static/", http.StatusNotFound},
		{"/debug/audit/static/index.html", http.StatusNotFound},
		{"/debug/audit/api/trace/", http.StatusNotFound},
		{"/debug/audit/static/../api/stats", http.StatusNotFound},
		{"/debug/audit//api/stats", http.StatusNotFound},
		{"/debug/audit/./static/app.js", http.StatusNotFound},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = tt.target[:strings.IndexByte(tt.target+"?", '?')]
		w := httptest.NewRecorder()
		mounted.ServeHTTP(w, r)
		assert.Equal(t, tt.status, w.Code, tt.target)
		if loc := w.Header().Get("Location"); loc != "" {
			assert.True(t, strings.HasPrefix(loc, "/debug/audit/"), "%s redirects out of the mount to %s", tt.target, loc)
		}
	}
}

func TestNilGenerator(t *testing.T) {
	h := NewHandler(nil)
	for _, p := range []string{"/api/trace/" + traceA.String(), "/api/events", "/api/problems", "/api/stats"} {
		w := get(t, h, http.MethodGet, p)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, p)
		assert.Contains(t, decode[errorBody](t, w).Error, ErrNoGenerator.Error())
	}
	assert.Equal(t, http.StatusOK, get(t, h, http.MethodGet, "/").Code, "the page still loads and says what is wrong")
}

func TestAuth(t *testing.T) {
	var asked int
	h := NewHandler(fixture(t), WithAuth(func(r *http.Request) bool {
		asked++
		return r.Header.Get("Authorization") == "Bearer s3cret"
	}))
	for _, p := range []string{"/", "/static/app.js", "/api/stats", "/api/trace/" + traceA.String(), "/api/events", "/api/problems"} {
		w := get(t, h, http.MethodGet, p)
		assert.Equal(t, http.StatusForbidden, w.Code, p)
		assert.Contains(t, decode[errorBody](t, w).Error, ErrForbidden.Error())
		assert.NotContains(t, w.Body.String(), "planner", "nothing of the trail leaks")

		r := httptest.NewRequest(http.MethodGet, p, nil)
		r.Header.Set("Authorization", "Bearer s3cret")
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusOK, w.Code, p)
	}
	assert.Equal(t, 12, asked, "asked about every request")

	// Method is refused before auth is asked: a write is never allowed.
	asked = 0
	assert.Equal(t, http.StatusMethodNotAllowed, get(t, h, http.MethodPost, "/api/stats").Code)
	assert.Zero(t, asked)

	// A nil hook allows everything.
	assert.Equal(t, http.StatusOK, get(t, NewHandler(fixture(t), WithAuth(nil)), http.MethodGet, "/api/stats").Code)
}

func TestHead(t *testing.T) {
	h := httptest.NewServer(NewHandler(fixture(t)))
	defer h.Close()
	for _, p := range []string{"/", "/static/app.js", "/static/style.css", "/api/stats"} {
		resp, err := http.Head(h.URL + p)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
		if p == "/api/stats" {
			continue
		}
		// The page and its files tell their length on HEAD too.
		get, err := http.Get(h.URL + p)
		require.NoError(t, err)
		body, err := io.ReadAll(get.Body)
		_ = get.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, int64(len(body)), resp.ContentLength, p)
		assert.Equal(t, strconv.Itoa(len(body)), resp.Header.Get("Content-Length"), p)
	}
}

// TestLimitOverflow checks that a limit too large for an int is lowered to
// the max limit, as every large limit is, rather than refused.
func TestLimitOverflow(t *testing.T) {
	h := NewHandler(fixture(t), WithMaxLimit(3))
	const huge = "99999999999999999999999"
	w := get(t, h, http.MethodGet, "/api/events?limit="+huge)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	b := decode[eventsBody](t, w)
	assert.Equal(t, 3, b.Limit)
	assert.Len(t, b.Events, 3)
	w = get(t, h, http.MethodGet, "/api/trace/"+traceA.String()+"?limit="+huge)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, decode[traceBody](t, w).Events, 3)
	w = get(t, h, http.MethodGet, "/api/problems?limit="+huge)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

func TestPage(t *testing.T) {
	h := NewHandler(fixture(t))
	w := get(t, h, http.MethodGet, "/?trace="+traceA.String())
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	page := w.Body.String()
	for _, want := range []string{`role="search"`, `<label for="trace">`, `id="timeline"`, `id="problems"`, `id="stats"`, `src="static/app.js"`, `href="static/style.css"`} {
		assert.Contains(t, page, want)
	}
	// Everything the page loads is served, with the type nosniff needs.
	for p, ct := range map[string]string{"/static/app.js": "text/javascript; charset=utf-8", "/static/style.css": "text/css; charset=utf-8"} {
		w := get(t, h, http.MethodGet, p)
		require.Equal(t, http.StatusOK, w.Code, p)
		assert.Equal(t, ct, w.Header().Get("Content-Type"), p)
	}
	// Nothing is fetched from elsewhere, and the script never parses data
	// as HTML.
	for _, name := range []string{"static/index.html", "static/app.js", "static/style.css"} {
		b, err := staticFiles.ReadFile(name)
		require.NoError(t, err)
		assert.NotRegexp(t, `(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`, string(b), name)
		assert.NotContains(t, string(b), "innerHTML", name)
		assert.NotContains(t, string(b), "outerHTML", name)
		assert.NotContains(t, string(b), "insertAdjacentHTML", name)
		assert.NotContains(t, string(b), "document.write", name)
	}
}

// TestHostileValues checks that attribute values built to break out of
// HTML come back JSON-escaped from every endpoint that carries them, and
// appear in no HTML response at all.
func TestHostileValues(t *testing.T) {
	g := fixture(t)
	_, err := g.Record(context.Background(), otelaudit.Event{
		Type: otelaudit.EventType(hostileScript), TraceID: traceA, AgentID: hostileImg, Outcome: otelaudit.Error,
		WorkflowID: hostileScript, Action: hostileImg, Resource: hostileScript,
	})
	require.NoError(t, err)
	h := NewHandler(g)
	for _, p := range []string{
		"/api/trace/" + traceA.String(), "/api/events", "/api/problems",
		"/api/events?agent=" + strings.ReplaceAll(hostileImg, " ", "%20"),
	} {
		w := get(t, h, http.MethodGet, p)
		require.Equal(t, http.StatusOK, w.Code, p)
		body := w.Body.String()
		assert.Contains(t, body, `\u003cscript\u003ealert(1)\u003c/script\u003e`, p)
		assert.NotContains(t, body, "<script", p)
		assert.NotContains(t, body, "<img", p)
		assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"), p)
	}
	for _, p := range []string{"/", "/?trace=" + traceA.String(), "/?trace=%3Cscript%3Ealert(1)%3C/script%3E"} {
		w := get(t, h, http.MethodGet, p)
		assert.NotContains(t, w.Body.String(), "alert(1)", p)
		assert.NotContains(t, w.Body.String(), "onerror", p)
	}
}
