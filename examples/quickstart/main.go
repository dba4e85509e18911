// Command quickstart runs a small concurrent agent runtime traced with
// OpenTelemetry, with the otelaudit span processor registered. It prints the
// audit trail of one trace, the generator's stats, and replays that trace's
// audit events to stdout as OTel spans.
//
//	go run ./examples/quickstart
//
// With -logs it replays them as OTel log records instead (stdoutlog), the
// form SIEMs and log stores take in; with -otlp it then also streams log
// records instead of spans:
//
//	go run ./examples/quickstart -logs
//
// With -serve ADDR it then keeps the runtime running and serves the live
// debugging page (package auditz) on ADDR until interrupted:
//
//	go run ./examples/quickstart -serve localhost:8080
//
// The trip-planner's payment tool charges a card only once the trail
// durably holds the intent to charge it (Generator.Require), and a receipt
// needs a store: without -db the trail is kept in a temporary store file,
// removed when the quickstart exits. With -db PATH the trail is made
// durable in that store file (package store), which the otelaudit CLI
// reads; run it again and the trail goes on, numbering and hash chain
// included. With -key FILE (made by
// `otelaudit keygen`) the chain head is signed, so `otelaudit verify
// --pubkey` can prove nothing was cut or rewritten:
//
//	go run ./examples/quickstart -db audit.db
//	go run ./cmd/otelaudit trace --db audit.db <trace-id>
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
	"github.com/otelaudit/otelaudit-go/store"
)

