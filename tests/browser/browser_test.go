package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath is where Debian's chromium package puts the browser; .ci/run
// installs it.
const chromiumPath = "/usr/bin/chromium"

// TestTimelineInBrowser builds and starts the quickstart with -serve, opens
// its page in headless Chromium, types the ID of a trace with problems into
// the search box, submits it with the keyboard, and checks that the
// timeline shows that trace's events in Seq order, as /api/trace has them.
// It saves a screenshot as a test artifact.
func TestTimelineInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("%s not found (%v): install Debian's chromium (apt-get install chromium) to run the browser test", chromiumPath, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI must run it")
		}
		t.Skip(msg)
	}

	base := startQuickstart(t)

	// A trace with a denial: the trip-planner workflow.
	var problems struct {
		Problems []struct {
			TraceID    string `json:"trace_id"`
			WorkflowID string `json:"workflow_id"`
			Denials    int    `json:"denials"`
		} `json:"problems"`
	}
	getJSON(t, base+"api/problems", &problems)
	var traceID string
	for _, p := range problems.Problems {
		if p.Denials > 0 {
			traceID = p.TraceID
			break
		}
	}
	require.NotEmpty(t, traceID, "a trace with a denial among %+v", problems.Problems)

	var trail struct {
		Events []struct {
			Seq     uint64 `json:"seq"`
			Type    string `json:"type"`
			Outcome string `json:"outcome"`
		} `json:"events"`
	}
	getJSON(t, base+"api/trace/"+traceID, &trail)
	require.NotEmpty(t, trail.Events)
	want := make([]uint64, len(trail.Events))
	for i, e := range trail.Events {
		want[i] = e.Seq
	}

	ctx := newBrowser(t)
	var (
		mu       sync.Mutex
		jsErrors []string
	)
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			jsErrors = append(jsErrors, "exception: "+ev.ExceptionDetails.Text+" "+describe(ev.ExceptionDetails.Exception))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				jsErrors = append(jsErrors, "console.error")
			}
		}
	}))

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

	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, jsErrors, "the page runs without script errors (or CSP violations)")
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

// startQuickstart builds the quickstart, starts it serving on a free port
// and returns the base URL of its page once it answers. The process gets
// SIGINT at the end of the test and must stop cleanly.
func startQuickstart(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, "./examples/quickstart")
	build.Dir = filepath.Join("..", "..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the quickstart: %s", out)

	addr := freeAddr(t)
	cmd := exec.Command(bin, "-serve", addr)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	exited := make(chan error, 1)
	urls := make(chan string, 1)
	go func() {
		// Read all of stdout (the pipe must be drained) and report the page
		// URL the quickstart prints.
		re := regexp.MustCompile(`http://\S+/\?trace=[0-9a-f]{32}`)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			if m := re.FindString(sc.Text()); m != "" {
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
	case u := <-urls:
		base, _, _ := strings.Cut(u, "?")
		require.Equal(t, "http://"+addr+"/", base, "the printed URL is the served address")
		return base
	case err := <-exited:
		t.Fatalf("the quickstart exited before serving: %v; stderr: %s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the quickstart printed no page URL within 60s; stderr: %s", stderr.String())
	}
	return ""
}

// freeAddr finds a free local port. Another process could take it before the
// quickstart listens; the quickstart then fails at once and says so.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
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
