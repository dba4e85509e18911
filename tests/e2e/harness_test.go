package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/otelaudit/otelaudit-go/otelaudit"
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
	http   string // the OTLP/HTTP receiver, http://127.0.0.1:PORT
	config string // the YAML config file
	out    string // the spans received, as JSON lines
	logs   string // the log records received, as the file exporter writes them
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
		http:   "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(tb))),
		config: filepath.Join(dir, "config.yaml"),
		out:    filepath.Join(dir, "spans.jsonl"),
		logs:   filepath.Join(dir, "logs.jsonl"),
		log:    filepath.Join(dir, "collector.log"),
	}
	// Metrics level none: no Prometheus endpoint on :8888, which two
	// collectors would fight over. Logs at warn: a quiet log shows the
	// failure when there is one.
	//
	// Log records go to the Collector's own file exporter, configured as a
	// user keeping an audit file would. With rotation set it writes each
	// batch straight to the file (timberjack, appending to what a previous
	// run left), so an export it acknowledged survives a SIGKILL; without
	// rotation it buffers up to flush_interval (1 s, and 0 means 1 s) in
	// memory, which a SIGKILL loses after the client was told "delivered".
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %q
      http:
        endpoint: %q
exporters:
  jsonlines:
    path: %q
  file:
    path: %q
    rotation:
      max_megabytes: 1024
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
    logs:
      receivers: [otlp]
      exporters: [file]