func main() {
	workflow := flag.String("workflow", "trip-planner", "workflow whose trace to show: "+workflowNames())
	pretty := flag.Bool("pretty", false, "pretty-print the replayed spans (or log records)")
	addr := flag.String("serve", "", "after the output, keep the runtime running and serve the audit page on this address (e.g. localhost:8080; the page has no auth)")
	var o options
	flag.StringVar(&o.db, "db", "", "also make the trail durable in this store file (created if missing, continued if not); read it with go run ./cmd/otelaudit")
	flag.StringVar(&o.key, "key", "", "sign the chain head with this ed25519 private key (PEM, from otelaudit keygen): with -db, every commit; a store whose head the key did not sign is refused")
	flag.BoolVar(&o.adopt, "adopt", false, "with -db and -key, continue a store whose head the key did not sign (written without it); the adoption is recorded in the trail")
	flag.StringVar(&o.otlp, "otlp", "", "also stream every audit event to this OTLP/gRPC endpoint (host:port, e.g. a local Collector on localhost:4317); with -db, undelivered events are resumed on the next run")
	flag.DurationVar(&o.otlpTimeout, "otlp-timeout", 5*time.Second, "how long to wait at the end for -otlp delivery")
	flag.BoolVar(&o.logs, "logs", false, "replay (and, with -otlp, stream) the trail as OTel log records instead of spans")
	flag.Parse()
	o.workflow, o.pretty, o.addr = *workflow, *pretty, *addr
	ctx := context.Background()
	if *addr != "" {
		// Interrupt and SIGTERM end serving with a clean shutdown. Without
		// -serve they keep their usual effect.
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		// After the first signal, restore the default handling, so that a
		// second Ctrl-C kills a shutdown that hangs.
		context.AfterFunc(ctx, stop)
	}
	if err := runWith(ctx, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// sampleRatio is the share of traces the quickstart samples for export, as
// a production service would; the audit trail stays complete.
const sampleRatio = 0.1

// options are the quickstart's flags.
type options struct {
	workflow string
	pretty   bool
	addr     string // serve the audit page here afterwards
	db       string // store file
	key      string // signing key file
	adopt    bool   // adopt a head the key did not sign
	// otlp streams the trail to an OTLP/gRPC endpoint, waiting up to
	// otlpTimeout at the end.
	otlp        string
	otlpTimeout time.Duration
	// logs replays and streams log records instead of spans.
	logs bool
}

func run(out io.Writer, workflow string, pretty bool) error {
	return runWith(context.Background(), out, options{workflow: workflow, pretty: pretty})
}

func runServe(ctx context.Context, out io.Writer, workflow string, pretty bool, addr string) error {
	return runWith(ctx, out, options{workflow: workflow, pretty: pretty, addr: addr})
}

// runWith is the quickstart; with a non-empty o.addr it then serves the
// audit page there, the runtime still running, until ctx is done.
func runWith(ctx context.Context, out io.Writer, o options) error {
	workflow, addr := o.workflow, o.addr
	// Listen first: a busy port should fail before any output, not after.
	var ln net.Listener
	if addr != "" {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer ln.Close()
	}

	// 1. One Generator holds the audit trail; one processor feeds it.
	// A store makes it durable (-db, else a temporary one), and with -key
	// checkpoints of the chain are signed.
	gopts, st, pub, err := durability(o)
	if err != nil {
		return err
	}
	if st == nil {
		// The payment tool charges only with a receipt, and receipts need
		// a store: this run keeps the trail in a temporary one.
		tmp, err := os.MkdirTemp("", "quickstart-audit-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		var sopts []store.Option
		if pub != nil {
			sopts = append(sopts, store.WithPublicKey(pub))
		}
		if st, err = store.Open(filepath.Join(tmp, "audit.db"), sopts...); err != nil {
			return err
		}
		gopts = append(gopts, otelaudit.WithStore(st))
	}
	audit, err := otelaudit.New(gopts...)
	if err != nil {
		return fmt.Errorf("-db: %w", err)
	}
	defer func() { _ = audit.Shutdown(context.Background()) }()
	startSeq := audit.Stats().LastSeq
	stream, err := startStream(ctx, o, audit, st)
	if err != nil {
		return err
	}
	res := resource.NewSchemaless(semconv.ServiceName("quickstart-agents"))
	auditor := processor.New(audit)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		// Traces are sampled as a production service samples them; the
		// processor's Sampler records every span it audits anyway.
		sdktrace.WithSampler(auditor.Sampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(sampleRatio)))),
		sdktrace.WithSpanProcessor(auditor),
	)
	// The tools' APIs, called through otelhttp (see apis.go).
	api, err := startAPIs(tp)
	if err != nil {
		return err
	}
	defer func() { _ = api.Close() }()

	// 2. The runtime runs its workflows in parallel, tracing as usual.
	start := time.Now()
	pay := &payments{auditor: auditor, pub: pub}
	rt := runtime{tracer: tp.Tracer("example.com/agent-runtime"), client: api.client, pay: pay}
	roots := runAll(ctx, rt)
	// The processor records as spans end, so the trail is complete here;
	// the provider stays up only when serving keeps the runtime running.
	defer func() { _ = tp.Shutdown(context.Background()) }()
	root, ok := roots[workflow]
	if !ok {
		return fmt.Errorf("no workflow %q; try one of: %s", workflow, workflowNames())
	}
	id := root.TraceID()
	sampled, audited := 0, 0
	for _, sc := range roots {
		if sc.IsSampled() {
			sampled++
		}
		if len(audit.EventsByTrace(sc.TraceID())) > 0 {
			audited++
		}
	}
	fmt.Fprintf(out, "Ran %d agent workflows in parallel in %s.\n", len(roots), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(out, "Traces sampled at %g%%: %d of %d would reach a trace exporter. Audited: %d of %d.\n\n",
		sampleRatio*100, sampled, len(roots), audited, len(roots))

	// 3. "What happened in trace X?"
	trail := audit.EventsByTrace(id)
	fmt.Fprintf(out, "Audit trail of workflow %q, trace %s (%d events):\n\n", workflow, id, len(trail))
	printTrail(out, trail)
	fmt.Fprintln(out)
	pay.report(out, id)

	s := audit.Stats()
	fmt.Fprintf(out, "\nGenerator stats: %d recorded, %d held (capacity %d), %d evicted, %d rejected, %d cleared.\n",
		s.Recorded, s.Len, s.Capacity, s.Evicted, s.Rejected, s.Cleared)
	fmt.Fprintf(out, "Other traces: ")
	for _, name := range strings.Split(workflowNames(), ", ") {
		if name != workflow {
			fmt.Fprintf(out, "%s (%d events) ", name, len(audit.EventsByTrace(roots[name].TraceID())))
		}
	}
	fmt.Fprintln(out)

	// 4. Replay the trail as OTel spans, trace ID intact: here to stdout,
	// in production to any OpenTelemetry Collector (see examples/otlp).
	// With -logs, as OTel log records, the path SIEMs take.
	if err := replayToStdout(ctx, out, o, trail); err != nil {
		return err
	}
	if o.logs {
		fmt.Fprintf(out, "\nReplayed %d log records named audit.<type>, each with the trace ID %s and the span ID of its action.\n", len(trail), id)
	} else {
		fmt.Fprintf(out, "\nReplayed %d spans named audit.<type>, each a child of the span of its action in trace %s.\n", len(trail), id)
	}

	// 5. The trail is hash-chained: every event's Hash covers all its
	// fields and the Hash before it.
	if err := audit.Verify(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	head := audit.Head()
	fmt.Fprintf(out, "\nHash chain verified: %d events, head seq %d, hash %s.\n", s.Len, head.Seq, head.Hash)
	if o.db == "" {
		fmt.Fprintf(out, "The trail is in a temporary store file, removed when the quickstart exits. To keep it and query it with the otelaudit CLI, run again with -db audit.db.\n")
	}
	if ln != nil {
		// Serving keeps the runtime (and the stream, and the store)
		// running until interrupted; then everything is finished below.
		if err := serve(ctx, out, ln, audit, st, rt, id); err != nil {
			return err
		}
		ctx = context.Background()
	}
	// The provider's Shutdown flushes the processor, which waits until a
	// store has every event.
	if err := tp.Shutdown(ctx); err != nil {
		return err
	}
	if stream != nil {
		if err := finishStream(out, o, audit, stream); err != nil {
			return err
		}
	}
	if o.db != "" {
		head := audit.Head()
		if err := audit.Shutdown(ctx); err != nil {
			return fmt.Errorf("close the store: %w", err)
		}
		fmt.Fprintf(out, "Stored seq %d..%d durably in %s.", startSeq+1, head.Seq, o.db)
		if cps := audit.Checkpoints(); len(cps) > 0 {
			fmt.Fprintf(out, " Signed head: seq %d.", cps[len(cps)-1].Seq)
		}
		fmt.Fprintf(out, " Query it:\n\n")
		verify := ""
		if o.key != "" {
			verify = " --pubkey <the public key of " + o.key + ">"
		}
		fmt.Fprintf(out, "  go run ./cmd/otelaudit trace --db %s %s\n  go run ./cmd/otelaudit verify --db %s%s\n", o.db, id, o.db, verify)
	}
	return nil
}

// replayToStdout replays trail to out: as spans through stdouttrace, or
// with -logs as log records through stdoutlog.
func replayToStdout(ctx context.Context, out io.Writer, o options, trail []otelaudit.Event) error {
	var replay interface {
		Replay(context.Context, []otelaudit.Event) error
		Shutdown(context.Context) error
	}
	if o.logs {
		fmt.Fprintf(out, "\nReplaying the trail to stdout through stdoutlog, one log record per audit event:\n\n")
		opts := []stdoutlog.Option{stdoutlog.WithWriter(out)}
		if o.pretty {
			opts = append(opts, stdoutlog.WithPrettyPrint())
		}
		stdout, err := stdoutlog.New(opts...)
		if err != nil {
			return fmt.Errorf("create stdout log exporter: %w", err)
		}
		replay = exporter.NewLogExporter(stdout)
	} else {
		fmt.Fprintf(out, "\nReplaying the trail to stdout through stdouttrace, one span per audit event:\n\n")
		opts := []stdouttrace.Option{stdouttrace.WithWriter(out)}
		if o.pretty {
			opts = append(opts, stdouttrace.WithPrettyPrint())
		}
		stdout, err := stdouttrace.New(opts...)
		if err != nil {
			return fmt.Errorf("create stdout exporter: %w", err)
		}
		replay = exporter.New(stdout)
	}
	if err := replay.Replay(ctx, trail); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := replay.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down replay exporter: %w", err)
	}
	return nil
}

// startStream starts streaming the trail to o.otlp: following the store
// with -db, so that what is not delivered now is resumed by the next run
// (the store keeps the delivered Seq), else following the Generator.
func startStream(ctx context.Context, o options, audit *otelaudit.Generator, st *store.Store) (*exporter.Stream, error) {
	if o.otlp == "" {
		return nil, nil
	}
	var src exporter.Trail = exporter.FollowGenerator(audit)
	var opts []exporter.StreamOption
	if st != nil {
		src = st
		opts = append(opts, exporter.WithCursor(st, "quickstart-otlp"))
	}
	opts = append(opts, exporter.WithBackoff(50*time.Millisecond, time.Second))
	if o.logs {
		exp, err := otlploggrpc.New(ctx,
			otlploggrpc.WithEndpoint(o.otlp),
			otlploggrpc.WithInsecure(),
			// The Stream retries, with backoff, and never skips an event.
			otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}),
			otlploggrpc.WithTimeout(o.otlpTimeout),
		)
		if err != nil {
			return nil, fmt.Errorf("-otlp: %w", err)
		}
		s, err := exporter.NewLogStream(src, exp, opts...)
		if err != nil {
			return nil, fmt.Errorf("-otlp: %w", err)
		}
		return s, nil
	}
	exp, err := otlptracegrpc.New(ctx,
		otlptracegrpc.WithEndpoint(o.otlp),
		otlptracegrpc.WithInsecure(),
		// The Stream retries, with backoff, and never skips an event.
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
		otlptracegrpc.WithTimeout(o.otlpTimeout),
	)
	if err != nil {
		return nil, fmt.Errorf("-otlp: %w", err)
	}
	s, err := exporter.NewStream(src, exp, opts...)
	if err != nil {
		return nil, fmt.Errorf("-otlp: %w", err)
	}
	return s, nil
}

