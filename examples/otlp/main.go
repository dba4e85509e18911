// Command otlp records a small audit trail and replays it to an
// OpenTelemetry Collector (or any OTLP/gRPC endpoint), trace IDs intact, so
// the audit events sit beside the runtime's own traces in the backend.
//
//	go run ./examples/otlp -endpoint localhost:4317
//
// The endpoint comes from -endpoint, else OTEL_EXPORTER_OTLP_ENDPOINT, else
// localhost:4317. When nothing answers there the program says so and exits
// non-zero within -timeout; it never hangs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

const defaultEndpoint = "localhost:4317"

func main() {
	endpoint := flag.String("endpoint", "", "OTLP/gRPC endpoint: host:port or http://host:port (plain), https://host:port (TLS) (default: $OTEL_EXPORTER_OTLP_ENDPOINT, else "+defaultEndpoint+")")
	timeout := flag.Duration("timeout", 5*time.Second, "give up on the endpoint after this long")
	flag.Parse()
	hostport, secure := resolveEndpoint(*endpoint)
	if err := run(os.Stdout, hostport, secure, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "otlp:", err)
		os.Exit(1)
	}
}

// resolveEndpoint picks the endpoint and splits off its scheme: the gRPC
// exporter wants host:port. https:// means TLS; http:// or no scheme means
// a plain connection, as to a local collector.
func resolveEndpoint(flagValue string) (hostport string, secure bool) {
	ep := flagValue
	if ep == "" {
		ep = os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if ep == "" {
		ep = defaultEndpoint
	}
	if u, err := url.Parse(ep); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		return u.Host, u.Scheme == "https"
	}
	return ep, false
}

func run(out io.Writer, endpoint string, secure bool, timeout time.Duration) error {
	ctx := context.Background()

	// A runtime traced with the audit processor registered.
	audit := otelaudit.NewGenerator()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("otlp-example-agent"))),
		sdktrace.WithSpanProcessor(processor.New(audit)),
	)
	tracer := tp.Tracer("example.com/agent-runtime")
	wctx, wf := tracer.Start(ctx, "invoke_agent support", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.id", "support-agent"),
		attribute.String("workflow.id", "support-triage"),
	))
	_, tool := tracer.Start(wctx, "execute_tool refund", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.agent.id", "support-agent"),
		attribute.String("node.id", "refund"),
	))
	tool.AddEvent("audit.trust_denied", trace.WithAttributes(attribute.String("audit.resource", "payments://refunds")))
	tool.SetStatus(codes.Error, "refund needs approval")
	tool.End()
	wf.End()
	if err := tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down tracer provider: %w", err)
	}
	id := wf.SpanContext().TraceID()
	trail := audit.EventsByTrace(id)

	// Replay to the collector. Retries are the exporter's business in
	// production; here a dead endpoint should fail fast and clearly.
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	opts := []otlptracegrpc.Option{
		otlptracegrpc.WithEndpoint(endpoint),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
	}
	if !secure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	otlp, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return fmt.Errorf("create OTLP exporter for %s: %w", endpoint, err)
	}
	replay := exporter.New(otlp)
	defer func() { _ = replay.Shutdown(context.Background()) }()
	if err := replay.Replay(ctx, trail); err != nil {
		hint := ""
		if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Unavailable") {
			hint = fmt.Sprintf("\nis an OpenTelemetry Collector listening for OTLP/gRPC on %s? (set -endpoint or OTEL_EXPORTER_OTLP_ENDPOINT)", endpoint)
		}
		return fmt.Errorf("replay %d audit events of trace %s to %s: %w%s", len(trail), id, endpoint, err, hint)
	}
	fmt.Fprintf(out, "Replayed %d audit events of trace %s to %s.\n", len(trail), id, endpoint)
	fmt.Fprintf(out, "Look for spans named audit.* in trace %s in your backend.\n", id)
	return nil
}
