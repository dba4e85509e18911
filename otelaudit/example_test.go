package otelaudit_test

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Record takes the trace context from ctx: an event recorded inside a span
// lands in that span's trace.
func ExampleGenerator_Record() {
	g := otelaudit.NewGenerator()
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("runtime").Start(context.Background(), "approve payment")
	defer span.End()

	e, err := g.Record(ctx, otelaudit.Event{
		Type:       otelaudit.TrustVerification,
		AgentID:    "billing-agent",
		Resource:   "payments://invoices/42",
		Outcome:    otelaudit.Success,
		Attributes: []attribute.KeyValue{attribute.String("policy", "two-person rule")},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Seq, e.Type, e.TraceID == span.SpanContext().TraceID(), e.SpanID == span.SpanContext().SpanID())

	_, err = g.Record(ctx, otelaudit.Event{AgentID: "billing-agent"})
	fmt.Println(errors.Is(err, otelaudit.ErrEmptyType))
	// Output:
	// 1 trust_verification true true
	// true
}

// EventsByTrace answers "what happened in trace X?", oldest first.
func ExampleGenerator_EventsByTrace() {
	g := otelaudit.NewGenerator()
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("runtime").Start(context.Background(), "workflow")
	for _, t := range []otelaudit.EventType{otelaudit.WorkflowStart, otelaudit.ResourceAccess, otelaudit.WorkflowEnd} {
		if _, err := g.Record(ctx, otelaudit.Event{Type: t, AgentID: "planner"}); err != nil {
			panic(err)
		}
	}
	span.End()
	// Another trace's events are not part of the answer.
	_, _ = g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeStart})

	for _, e := range g.EventsByTrace(span.SpanContext().TraceID()) {
		fmt.Println(e.Seq, e.Type)
	}
	// Output:
	// 1 workflow_start
	// 2 resource_access
	// 3 workflow_end
}

// At the capacity bound the default policy evicts the oldest events and
// counts them; nothing leaves uncounted.
func ExampleWithCapacity() {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(2))
	for i := 0; i < 5; i++ {
		_, _ = g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd})
	}
	s := g.Stats()
	fmt.Printf("recorded %d, held %d, evicted %d\n", s.Recorded, s.Len, s.Evicted)
	for _, e := range g.Events(0) {
		fmt.Println(e.Seq)
	}
	// Output:
	// recorded 5, held 2, evicted 3
	// 4
	// 5
}

// Under RejectNew a full Generator refuses new events instead.
func ExampleWithFullPolicy() {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(1), otelaudit.WithFullPolicy(otelaudit.RejectNew))
	_, _ = g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd})
	_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd})
	fmt.Println(errors.Is(err, otelaudit.ErrFull), g.Stats().Rejected)
	// Output:
	// true 1
}

// A process that records much, queries rarely and has no core to spare
// turns the catch-up worker off: the first query after new events then
// indexes and seals them itself. Answers are the same either way.
func ExampleWithCatchUpInterval() {
	g := otelaudit.NewGenerator(otelaudit.WithCatchUpInterval(0))
	defer func() { _ = g.Shutdown(context.Background()) }()
	for _, agent := range []string{"planner", "booker", "planner"} {
		_, _ = g.Append(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, AgentID: agent})
	}
	for _, e := range g.EventsByAgent("planner") {
		fmt.Println(e.Seq, e.AgentID)
	}
	// Output:
	// 1 planner
	// 3 planner
}