`, c.addr, strings.TrimPrefix(c.http, "http://"), c.out, c.logs)
	c.writeConfig(cfg)
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

// newCollectorWithConfig is newCollector with a config of the caller's,
// which must receive OTLP/gRPC on c.addr; it writes what it likes where it
// likes, and c.out and c.logs are unused.
func newCollectorWithConfig(tb testing.TB, port int, config func(c *collector) string) *collector {
	tb.Helper()
	c := newCollector(tb, port)
	c.writeConfig(config(c))
	return c
}

func (c *collector) writeConfig(cfg string) {
	c.tb.Helper()
	if err := os.WriteFile(c.config, []byte(cfg), 0o600); err != nil {
		c.tb.Fatalf("write collector config: %v", err)
	}
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

// logRecord is what the tests read back of a log record the collector
// received.
type logRecord struct {
	EventName    string
	TraceID      trace.TraceID
	SpanID       trace.SpanID
	Flags        uint32
	Severity     int32
	SeverityText string
	Body         string
	Timestamp    time.Time
	Observed     time.Time
	Attrs        map[string]any // as pcommon's AsRaw has them
	Resource     map[string]any
	Scope        string
}

// logRecords reads every log record the collector's file exporter has
// written so far: OTLP JSON objects, one per exported batch, each
// followed by a newline. The exporter writes an object and its newline in
// two writes, so a collector killed between them leaves an object without
// its newline, which the next run's object follows at once; killed during
// a write, it leaves part of an object, which the client never saw
// acknowledged and sends again. The reader takes both as they come:
// objects are read one after another whatever separates them, and a torn
// one is skipped up to the next object's start (and counted in torn).
func (c *collector) logRecords() (records []logRecord, torn int) {
	c.tb.Helper()
	b, err := os.ReadFile(c.logs)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0
	}
	if err != nil {
		c.tb.Fatalf("read collector log output: %v", err)
	}
	var u plog.JSONUnmarshaler
	start := []byte(`{"resourceLogs"`)
	for len(bytes.TrimSpace(b)) > 0 {
		b = bytes.TrimLeft(b, " \t\r\n")
		dec := json.NewDecoder(bytes.NewReader(b))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			// A torn object: go on at the next object, if any.
			next := bytes.Index(b[1:], start)
			if next < 0 {
				torn++
				return records, torn
			}
			torn++
			b = b[1+next:]
			continue
		}
		ld, err := u.UnmarshalLogs(raw)
		if err != nil {
			// Valid JSON that is not OTLP: a torn object glued to a whole
			// one can parse as neither, handled above; this cannot happen.
			c.tb.Fatalf("collector log output at byte %d: %v", len(b), err)
		}
		records = appendLogRecords(records, ld)
		b = b[dec.InputOffset():]
	}
	return records, torn
}

func appendLogRecords(out []logRecord, ld plog.Logs) []logRecord {
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes().AsRaw()
		for _, sl := range rl.ScopeLogs().All() {
			for _, r := range sl.LogRecords().All() {
				out = append(out, logRecord{
					EventName:    r.EventName(),
					TraceID:      trace.TraceID(r.TraceID()),
					SpanID:       trace.SpanID(r.SpanID()),
					Flags:        uint32(r.Flags()),
					Severity:     int32(r.SeverityNumber()),
					SeverityText: r.SeverityText(),
					Body:         r.Body().AsString(),
					Timestamp:    r.Timestamp().AsTime(),
					Observed:     r.ObservedTimestamp().AsTime(),
					Attrs:        r.Attributes().AsRaw(),
					Resource:     res,
					Scope:        sl.Scope().Name(),
				})
			}
		}
	}
	return out
}

// logSeqCounts returns how often each audit.event.seq arrived as a log
// record. A record without one fails the test.
func logSeqCounts(tb testing.TB, records []logRecord) map[uint64]int {
	tb.Helper()
	counts := make(map[uint64]int, len(records))
	for _, r := range records {
		v, ok := r.Attrs[string(otelaudit.KeyEventSeq)].(int64)
		if !ok || v <= 0 {
			tb.Fatalf("log record %q has no valid %s: %v", r.EventName, otelaudit.KeyEventSeq, r.Attrs[string(otelaudit.KeyEventSeq)])
		}
		counts[uint64(v)]++
	}
	return counts
}

// seqCounts returns how often each audit.event.seq arrived. A span
// without one fails the test: only replayed audit events go there.
func seqCounts(tb testing.TB, spans []span) map[uint64]int {
	tb.Helper()
	counts := make(map[uint64]int, len(spans))
	for _, s := range spans {
		v, ok := s.Attrs[string(otelaudit.KeyEventSeq)].(int64)
		if !ok || v <= 0 {
			tb.Fatalf("span %q has no valid %s: %v", s.Name, otelaudit.KeyEventSeq, s.Attrs[string(otelaudit.KeyEventSeq)])
		}
		counts[uint64(v)]++
	}
	return counts
}

// quickReconnect is gRPC's reconnect backoff for the tests' exporters.
// gRPC's own (1 s, growing to 2 min) would leave the channel failing fast
// for seconds after the collector is back, adding idle time to every test
// without testing anything of ours.
var quickReconnect = grpc.WithConnectParams(grpc.ConnectParams{
	Backoff: backoff.Config{
		BaseDelay:  50 * time.Millisecond,
		Multiplier: 1.6,
		Jitter:     0.2,
		MaxDelay:   500 * time.Millisecond,
	},
	MinConnectTimeout: exportTimeout,
})

// newOTLPLogExporter returns an OTLP/gRPC log exporter to addr, configured
// as newOTLPExporter configures the span exporter.
func newOTLPLogExporter(tb testing.TB, addr string) *otlploggrpc.Exporter {
	tb.Helper()
	exp, err := otlploggrpc.New(context.Background(),
		otlploggrpc.WithEndpoint(addr),
		otlploggrpc.WithInsecure(),
		otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}),
		otlploggrpc.WithTimeout(exportTimeout),
		otlploggrpc.WithDialOption(quickReconnect),
	)
	if err != nil {
		tb.Fatalf("otlploggrpc: %v", err)
	}
	return exp
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
		otlptracegrpc.WithDialOption(quickReconnect),
	)
	if err != nil {
		tb.Fatalf("otlptracegrpc: %v", err)
	}
	return exp
}
