package processor_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

func ExampleNew() {
	g := otelaudit.NewGenerator()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(processor.New(g)))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tracer := tp.Tracer("agent-runtime")

	// The runtime traces as it always does.
	ctx, wf := tracer.Start(context.Background(), "plan trip",
		trace.WithAttributes(attribute.String("workflow.id", "trip-42")))
	_, tool := tracer.Start(ctx, "search flights", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.agent.id", "travel-agent"),
		attribute.String("gen_ai.tool.call.arguments", `{"to":"LIS"}`), // content: not audited
	))
	tool.AddEvent("audit.trust_denied", trace.WithAttributes(attribute.String("audit.resource", "payments")))
	tool.SetStatus(codes.Error, "card declined")
	tool.End()
	wf.End()

	// What happened in this trace?
	for _, e := range g.EventsByTrace(wf.SpanContext().TraceID()) {
		fmt.Printf("%d %-14s %-12s %-8s %s\n", e.Seq, e.Type, e.AgentID, e.Outcome, e.Action)
	}
	// Output:
	// 1 workflow_start                       plan trip
	// 2 node_start     travel-agent          search flights
	// 3 trust_denied   travel-agent denied   search flights
	// 4 node_error     travel-agent error    search flights
	// 5 workflow_end                success  plan trip
}
