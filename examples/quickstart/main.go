// Command quickstart runs a small concurrent agent runtime traced with
// OpenTelemetry, with the otelaudit span processor registered. It prints the
// audit trail of one trace, the generator's stats, and replays that trace's
// audit events to stdout as OTel spans.
//
//	go run ./examples/quickstart
//
// With -serve ADDR it then keeps the runtime running and serves the live
// debugging page (package auditz) on ADDR until interrupted:
//
//	go run ./examples/quickstart -serve localhost:8080
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

func main() {
	workflow := flag.String("workflow", "trip-planner", "workflow whose trace to show: "+workflowNames())
	pretty := flag.Bool("pretty", false, "pretty-print the replayed spans")
	addr := flag.String("serve", "", "after the output, keep the runtime running and serve the audit page on this address (e.g. localhost:8080; the page has no auth)")
	flag.Parse()
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
	if err := runServe(ctx, os.Stdout, *workflow, *pretty, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, workflow string, pretty bool) error {
	return runServe(context.Background(), out, workflow, pretty, "")
}

// runServe is the quickstart; with a non-empty addr it then serves the
// audit page there, the runtime still running, until ctx is done.
func runServe(ctx context.Context, out io.Writer, workflow string, pretty bool, addr string) error {
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
	audit := otelaudit.NewGenerator()
	res := resource.NewSchemaless(semconv.ServiceName("quickstart-agents"))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(processor.New(audit)),
	)

	// 2. The runtime runs its workflows in parallel, tracing as usual.
	start := time.Now()
	tracer := tp.Tracer("example.com/agent-runtime")
	traces := runAll(ctx, tracer)
	// The processor records as spans end, so the trail is complete here;
	// the provider stays up only when serving keeps the runtime running.
	defer func() { _ = tp.Shutdown(context.Background()) }()
	id, ok := traces[workflow]
	if !ok {
		return fmt.Errorf("no workflow %q; try one of: %s", workflow, workflowNames())
	}
	fmt.Fprintf(out, "Ran %d agent workflows in parallel in %s.\n\n", len(traces), time.Since(start).Round(time.Millisecond))

	// 3. "What happened in trace X?"
	trail := audit.EventsByTrace(id)
	fmt.Fprintf(out, "Audit trail of workflow %q, trace %s (%d events):\n\n", workflow, id, len(trail))
	printTrail(out, trail)

	s := audit.Stats()
	fmt.Fprintf(out, "\nGenerator stats: %d recorded, %d held (capacity %d), %d evicted, %d rejected, %d cleared.\n",
		s.Recorded, s.Len, s.Capacity, s.Evicted, s.Rejected, s.Cleared)
	fmt.Fprintf(out, "Other traces: ")
	for _, name := range strings.Split(workflowNames(), ", ") {
		if name != workflow {
			fmt.Fprintf(out, "%s (%d events) ", name, len(audit.EventsByTrace(traces[name])))
		}
	}
	fmt.Fprintln(out)

	// 4. Replay the trail as OTel spans, trace ID intact: here to stdout,
	// in production to any OpenTelemetry Collector (see examples/otlp).
	fmt.Fprintf(out, "\nReplaying the trail to stdout through stdouttrace, one span per audit event:\n\n")
	opts := []stdouttrace.Option{stdouttrace.WithWriter(out)}
	if pretty {
		opts = append(opts, stdouttrace.WithPrettyPrint())
	}
	stdout, err := stdouttrace.New(opts...)
	if err != nil {
		return fmt.Errorf("create stdout exporter: %w", err)
	}
	replay := exporter.New(stdout)
	if err := replay.Replay(ctx, trail); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := replay.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down replay exporter: %w", err)
	}
	fmt.Fprintf(out, "\nReplayed %d spans named audit.<type>, each a child of the span of its action in trace %s.\n", len(trail), id)
	if ln == nil {
		return tp.Shutdown(ctx)
	}
	return serve(ctx, out, ln, audit, tracer, id)
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
