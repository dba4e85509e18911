package browser

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/auditz"
	"github.com/otelaudit/otelaudit-go/evidence"
	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// chromiumPath is where Debian's chromium package puts the browser; .ci/run
// installs it.
const chromiumPath = "/usr/bin/chromium"

// TestTimelineInBrowser builds and starts the quickstart with -serve on a
// port the system picks, opens its page in headless Chromium, types the ID
// of the trace the quickstart printed (the trip-planner workflow, with a
// denial) into the search box, submits it with the keyboard, and checks
// that the timeline shows that trace's events in Seq order, as /api/trace
// has them. It saves a screenshot as a test artifact.
func TestTimelineInBrowser(t *testing.T) {
	requireChromium(t)
	base, traceID, pub := startSignedQuickstart(t)

	var trail struct {
		Total     int  `json:"total"`
		Truncated bool `json:"truncated"`
		Events    []struct {
			Seq     uint64 `json:"seq"`
			Type    string `json:"type"`
			Outcome string `json:"outcome"`
		} `json:"events"`
	}
	getJSON(t, base+"api/trace/"+traceID, &trail)
	require.NotEmpty(t, trail.Events)
	require.False(t, trail.Truncated, "the printed trace is whole")
	require.Equal(t, trail.Total, len(trail.Events), "the printed trace is whole")
	want := make([]uint64, len(trail.Events))
	for i, e := range trail.Events {
		want[i] = e.Seq
	}
	require.IsIncreasing(t, want, "/api/trace answers in Seq order")

	ctx := newBrowser(t)
	problems := watchPage(t, ctx)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.ID("trace")),
		// The problem list and stats load on their own.
		chromedp.WaitVisible(chromedp.CSS("#problems li a")),
		chromedp.WaitVisible(chromedp.CSS("#stats dd")),
		chromedp.SendKeys(chromedp.ID("trace"), traceID+kb.Enter),
	))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		fmt.Sprintf(`document.querySelectorAll("#timeline li").length === %d`, len(want)),
		chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "the timeline shows %d events", len(want))

	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]uint64](
		`Array.from(document.querySelectorAll("#timeline li")).map(li => Number(li.dataset.seq))`))
	require.NoError(t, err)
	assert.Equal(t, want, got, "the timeline is the trace's events in Seq order")
	assert.IsIncreasing(t, got, "the timeline is in Seq order")

	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	require.NoError(t, err)
	assert.Contains(t, status, traceID)
	assert.Contains(t, status, "trip-planner")

	// Outcomes are coloured by class, and the denial is there.
	denied, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#timeline li.denied").length`))
	require.NoError(t, err)
	assert.Positive(t, denied)
	// Nested spans are indented: a tool call sits below its workflow.
	maxDepth, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`Math.max(...Array.from(document.querySelectorAll("#timeline li")).map(li => Number(li.style.getPropertyValue("--depth"))))`))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, maxDepth, 1)

	// Each row's disclosure says whose details it opens, and a missing
	// outcome is read out as such, not as a dash.
	summary, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#timeline summary").textContent`))
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("Details of #%d %s", trail.Events[0].Seq, trail.Events[0].Type), summary)
	noOutcome, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#timeline .badge.none")).map(b => b.textContent)`))
	require.NoError(t, err)
	for _, b := range noOutcome {
		assert.Equal(t, "—no outcome", b)
	}

	// The trace is covered by a signed checkpoint, and the page links its
	// evidence bundle, which verifies with the public key alone.
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("coverage-badge") !== null`,
		chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "the coverage badge shows")
	badge, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("coverage-badge")))
	require.NoError(t, err)
	assert.Equal(t, "signed", badge)
	coverage, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("coverage")))
	require.NoError(t, err)
	assert.Contains(t, coverage, fmt.Sprintf("%d of %d held events proved", len(want), len(want)))
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("evidence-link").href`))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(href, "api/evidence/"+traceID), href)
	resp, err := http.Get(href)
	require.NoError(t, err)
	bundle, err := evidence.Read(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	res, err := bundle.Verify(pub)
	require.NoError(t, err)
	assert.Len(t, res.Events, len(want))

	// Submitting put the trace in the URL, so the view can be shared.
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Contains(t, loc, "?trace="+traceID)

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := os.Getenv("OTELAUDIT_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	shot := filepath.Join(dir, "auditz-timeline.png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot of trace %s (%d events): %s", traceID, len(want), shot)

	assert.Empty(t, problems(), "the page runs without script errors, CSP violations or failed loads")
}

// Values built to break out of HTML, or to become a link.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileImg    = `"><img src=x onerror=alert(1)>`
	hostileURL    = `javascript:alert(1)`
)