// finishStream waits up to o.otlpTimeout for every event to be delivered,
// then stops the stream and says how it went.
func finishStream(out io.Writer, o options, audit *otelaudit.Generator, s *exporter.Stream) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.otlpTimeout)
	defer cancel()
	// With a store, the stream follows it: only durable events go out.
	if err := audit.ForceFlush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	err := s.Shutdown(ctx)
	st := s.Stats()
	if err == nil {
		what := "audit events"
		if o.logs {
			what = "audit events as log records"
		}
		fmt.Fprintf(out, "Streamed %d %s to %s (up to seq %d).\n", st.Exported, what, o.otlp, st.Delivered)
		return nil
	}
	resume := ""
	if o.db != "" {
		resume = "; they stay in " + o.db + " and the next run with -otlp delivers them"
	}
	return fmt.Errorf("-otlp: %d audit events not delivered to %s within %s%s (is an OpenTelemetry Collector listening there?): %w",
		st.Pending, o.otlp, o.otlpTimeout, resume, err)
}

// durability returns the Generator options -db and -key ask for, the
// store -db opened, and the public key of -key: with -key, the store is
// opened for that key, so that a store whose head the key did not sign is
// refused (unless -adopt).
func durability(o options) ([]otelaudit.Option, *store.Store, ed25519.PublicKey, error) {
	var (
		opts  []otelaudit.Option
		sopts []store.Option
		pub   ed25519.PublicKey
	)
	if o.key != "" {
		key, err := keyfile.ReadPrivate(o.key)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("-key: %w", err)
		}
		pub = key.Public().(ed25519.PublicKey)
		opts = append(opts, otelaudit.WithSigningKey(key))
		sopts = append(sopts, store.WithPublicKey(pub))
	}
	if o.adopt {
		sopts = append(sopts, store.WithAdoptHead())
	}
	if o.db != "" {
		st, err := store.Open(o.db, sopts...)
		if err != nil {
			if errors.Is(err, store.ErrUnsigned) {
				err = fmt.Errorf("%w; if that was you (a run without -key), run again with -adopt", err)
			}
			return nil, nil, nil, fmt.Errorf("-db: %w", err)
		}
		return append(opts, otelaudit.WithStore(st)), st, pub, nil
	}
	return opts, nil, pub, nil
}

// printTrail prints events as a table, times relative to the first.
func printTrail(out io.Writer, trail []otelaudit.Event) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tTYPE\tAGENT\tUSER\tNODE\tACTION\tRESOURCE\tOUTCOME\tDURATION")
	for _, e := range trail {
		at := "+0ms"
		if len(trail) > 0 {
			at = fmt.Sprintf("+%dms", e.Time.Sub(trail[0].Time).Milliseconds())
		}
		dur := "-"
		if e.Duration > 0 {
			dur = e.Duration.Round(time.Microsecond).String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			e.Seq, at, e.Type, dash(e.AgentID), dash(e.HumanOriginID), dash(e.NodeID),
			dash(e.Action), dash(e.Resource), dash(string(e.Outcome)), dur)
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func workflowNames() string {
	names := make([]string, 0, len(runs))
	for _, r := range runs {
		names = append(names, r.workflow)
	}
	return strings.Join(names, ", ")
}
