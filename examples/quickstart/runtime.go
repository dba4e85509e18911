package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// A toy agent runtime: each run is a workflow whose planner agent calls
// tools. It knows nothing about auditing; it traces with OpenTelemetry as a
// real runtime does, with the GenAI and workflow attributes.

type workflowRun struct {
	workflow string
	user     string
	tools    []toolCall
}

type toolCall struct {
	node     string
	tool     string
	resource string
	fail     bool   // the tool returns an error
	deny     bool   // the trust check refuses the call
	amount   string // a payment: charged only with a receipt (see payment.go)
}

// runs are the workflows started in parallel. One payment is made, on a
// receipt, one tool fails and one payment is denied by the trust check, so
// the trail has something to show.
var runs = []workflowRun{
	{"trip-planner", "alice", []toolCall{
		{node: "search", tool: "search_flights", resource: "https://flights.example/api"},
		{node: "book", tool: "book_hotel", resource: "https://hotels.example/api"},
		{node: "pay", tool: "charge_card", resource: "payments://cards/alice", amount: "420.00 EUR"},
		{node: "upgrade", tool: "charge_card", resource: "payments://cards/alice", amount: "180.00 EUR", deny: true},
	}},
	{"expense-report", "bob", []toolCall{
		{node: "ocr", tool: "read_receipts", resource: "s3://receipts/bob"},
		{node: "submit", tool: "submit_report", resource: "https://erp.example/reports", fail: true},
	}},
	{"support-triage", "carol", []toolCall{
		{node: "fetch", tool: "fetch_ticket", resource: "https://tickets.example/T-1042"},
		{node: "classify", tool: "classify_ticket", resource: "model://classifier"},
	}},
	{"code-review", "dave", []toolCall{
		{node: "diff", tool: "fetch_diff", resource: "git://repo/pull/7"},
		{node: "lint", tool: "run_linter", resource: "exec://golangci-lint"},
		{node: "comment", tool: "post_comment", resource: "https://git.example/pull/7"},
	}},
}

var errToolFailed = errors.New("upstream returned 503")

// runAll runs every workflow on its own goroutine and returns the trace ID
// of each, by workflow name. Payments go through pay.
func runAll(ctx context.Context, tracer trace.Tracer, pay *payments) map[string]trace.TraceID {
	var mu sync.Mutex
	ids := map[string]trace.TraceID{}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() {
			id := r.execute(ctx, tracer, pay)
			mu.Lock()
			ids[r.workflow] = id
			mu.Unlock()
		})
	}
	wg.Wait()
	return ids
}

func (r workflowRun) execute(ctx context.Context, tracer trace.Tracer, pay *payments) trace.TraceID {
	agent := r.workflow + "-agent"
	ctx, wf := tracer.Start(ctx, "invoke_agent "+agent, trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.id", agent),
		attribute.String("workflow.id", r.workflow),
		attribute.String("enduser.id", r.user),
		// Content: the processor keeps it out of the audit trail by default.
		attribute.String("gen_ai.input.messages", "[{\"role\":\"user\",\"content\":\"...\"}]"),
	))
	defer wf.End()
	for _, c := range r.tools {
		if err := c.execute(ctx, tracer, pay, r, agent); err != nil {
			wf.SetStatus(codes.Error, err.Error())
			return wf.SpanContext().TraceID()
		}
	}
	return wf.SpanContext().TraceID()
}

func (c toolCall) execute(ctx context.Context, tracer trace.Tracer, pay *payments, r workflowRun, agent string) error {
	ctx, sp := tracer.Start(ctx, "execute_tool "+c.tool, trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.tool.name", c.tool),
		attribute.String("gen_ai.agent.id", agent),
		attribute.String("workflow.id", r.workflow),
		attribute.String("node.id", c.node),
		attribute.String("enduser.id", r.user),
		attribute.String("audit.resource", c.resource),
	))
	defer sp.End()

	// The runtime's trust check, reported as an audit span event.
	if c.deny {
		sp.AddEvent("audit.trust_denied", trace.WithAttributes(
			attribute.String("audit.resource", c.resource),
			attribute.String("policy", "payments over the trip's budget need a human approval"),
		))
		err := errors.New("trust check denied " + c.tool)
		sp.SetStatus(codes.Error, err.Error())
		return err
	}
	if c.amount != "" {
		if err := pay.charge(ctx, tracer, sp, r, agent, c); err != nil {
			sp.SetStatus(codes.Error, err.Error())
			return err
		}
		return nil
	}
	sp.AddEvent("audit.trust_verification", trace.WithAttributes(attribute.String("policy", "default")))

	time.Sleep(time.Duration(2+rand.IntN(8)) * time.Millisecond) // the tool's work
	sp.AddEvent("audit.resource_access", trace.WithAttributes(attribute.String("audit.action", "call "+c.tool)))
	if c.fail {
		sp.RecordError(errToolFailed)
		sp.SetStatus(codes.Error, errToolFailed.Error())
		return errToolFailed
	}
	return nil
}
