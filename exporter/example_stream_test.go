package exporter_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// printer stands for a Collector: it prints what it receives.
type printer struct{}

func (printer) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	for _, s := range spans {
		fmt.Println("received", s.Name())
	}
	return nil
}

func (printer) Shutdown(context.Context) error { return nil }

// A Stream follows a store and exports each event once it is durable; the
// delivered Seq is kept in the store, so the next process resumes after it.
func ExampleNewStream() {
	dir, err := os.MkdirTemp("", "stream-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	for run, typ := range []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd} {
		st, err := store.Open(filepath.Join(dir, "audit.db"))
		if err != nil {
			panic(err)
		}
		g := otelaudit.NewGenerator(otelaudit.WithStore(st))
		s, err := exporter.NewStream(st, printer{}, exporter.WithCursor(st, "collector"))
		if err != nil {
			panic(err)
		}
		if _, err := g.Append(ctx, otelaudit.Event{Type: typ}); err != nil {
			panic(err)
		}
		// Durable first, then delivered; then stop, the store last.
		if err := g.ForceFlush(ctx); err != nil {
			panic(err)
		}
		if err := s.Shutdown(ctx); err != nil {
			panic(err)
		}
		fmt.Println("run", run, "delivered up to seq", s.Stats().Delivered)
		if err := g.Shutdown(ctx); err != nil {
			panic(err)
		}
	}
	// Output:
	// received audit.node_start
	// run 0 delivered up to seq 1
	// received audit.node_end
	// run 1 delivered up to seq 2
}
