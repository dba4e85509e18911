package exporter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Replay the audit trail of one trace to stdouttrace. The pretty-printed
// JSON is long, so this example captures it and prints the fields that
// matter; pass os.Stdout to stdouttrace.WithWriter to see all of it.
func ExampleExporter_Replay() {
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	toolSpan, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	start := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

	// In a program these come from a Generator: g.EventsByTrace(traceID).
	events := []otelaudit.Event{
		{
			Seq: 1, Type: otelaudit.NodeStart, Time: start,
			TraceID: traceID, SpanID: toolSpan,
			AgentID: "planner", NodeID: "fetch",
		},
		{
			Seq: 2, Type: otelaudit.NodeEnd, Time: start.Add(250 * time.Millisecond),
			TraceID: traceID, SpanID: toolSpan,
			AgentID: "planner", NodeID: "fetch", Outcome: otelaudit.Denied,
			Duration:   250 * time.Millisecond,
			Attributes: []attribute.KeyValue{attribute.String("gen_ai.tool.name", "http_get")},
		},
	}

	var out bytes.Buffer
	stdout, err := stdouttrace.New(
		stdouttrace.WithWriter(&out),
		stdouttrace.WithoutTimestamps(),
		stdouttrace.WithPrettyPrint(),
	)
	if err != nil {
		log.Fatal(err)
	}
	exp := exporter.New(stdout,
		exporter.WithResource(resource.NewSchemaless(attribute.String("service.name", "audit-replay"))))

	ctx := context.Background()
	if err := exp.Replay(ctx, events); err != nil {
		log.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}

	// Replaying again later would give the same span IDs.
	fmt.Println("span IDs stable:", exporter.SpanID(events[1]).String() == spanIDOf(&out, 1))
	printSpans(&out)

	// Output:
	// span IDs stable: true
	// audit.node_start trace=4bf92f3577b34da6a3ce929d0e0e4736 parent=00f067aa0ba902b7 status=Unset
	//   audit.event.type=node_start audit.event.seq=1 audit.agent.id=planner audit.node.id=fetch
	//   scope=github.com/otelaudit/otelaudit-go/exporter resource service.name=audit-replay
	// audit.node_end trace=4bf92f3577b34da6a3ce929d0e0e4736 parent=00f067aa0ba902b7 status=Error(denied)
	//   audit.event.type=node_end audit.event.seq=2 audit.outcome=denied audit.agent.id=planner audit.node.id=fetch gen_ai.tool.name=http_get
	//   scope=github.com/otelaudit/otelaudit-go/exporter resource service.name=audit-replay
}

// jsonSpan is the part of stdouttrace's JSON the example reads.
type jsonSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ SpanID string }
	Attributes  []jsonKeyValue
	Status      struct{ Code, Description string }
	Resource    []jsonKeyValue
	Scope       struct{ Name string } `json:"InstrumentationScope"`
}

type jsonKeyValue struct {
	Key   string
	Value struct{ Value any }
}

// decodeSpans reads the JSON documents stdouttrace wrote, one per span.
func decodeSpans(r io.Reader) []jsonSpan {
	var spans []jsonSpan
	dec := json.NewDecoder(r)
	for {
		var s jsonSpan
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			return spans
		} else if err != nil {
			log.Fatal(err)
		}
		spans = append(spans, s)
	}
}

func spanIDOf(out *bytes.Buffer, i int) string {
	return decodeSpans(bytes.NewReader(out.Bytes()))[i].SpanContext.SpanID
}

func printSpans(out *bytes.Buffer) {
	for _, s := range decodeSpans(out) {
		status := s.Status.Code
		if s.Status.Description != "" {
			status += "(" + s.Status.Description + ")"
		}
		fmt.Printf("%s trace=%s parent=%s status=%s\n", s.Name, s.SpanContext.TraceID, s.Parent.SpanID, status)
		fmt.Print(" ")
		for _, kv := range s.Attributes {
			fmt.Printf(" %s=%v", kv.Key, kv.Value.Value)
		}
		fmt.Printf("\n  scope=%s resource", s.Scope.Name)
		for _, kv := range s.Resource {
			fmt.Printf(" %s=%v", kv.Key, kv.Value.Value)
		}
		fmt.Println()
	}
}
