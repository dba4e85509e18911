package exporter

import (
	"context"
	"fmt"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// LogExporter replays audit events as OpenTelemetry log records to an
// sdklog.Exporter: stdoutlog, otlploggrpc, otlploghttp, or any other. It is
// the log-side twin of Exporter, with the same contract: synchronous,
// bounded batches, nothing dropped silently, safe for concurrent use with
// export calls serialized, as an sdklog.Exporter requires.
//
// The zero LogExporter is not usable: every method returns ErrNilExporter.
type LogExporter struct {
	exp sdklog.Exporter
	r   replayer

	// templates holds an empty record per resource and scope (see
	// template). Under r.lock.
	templates map[templateKey]recordTemplate
	// lastSource and lastTemplate are the Source of the last record built
	// and its template (see sourceTemplate). Under r.lock.
	lastSource   *otelaudit.Source
	lastTemplate *sdklog.Record
}

// NewLogExporter returns a LogExporter that replays to exp. The options are
// those of New: WithBatchSize bounds the records per Export call,
// WithResource gives the resource of events without a Source. Like New, it
// never fails: with a nil exp every method returns ErrNilExporter.
func NewLogExporter(exp sdklog.Exporter, opts ...Option) *LogExporter {
	return &LogExporter{exp: exp, r: newReplayer("log exporter", opts)}
}

func (x *LogExporter) usable(op string) error {
	if x == nil || x.exp == nil || !x.r.usable() {
		return fmt.Errorf("log exporter: %s: %w", op, ErrNilExporter)
	}
	return nil
}

// Replay exports one log record per event, in the order given, in batches
// of at most the configured batch size, and returns once the last batch has
// been exported. The record format is described in the package
// documentation. Everything Exporter.Replay says of checking, failures,
// context and concurrency holds here too, with one difference: log records
// have no ID, so a backend that receives a replayed batch twice cannot tell
// by ID; audit.event.seq, with the resource, names the event.
//
// The observed timestamp of every record of a batch is the time the batch
// was built, just before its Export call.
func (x *LogExporter) Replay(ctx context.Context, events []otelaudit.Event) error {
	if err := x.usable("replay"); err != nil {
		return err
	}
	return x.r.replay(ctx, events, func(ctx context.Context, batch []otelaudit.Event) error {
		observed := time.Now()
		records := make([]sdklog.Record, len(batch))
		for i := range batch {
			records[i] = x.record(&batch[i], observed)
		}
		return x.exp.Export(ctx, records)
	})
}

// ForceFlush waits, within ctx, for the Replay in flight, if any, then
// flushes the sdklog.Exporter, which may buffer. After Shutdown it returns
// nil at once.
func (x *LogExporter) ForceFlush(ctx context.Context) error {
	if err := x.usable("force flush"); err != nil {
		return err
	}
	return x.r.forceFlush(ctx, x.exp.ForceFlush)
}

// Shutdown refuses new Replay calls from the moment it is called, waits
// within ctx for the one in flight, then shuts down the sdklog.Exporter
// with ctx and returns its error; as Exporter.Shutdown, it calls the
// sdklog.Exporter's Shutdown once.
func (x *LogExporter) Shutdown(ctx context.Context) error {
	if err := x.usable("shutdown"); err != nil {
		return err
	}
	return x.r.shutdown(ctx, x.exp.Shutdown)
}