// TestHostileValuesInBrowser serves auditz.NewHandler over an
// httptest.Server with a trail whose agent, node, resource, action and
// attribute values are hostile, opens the page for that trace in headless
// Chromium and checks that the values are shown as text: no element the
// data could have made (img, script, a link that is not ?trace=), no dialog.
func TestHostileValuesInBrowser(t *testing.T) {
	requireChromium(t)
	// Every attribute kept but known secrets: the hostile ones are the test.
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull}))
	traceID := trace.TraceID{0xba, 0xd0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	wf, node := trace.SpanID{1}, trace.SpanID{2}
	hostile := []attribute.KeyValue{
		attribute.String("policy", hostileScript),
		attribute.String("note", hostileImg),
		attribute.String("link", hostileURL),
		attribute.StringSlice("tags", []string{hostileScript, hostileImg}),
		attribute.String(hostileImg, "a hostile key"),
		// Two of one key: the page shows both, in order.
		attribute.String("approved_by", "alice"),
		attribute.String("approved_by", "mallory"),
	}
	events := []otelaudit.Event{
		{Type: otelaudit.WorkflowStart, TraceID: traceID, SpanID: wf, AgentID: hostileScript, WorkflowID: hostileImg},
		{Type: otelaudit.NodeStart, TraceID: traceID, SpanID: node, ParentSpanID: wf, AgentID: hostileImg, NodeID: hostileScript},
		{Type: otelaudit.TrustDenied, TraceID: traceID, SpanID: node, ParentSpanID: wf, AgentID: hostileImg, NodeID: hostileScript,
			Action: hostileURL, Resource: hostileImg, Outcome: otelaudit.Denied, Attributes: hostile},
		{Type: otelaudit.ResourceAccess, TraceID: traceID, SpanID: node, ParentSpanID: wf, AgentID: hostileScript, NodeID: hostileImg,
			Action: hostileURL, Resource: hostileScript, Outcome: otelaudit.Failure, Attributes: hostile},
		{Type: otelaudit.EventType(hostileScript), TraceID: traceID, SpanID: wf, AgentID: hostileURL, WorkflowID: hostileScript,
			Outcome: otelaudit.Error},
		// Agents that differ only in bytes that are not UTF-8.
		{Type: otelaudit.NodeEnd, TraceID: traceID, SpanID: node, ParentSpanID: wf, AgentID: "agent-\xfe", NodeID: "n"},
		{Type: otelaudit.NodeEnd, TraceID: traceID, SpanID: node, ParentSpanID: wf, AgentID: "agent-\xff", NodeID: "n"},
	}
	start := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for i, e := range events {
		e.Time = start.Add(time.Duration(i) * time.Millisecond)
		_, err := g.Record(context.Background(), e)
		require.NoError(t, err)
	}
	srv := httptest.NewServer(auditz.NewHandler(g))
	t.Cleanup(srv.Close)

	ctx := newBrowser(t)
	problems := watchPage(t, ctx)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?trace="+traceID.String()),
		chromedp.WaitVisible(chromedp.CSS("#problems li a")),
		chromedp.WaitVisible(chromedp.CSS("#stats dd")),
	))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		fmt.Sprintf(`document.querySelectorAll("#timeline li").length === %d`, len(events)),
		chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "the timeline shows %d events", len(events))
	// Open every row, so that a value inside the details would run too.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[int](
		`(() => { const ds = document.querySelectorAll("details"); ds.forEach(d => d.open = true); return ds.length; })()`))
	require.NoError(t, err)

	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("img, iframe, object, embed").length`))
	require.NoError(t, err)
	assert.Zero(t, imgs, "no element made from the data")
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("script")).map(s => s.getAttribute("src") || "inline: " + s.textContent)`))
	require.NoError(t, err)
	assert.Equal(t, []string{"static/app.js"}, scripts, "the page's own script only")
	hrefs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("a")).map(a => a.getAttribute("href"))`))
	require.NoError(t, err)
	own := map[string]bool{"api/stats": true, "api/problems": true, "api/events": true}
	var traceLinks int
	for _, h := range hrefs {
		if strings.HasPrefix(h, "?trace=") {
			traceLinks++
			continue
		}
		assert.True(t, own[h], "a link the page does not make itself: %q", h)
	}
	assert.Equal(t, 1, traceLinks, "the one trace with problems links to itself")
	onAttrs, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`Array.from(document.querySelectorAll("*")).filter(e => Array.from(e.attributes).some(a => a.name.startsWith("on"))).length`))
	require.NoError(t, err)
	assert.Zero(t, onAttrs, "no event-handler attribute anywhere")

	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.textContent`))
	require.NoError(t, err)
	for _, v := range []string{hostileScript, hostileImg, hostileURL} {
		assert.Contains(t, text, v, "shown as text")
	}
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("timeline")))
	require.NoError(t, err)
	assert.Contains(t, timeline, "agent "+hostileScript)
	assert.Contains(t, timeline, "node "+hostileImg)
	assert.Contains(t, timeline, `agent agent-\xfe`, "a byte that is not UTF-8 is shown as \\xHH")
	assert.Contains(t, timeline, `agent agent-\xff`, "and two such agents stay two")
	approvers, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#timeline dt")).filter(dt => dt.textContent === "approved_by").map(dt => dt.nextElementSibling.textContent)`))
	require.NoError(t, err)
	assert.Equal(t, []string{"alice", "mallory", "alice", "mallory"}, approvers, "every attribute, duplicates too, in order")

	// A dialog or an error would come a moment after the rendering.
	time.Sleep(300 * time.Millisecond)
	assert.Empty(t, problems(), "no dialog, script error, CSP violation or failed load")
}

