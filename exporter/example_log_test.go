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
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Replay the audit trail of one trace as log records to stdoutlog. The
// JSON is long, so this example captures it and prints the fields a SIEM
// rule would look at; pass os.Stdout to stdoutlog.WithWriter to see all of
// it. In production, pass otlploggrpc or otlploghttp to a Collector.
func ExampleLogExporter_Replay() {
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	toolSpan, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	at := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

	// In a program these come from a Generator: g.EventsByTrace(traceID).
	events := []otelaudit.Event{
		{
			Seq: 1, Type: otelaudit.TrustVerification, Time: at,
			TraceID: traceID, SpanID: toolSpan, AgentID: "planner",
			Action: "execute_tool http_get", Resource: "https://api.example", Outcome: otelaudit.Success,
		},
		{
			Seq: 2, Type: otelaudit.TrustDenied, Time: at.Add(time.Millisecond),
			TraceID: traceID, SpanID: toolSpan, AgentID: "planner",
			Action: "execute_tool charge_card", Resource: "payments://cards/alice", Outcome: otelaudit.Denied,
			Attributes: []attribute.KeyValue{attribute.String("policy", "no-payments")},
		},
	}

	var out bytes.Buffer
	stdout, err := stdoutlog.New(stdoutlog.WithWriter(&out))
	if err != nil {
		log.Fatal(err)
	}
	exp := exporter.NewLogExporter(stdout,
		exporter.WithResource(resource.NewSchemaless(attribute.String("service.name", "audit-replay"))))
	ctx := context.Background()
	if err := exp.Replay(ctx, events); err != nil {
		log.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}

	dec := json.NewDecoder(&out)
	for {
		var r stdoutlogRecord
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s trace=%s span=%s\n  %q\n ", r.EventName, r.SeverityText, r.TraceID, r.SpanID, r.Body.Value)
		for _, kv := range r.Attributes {
			fmt.Printf(" %s=%v", kv.Key, kv.Value.Value)
		}
		fmt.Println()
	}

	// Output:
	// audit.trust_verification INFO trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7
	//   "trust_verification: execute_tool http_get on https://api.example (success)"
	//   audit.event.type=trust_verification audit.event.seq=1 audit.outcome=success audit.agent.id=planner audit.action=execute_tool http_get audit.resource=https://api.example
	// audit.trust_denied WARN trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7
	//   "trust_denied: execute_tool charge_card on payments://cards/alice (denied)"
	//   audit.event.type=trust_denied audit.event.seq=2 audit.outcome=denied audit.agent.id=planner audit.action=execute_tool charge_card audit.resource=payments://cards/alice policy=no-payments
}

// siem stands for a log pipeline: it prints what it receives.
type siem struct{}

func (siem) Export(_ context.Context, records []sdklog.Record) error {
	for _, r := range records {
		fmt.Println("received", r.EventName(), r.Severity(), r.Body().AsString())
	}
	return nil
}

func (siem) ForceFlush(context.Context) error { return nil }
func (siem) Shutdown(context.Context) error   { return nil }

// A log Stream follows a Generator (or a store) and exports each new event
// as a log record: the same engine as NewStream, with another output.
func ExampleNewLogStream() {
	g := otelaudit.NewGenerator()
	s, err := exporter.NewLogStream(exporter.FollowGenerator(g), siem{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, err := g.Append(ctx, otelaudit.Event{Type: otelaudit.TrustDenied, AgentID: "billing", Resource: "payments", Outcome: otelaudit.Denied}); err != nil {
		panic(err)
	}
	if err := s.Shutdown(ctx); err != nil { // delivers what was recorded
		panic(err)
	}
	fmt.Println("exported", s.Stats().Exported)
	// Output:
	// received audit.trust_denied WARN trust_denied: payments (denied)
	// exported 1
}
