package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

const (
	// defaultEndpoint is where an OpenTelemetry Collector listens for
	// OTLP/gRPC unless told otherwise.
	defaultEndpoint = "localhost:4317"
	// envEndpoint is the variable every OTel SDK reads for the endpoint.
	envEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT"
	// defaultReplayTimeout bounds a replay, connection included: a dead
	// endpoint must end the command, not hang it.
	defaultReplayTimeout = 10 * time.Second
	// shutdownGrace is how long a failed replay still gives the exporter
	// to let go of its connection; its error no longer matters then.
	shutdownGrace = time.Second
)

var replayCommand = &command{
	name:    "replay",
	args:    "[<trace-id>]",
	summary: "replay a trace's events as spans or log records, to stdout or OTLP/gRPC",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		traceFlag := fs.String("trace", "", "the trace `id` to replay (or give it as the argument)")
		to := fs.String("to", "stdout", "where to: stdout (pretty-printed JSON) or otlp")
		as := fs.String("as", "spans", "what to send: spans (one per event, in the trace they audit) or logs (one log record per event, the path SIEMs take)")
		endpoint := fs.String("endpoint", "", "with --to otlp: host:port or http://host:port (plain), https://host:port (TLS) (default $"+envEndpoint+", else "+defaultEndpoint+")")
		timeout := fs.Duration("timeout", defaultReplayTimeout, "give up after this long, connecting included")
		return func(args []string) error {
			idText := *traceFlag
			switch {
			case idText == "" && len(args) == 1:
				idText = args[0]
			case len(args) > 0:
				return usageErrorf("replay: unexpected argument %q", args[0])
			case idText == "":
				return usageErrorf("replay: --trace is required (usage: otelaudit replay --trace <trace-id>)")
			}
			id, err := parseTraceID("replay", idText)
			if err != nil {
				return err
			}
			if *to != "stdout" && *to != "otlp" {
				return usageErrorf("replay: --to %q: want stdout or otlp", *to)
			}
			if *as != "spans" && *as != "logs" {
				return usageErrorf("replay: --as %q: want spans or logs", *as)
			}
			if *endpoint != "" && *to != "otlp" {
				return usageErrorf("replay: --endpoint goes with --to otlp")
			}
			if *timeout <= 0 {
				return usageErrorf("replay: --timeout %s: want a positive duration", *timeout)
			}
			st, err := openForReading(e, "replay", *db)
			if err != nil {
				return err
			}
			defer st.Close()
			path := st.Path()
			events, err := readTrail(e, st, func() ([]otelaudit.Event, error) { return st.EventsByTrace(id) })
			if err != nil {
				return err
			}
			if len(events) == 0 {
				return failErrorf("no events of trace %s in %s", id, path)
			}

			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			defer cancel()
			var (
				x        replayer
				dest     = "stdout"
				hostport string
			)
			if *to == "otlp" {
				var secure bool
				hostport, secure = resolveEndpoint(*endpoint, e.getenv)
				dest = hostport
				if x, err = newOTLPReplayer(ctx, *as, hostport, secure); err != nil {
					return err
				}
			} else if x, err = newStdoutReplayer(*as, e.stdout); err != nil {
				return err
			}
			if err := x.Replay(ctx, events); err != nil {
				sctx, scancel := context.WithTimeout(context.Background(), shutdownGrace)
				defer scancel()
				_ = x.Shutdown(sctx)
				return failErrorf("replay: %s of trace %s to %s: %v%s", plural(uint64(len(events)), "event"), id, dest, err, endpointHint(err, hostport))
			}
			if err := x.Shutdown(ctx); err != nil {
				return failErrorf("replay: %s of trace %s to %s: %v%s", plural(uint64(len(events)), "event"), id, dest, err, endpointHint(err, hostport))
			}
			what := "spans"
			look := "look for spans named audit.* in that trace in your backend"
			if *as == "logs" {
				what = "log records"
				look = "look for log records with event names audit.* and that trace ID in your log backend"
			}
			msg := fmt.Sprintf("replayed %s of trace %s to %s as %s", plural(uint64(len(events)), "event"), id, dest, what)
			if *to == "stdout" {
				// The records are on stdout; the summary stays out of them.
				notef(e, "%s", msg)
			} else {
				fmt.Fprintf(e.stdout, "%s; %s\n", msg, look)
			}
			return nil
		}
	},
}

// replayer is what the replay command needs of exporter.Exporter and
// exporter.LogExporter.
type replayer interface {
	Replay(ctx context.Context, events []otelaudit.Event) error
	Shutdown(ctx context.Context) error
}

// newStdoutReplayer replays as pretty-printed JSON to w: stdouttrace's
// spans or stdoutlog's records.
func newStdoutReplayer(as string, w io.Writer) (replayer, error) {
	if as == "logs" {
		lx, err := stdoutlog.New(stdoutlog.WithWriter(w), stdoutlog.WithPrettyPrint())
		if err != nil {
			return nil, fmt.Errorf("replay: stdout log exporter: %w", err)
		}
		return exporter.NewLogExporter(lx), nil
	}
	sx, err := stdouttrace.New(stdouttrace.WithWriter(w), stdouttrace.WithPrettyPrint())
	if err != nil {
		return nil, fmt.Errorf("replay: stdout exporter: %w", err)
	}
	return exporter.New(sx), nil
}

// resolveEndpoint picks the OTLP endpoint as the OTel SDKs do (flag, then
// environment, then the default) and splits off its scheme, since the gRPC
// exporter wants host:port: https:// means TLS, http:// or none plain, as
// to a collector on the same host.
func resolveEndpoint(flagValue string, getenv func(string) string) (hostport string, secure bool) {
	ep := flagValue
	if ep == "" {
		ep = getenv(envEndpoint)
	}
	if ep == "" {
		ep = defaultEndpoint
	}
	if u, err := url.Parse(ep); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		return u.Host, u.Scheme == "https"
	}
	return ep, false
}

// newOTLPReplayer replays to an OTLP/gRPC endpoint, as spans or as log
// records.
func newOTLPReplayer(ctx context.Context, as, hostport string, secure bool) (replayer, error) {
	if as == "logs" {
		opts := []otlploggrpc.Option{
			otlploggrpc.WithEndpoint(hostport),
			// Retrying is for a long-running process; someone at a prompt
			// wants to hear about a dead endpoint at once.
			otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}),
		}
		if !secure {
			opts = append(opts, otlploggrpc.WithInsecure())
		}
		lx, err := otlploggrpc.New(ctx, opts...)
		if err != nil {
			return nil, usageErrorf("replay: OTLP log exporter for %s: %w", hostport, err)
		}
		return exporter.NewLogExporter(lx), nil
	}
	opts := []otlptracegrpc.Option{
		otlptracegrpc.WithEndpoint(hostport),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
	}
	if !secure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	sx, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, usageErrorf("replay: OTLP exporter for %s: %w", hostport, err)
	}
	return exporter.New(sx), nil
}

// endpointHint adds, to an error that says nothing answered, what to check.
func endpointHint(err error, hostport string) string {
	if hostport == "" {
		return ""
	}
	// status.Code finds a gRPC status wrapped anywhere in err.
	code := status.Code(err)
	if code == codes.Unavailable || code == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf(" (is an OpenTelemetry Collector listening for OTLP/gRPC on %s? set --endpoint or %s)", hostport, envEndpoint)
	}
	return ""
}
