package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/otelaudit/otelaudit-go/exporter"
)

// Bounds of every wait in the harness: none of them may hang a test run.
const (
	// buildTimeout bounds one `go build`. The collector's first build
	// downloads and compiles a few hundred packages: minutes on 2 cores.
	buildTimeout = 8 * time.Minute
	// readyTimeout bounds the wait for a started collector to accept
	// connections; it takes well under a second.
	readyTimeout = 30 * time.Second
	// stopTimeout bounds the wait for a collector to exit after a signal.
	stopTimeout = 15 * time.Second
	// exportTimeout bounds one OTLP export, in the SDK exporter and in the
	// Stream: on loopback a batch takes milliseconds, and a short bound
	// lets an export to a killed collector fail fast.
	exportTimeout = 2 * time.Second
)

// collectorBin is the collector TestMain built, shared by every test.
var collectorBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "otelaudit-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	collectorBin = filepath.Join(dir, "otelcol-e2e")
	start := time.Now()
	if err := goBuild(".", collectorBin, "./collector"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build the collector:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: built the collector in %s\n", time.Since(start).Round(time.Millisecond))
	return m.Run()
}

// goBuild runs `go build -o out pkg` in dir, within buildTimeout.
func goBuild(dir, out, pkg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	// A killed `go build` can leave compilers holding the output pipes.
	cmd.WaitDelay = 5 * time.Second
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// freePort returns a loopback port nobody listened on a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// collector is one collector process at a time, on one port and one
// output file, which every restart keeps.
type collector struct {
	tb     testing.TB
	addr   string // the OTLP/gRPC receiver, 127.0.0.1:PORT
	config string // the YAML config file
	out    string // the spans received, as JSON lines
	log    string // the processes' stdout and stderr, all starts

	cmd    *exec.Cmd     // nil when not running
	exited chan struct{} // closed when cmd has exited
	starts int
}

// newCollector writes the config of a collector on port but does not
// start it. Cleanup kills it, and prints its log if the test failed.
func newCollector(tb testing.TB, port int) *collector {
	tb.Helper()
	dir := tb.TempDir()
	c := &collector{
		tb:     tb,
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		config: filepath.Join(dir, "config.yaml"),
		out:    filepath.Join(dir, "spans.jsonl"),
		log:    filepath.Join(dir, "collector.log"),
	}
	// Metrics level none: no Prometheus endpoint on :8888, which two
	// collectors would fight over. Logs at warn: a quiet log shows the
	// failure when there is one.
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %q
exporters:
  jsonlines:
    path: %q
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jsonlines]
`, c.addr, c.out)
	if err := os.WriteFile(c.config, []byte(cfg), 0o600); err != nil {
		tb.Fatalf("write collector config: %v", err)
	}
	tb.Cleanup(func() {
		if c.cmd != nil {
			c.signal(syscall.SIGKILL)
		}
		if tb.Failed() {
			tb.Logf("collector log (%s):\n%s", c.log, c.logText())
		}
	})
	return c
}

// startCollector starts a collector on a free port and waits until it
// accepts connections.
func startCollector(tb testing.TB) *collector {
	tb.Helper()
	c := newCollector(tb, freePort(tb))
	c.start()
	return c
}

// start starts the collector, for the first time or again after stop or
// kill (on the same port, appending to the same file), and waits until its
// receiver accepts connections. The collector starts its exporters before
// its receivers, so by then a received batch has somewhere to go.
func (c *collector) start() {
	c.tb.Helper()
	if c.cmd != nil {
		c.tb.Fatalf("collector already running")
	}
	c.starts++
	logf, err := os.OpenFile(c.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		c.tb.Fatalf("collector log: %v", err)
	}
	fmt.Fprintf(logf, "=== start %d at %s\n", c.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(collectorBin, "--config", c.config)
	cmd.Stdout, cmd.Stderr = logf, logf
	dieWithTests(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		c.tb.Fatalf("start collector: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	c.cmd, c.exited = cmd, exited

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			c.cmd = nil
			c.tb.Fatalf("collector exited while starting (%s):\n%s", cmd.ProcessState, c.logText())
		default:
		}
		conn, err := net.DialTimeout("tcp", c.addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			c.signal(syscall.SIGKILL)
			c.tb.Fatalf("collector not listening on %s after %s: %v\n%s", c.addr, readyTimeout, err, c.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops the collector gracefully, SIGTERM, and fails the test unless
// it exits cleanly within stopTimeout (it is killed then).
func (c *collector) stop() {
	c.tb.Helper()
	cmd := c.cmd
	if cmd == nil {
		return
	}
	if !c.signal(syscall.SIGTERM) {
		c.signal(syscall.SIGKILL)
		c.tb.Errorf("collector did not exit within %s of SIGTERM; killed", stopTimeout)
		return
	}
	if !cmd.ProcessState.Success() {
		c.tb.Errorf("collector exited with %s after SIGTERM", cmd.ProcessState)
	}
}

// kill kills the collector with SIGKILL, as a crash or the OOM killer
// would: no flush, no goodbye.
func (c *collector) kill() {
	c.tb.Helper()
	if !c.signal(syscall.SIGKILL) {
		c.tb.Fatalf("collector did not exit within %s of SIGKILL", stopTimeout)
	}
}

// signal sends sig to the running collector and reports whether it exited
// within stopTimeout.
func (c *collector) signal(sig syscall.Signal) bool {
	if c.cmd == nil {
		return true
	}
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.exited:
		c.cmd = nil
		return true
	case <-time.After(stopTimeout):
		return false
	}
}

func (c *collector) logText() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// span is what the tests read back of a span the collector received.
type span struct {
	TraceID      trace.TraceID
	SpanID       trace.SpanID
	ParentSpanID trace.SpanID
	Name         string
	Attrs        map[string]any // as pcommon's AsRaw has them
}

// spans reads every span the collector has written so far. Every line
// must parse: the exporter cuts a torn line off before it appends again.
func (c *collector) spans() []span {
	c.tb.Helper()
	f, err := os.Open(c.out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		c.tb.Fatalf("open collector output: %v", err)
	}
	defer f.Close()
	var out []span
	r := bufio.NewReaderSize(f, 1<<20)
	var u ptrace.JSONUnmarshaler
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) && len(bytes.TrimSpace(line)) == 0 {
			return out
		}
		if err != nil && !errors.Is(err, io.EOF) {
			c.tb.Fatalf("read collector output: %v", err)
		}
		td, uerr := u.UnmarshalTraces(line)
		if uerr != nil {
			c.tb.Fatalf("collector output line %d: %v", n, uerr)
		}
		out = appendSpans(out, td)
		if err != nil { // EOF after a last line without a newline
			return out
		}
	}
}

func appendSpans(out []span, td ptrace.Traces) []span {
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				out = append(out, span{
					TraceID:      trace.TraceID(s.TraceID()),
					SpanID:       trace.SpanID(s.SpanID()),
					ParentSpanID: trace.SpanID(s.ParentSpanID()),
					Name:         s.Name(),
					Attrs:        s.Attributes().AsRaw(),
				})
			}
		}
	}
	return out
}

// seqCounts returns how often each audit.event.seq arrived. A span
// without one fails the test: only replayed audit events go there.
func seqCounts(tb testing.TB, spans []span) map[uint64]int {
	tb.Helper()
	counts := make(map[uint64]int, len(spans))
	for _, s := range spans {
		v, ok := s.Attrs[string(exporter.EventSeqKey)].(int64)
		if !ok || v <= 0 {
			tb.Fatalf("span %q has no valid %s: %v", s.Name, exporter.EventSeqKey, s.Attrs[string(exporter.EventSeqKey)])
		}
		counts[uint64(v)]++
	}
	return counts
}

// newOTLPExporter returns an OTLP/gRPC span exporter to addr, configured
// as a Stream wants it: no retry of its own, so that the Stream's backoff
// is what retries, and a short timeout.
func newOTLPExporter(tb testing.TB, addr string) *otlptrace.Exporter {
	tb.Helper()
	exp, err := otlptracegrpc.New(context.Background(),
		otlptracegrpc.WithEndpoint(addr),
		otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
		otlptracegrpc.WithTimeout(exportTimeout),
		// gRPC's own reconnect backoff (1 s, growing to 2 min) would leave
		// the channel failing fast for seconds after the collector is
		// back, adding idle time to every test without testing anything
		// of ours. Reconnect quickly instead.
		otlptracegrpc.WithDialOption(grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  50 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   500 * time.Millisecond,
			},
			MinConnectTimeout: exportTimeout,
		})),
	)
	if err != nil {
		tb.Fatalf("otlptracegrpc: %v", err)
	}
	return exp
}
