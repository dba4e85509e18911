package processor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
	"github.com/otelaudit/otelaudit-go/store"
)

// A tool requires the audit of what it is about to do from inside its own
// span: the intent takes the span's identity, and its receipt proves the
// span's node_start durable too.
func ExampleProcessor_Require() {
	dir, err := os.MkdirTemp("", "audit")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "audit.db"))
	if err != nil {
		panic(err)
	}
	audit, err := otelaudit.New(otelaudit.WithStore(st))
	if err != nil {
		panic(err)
	}
	defer func() { _ = audit.Shutdown(context.Background()) }()
	auditor := processor.New(audit)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(auditor))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	// The runtime starts the tool's span; the processor records node_start.
	ctx, span := tp.Tracer("agent-runtime").Start(context.Background(), "execute_tool charge_card", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.agent.id", "billing-agent"),
		attribute.String("node.id", "pay"),
		attribute.String("audit.resource", "payments://cards/alice"),
	))
	// The tool, inside it: no charge without a receipt.
	receipt, err := auditor.Require(ctx, otelaudit.Event{Type: otelaudit.ResourceAccess, Action: "charge 42.00 EUR"})
	if err != nil {
		span.End()
		fmt.Println("not charged:", err)
		return
	}
	fmt.Println("durable up to seq", audit.Stats().Durable, "with the intent, seq", receipt.Seq)
	// The charge is made; its outcome needs no wait: a span event, which
	// the processor records when the span ends.
	span.AddEvent("audit.resource_access", trace.WithAttributes(
		attribute.String("audit.action", "charge 42.00 EUR"),
		attribute.String("audit.outcome", "success"),
		attribute.Int64("intent.seq", int64(receipt.Seq)),
	))
	span.End()

	for _, e := range audit.EventsByTrace(span.SpanContext().TraceID()) {
		fmt.Printf("%d %-15s %-13s %-4s %-22s %-7s %s\n", e.Seq, e.Type, e.AgentID, e.NodeID, e.Resource, e.Outcome, e.Action)
	}
	// Output:
	// durable up to seq 2 with the intent, seq 2
	// 1 node_start      billing-agent pay  payments://cards/alice         execute_tool charge_card
	// 2 resource_access billing-agent pay  payments://cards/alice         charge 42.00 EUR
	// 3 resource_access billing-agent pay  payments://cards/alice success charge 42.00 EUR
	// 4 node_end        billing-agent pay  payments://cards/alice success execute_tool charge_card
}
