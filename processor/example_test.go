package processor_test

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

func ExampleNew() {
	g := otelaudit.NewGenerator()
	p := processor.New(g)
	tp := sdktrace.NewTracerProvider(
		// Sample traces as you do; the Sampler records audited spans anyway.
		sdktrace.WithSampler(p.Sampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0.1)))),
		sdktrace.WithSpanProcessor(p),
	)
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tracer := tp.Tracer("agent-runtime")

	// The runtime traces as it always does.
	ctx, wf := tracer.Start(context.Background(), "plan trip", trace.WithAttributes(
		attribute.String("workflow.id", "trip-42"),
		attribute.String("gen_ai.agent.id", "travel-agent"),
	))
	ctx, tool := tracer.Start(ctx, "search flights", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.tool.call.arguments", `{"to":"LIS"}`), // content: not audited
	))
	// An HTTP client span as otelhttp makes it: attributes after the start.
	_, call := tracer.Start(ctx, "HTTP GET", trace.WithSpanKind(trace.SpanKindClient))
	call.SetAttributes(
		attribute.String("http.request.method", "GET"),
		attribute.String("url.full", "https://flights.example/search?to=LIS&card=4111"),
		attribute.Int("http.response.status_code", 403))
	call.End()
	tool.AddEvent("audit.trust_denied", trace.WithAttributes(attribute.String("audit.resource", "payments")))
	tool.SetStatus(codes.Error, "card declined")
	tool.End()
	wf.End()

	// What happened in this trace?
	for _, e := range g.EventsByTrace(wf.SpanContext().TraceID()) {
		line := fmt.Sprintf("%d %-15s %-12s %-7s %-14s %s", e.Seq, e.Type, e.AgentID, e.Outcome, e.Action, e.Resource)
		fmt.Println(strings.TrimSpace(line))
	}
	// Output:
	// 1 workflow_start  travel-agent         plan trip
	// 2 node_start      travel-agent         search flights
	// 3 resource_access travel-agent denied  GET            https://flights.example/search
	// 4 trust_denied    travel-agent denied  search flights payments
	// 5 node_error      travel-agent error   search flights
	// 6 workflow_end    travel-agent success plan trip
}

// A caller whose traceparent says "not sampled" cannot switch auditing
// off: the workflow is audited in full, with the user the caller put in
// W3C Baggage, and exported to nobody.
func ExampleProcessor_Sampler() {
	g := otelaudit.NewGenerator()
	p := processor.New(g)
	exported := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(p.Sampler(nil)), // nil: the SDK's default, ParentBased(AlwaysSample)
		sdktrace.WithSpanProcessor(p),
		sdktrace.WithSyncer(exported),
	)
	defer func() { _ = tp.Shutdown(context.Background()) }()

	// What an HTTP server extracts from the caller's headers.
	incoming := propagation.MapCarrier{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
		"baggage":     "enduser.id=alice",
	}
	ctx := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}).
		Extract(context.Background(), incoming)
	fmt.Println("baggage:", baggage.FromContext(ctx).Member("enduser.id").Value())

	_, wf := tp.Tracer("agent-runtime").Start(ctx, "invoke_agent", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.id", "support-agent")))
	wf.End()

	for _, e := range g.Events(0) {
		fmt.Println(e.Type, e.TraceID, e.AgentID, e.HumanOriginID)
	}
	fmt.Println("exported spans:", len(exported.GetSpans()))
	// Output:
	// baggage: alice
	// workflow_start 4bf92f3577b34da6a3ce929d0e0e4736 support-agent alice
	// workflow_end 4bf92f3577b34da6a3ce929d0e0e4736 support-agent alice
	// exported spans: 0
}