// watchPage collects, from now on, what must not happen on a page: a
// script exception, a console.error, an error in the DevTools log (CSP
// violations and failed loads are reported there) and a JavaScript dialog,
// which is dismissed. The one error let through is a 404 for /favicon.ico,
// which the browser asks for on its own. Call the returned func to read
// them.
func watchPage(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var (
		mu       sync.Mutex
		problems []string
	)
	add := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, s)
	}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			add("exception: " + ev.ExceptionDetails.Text + " " + describe(ev.ExceptionDetails.Exception))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				add("console.error")
			}
		case *cdplog.EventEntryAdded:
			e := ev.Entry
			if e == nil || e.Level != cdplog.EntryLevelError {
				return
			}
			if strings.HasSuffix(e.URL, "/favicon.ico") && strings.Contains(e.Text, "404") {
				return
			}
			add(fmt.Sprintf("log %s: %s (%s)", e.Source, e.Text, e.URL))
		case *page.EventJavascriptDialogOpening:
			add(fmt.Sprintf("%s dialog: %q", ev.Type, ev.Message))
			// Listen's func must not send commands; an open dialog would
			// stall the page, so dismiss it from another goroutine.
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
			}()
		}
	}))
	_, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{})
	require.NoError(t, err, "enable the DevTools Log domain")
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

// requireChromium skips the test when Chromium is missing, or fails it
// under CI, which must run it. CI counts as set when the CI environment
// variable is non-empty and neither "false" nor "0": CI systems set
// CI=true, and .ci/run installs chromium when CI=true, so under CI the
// test runs or fails, never skips silently.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("%s not found (%v): install Debian's chromium (apt-get install chromium) to run the browser test", chromiumPath, err)
		if underCI() {
			t.Fatal(msg + "; CI must run it")
		}
		t.Skip(msg)
	}
}

// underCI reports whether the CI environment variable says the tests run
// under CI: set, and not "false" or "0".
func underCI() bool {
	switch os.Getenv("CI") {
	case "", "false", "0":
		return false
	}
	return true
}

// newBrowser starts headless Chromium with a throwaway profile and nothing
// that reaches the network on its own.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	return ctx
}

// startQuickstart builds the quickstart, starts it serving on a port the
// system picks (-serve 127.0.0.1:0, so no other process can take the port
// between choosing and listening), and returns the base URL of its page and
// the trace ID it printed, read from its stdout. The process gets SIGINT at
// the end of the test and must stop cleanly.
func startQuickstart(t *testing.T) (base, traceID string) {
	base, traceID, _ = startSignedQuickstart(t)
	return base, traceID
}

// startSignedQuickstart is startQuickstart with a store file and a signing
// key, so that the page can prove the trace on screen; it also returns the
// public key.
func startSignedQuickstart(t *testing.T) (base, traceID string, pub ed25519.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	pub, err := keyfile.Generate(filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub"))
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, "./examples/quickstart")
	build.Dir = filepath.Join("..", "..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the quickstart: %s", out)

	cmd := exec.Command(bin, "-serve", "127.0.0.1:0", "-db", filepath.Join(dir, "audit.db"), "-key", filepath.Join(dir, "audit.key"))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	exited := make(chan error, 1)
	urls := make(chan []string, 1)
	go func() {
		// Read all of stdout (the pipe must be drained) and report the page
		// URL the quickstart prints.
		re := regexp.MustCompile(`(http://127\.0\.0\.1:\d+/)\?trace=([0-9a-f]{32})`)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-exited:
			assert.NoError(t, err, "the quickstart stops cleanly on SIGINT; stderr: %s", stderr.String())
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("the quickstart did not stop within 15s of SIGINT")
		}
	})

	select {
	case m := <-urls:
		return m[1], m[2], pub
	case err := <-exited:
		t.Fatalf("the quickstart exited before serving: %v; stderr: %s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the quickstart printed no page URL within 60s; stderr: %s", stderr.String())
	}
	return "", "", nil
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v), url)
}

func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	return o.Description
}
