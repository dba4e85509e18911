package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// A toy agent runtime: each run is a workflow whose planner agent calls
// tools. It knows nothing about auditing; it traces with OpenTelemetry as a
// real runtime does, with the GenAI and workflow attributes, and its tools
// call their APIs through the otelhttp instrumentation.

// runtime is what the workflows run with: their tracer, and the HTTP client
// of their tools (see apis.go).
type runtime struct {
	tracer trace.Tracer
	client *http.Client
	pay    *payments // the payment provider, behind receipts (see payment.go)
}

type workflowRun struct {
	workflow string
	user     string
	tools    []toolCall
}

type toolCall struct {
	node     string
	tool     string
	resource string
	call     string // "METHOD URL" the tool requests, if it calls an API
	deny     bool   // the trust check refuses the call
	amount   string // a payment: charged only on a receipt (see payment.go)
}

// runs are the workflows started in parallel. One payment is made on a
// receipt, one is denied by the trust check and one API answers 503, so
// the trail has something to show.
var runs = []workflowRun{
	{"trip-planner", "alice", []toolCall{
		{node: "search", tool: "search_flights", resource: "http://flights.example/api",
			call: "GET http://flights.example/api/search?from=LIS&to=JFK&passenger=alice"},
		{node: "book", tool: "book_hotel", resource: "http://hotels.example/api",
			call: "POST http://hotels.example/api/bookings"},
		{node: "pay", tool: "charge_card", resource: "payments://cards/alice", amount: "420.00 EUR"},
		{node: "upgrade", tool: "charge_card", resource: "payments://cards/alice", amount: "180.00 EUR", deny: true},
	}},
	{"expense-report", "bob", []toolCall{
		{node: "ocr", tool: "read_receipts", resource: "s3://receipts/bob"},
		{node: "submit", tool: "submit_report", resource: "http://erp.example/reports",
			call: "POST http://erp.example/reports"},
	}},
	{"support-triage", "carol", []toolCall{
		{node: "fetch", tool: "fetch_ticket", resource: "http://tickets.example/T-1042",
			call: "GET http://tickets.example/T-1042"},
		{node: "classify", tool: "classify_ticket", resource: "model://classifier"},
	}},
	{"code-review", "dave", []toolCall{
		{node: "diff", tool: "fetch_diff", resource: "git://repo/pull/7"},
		{node: "lint", tool: "run_linter", resource: "exec://golangci-lint"},
		{node: "comment", tool: "post_comment", resource: "http://git.example/pull/7",
			call: "POST http://git.example/pull/7/comments"},
	}},
}

// runAll runs every workflow on its own goroutine and returns the span
// context of each one's root span, by workflow name.
func runAll(ctx context.Context, rt runtime) map[string]trace.SpanContext {
	var mu sync.Mutex
	roots := map[string]trace.SpanContext{}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() {
			sc := r.execute(ctx, rt)
			mu.Lock()
			roots[r.workflow] = sc
			mu.Unlock()
		})
	}
	wg.Wait()
	return roots
}

// execute runs the workflow. Only its root span says who acts (the agent,
// the user): the processor gives it to every event below.
func (r workflowRun) execute(ctx context.Context, rt runtime) trace.SpanContext {
	agent := r.workflow + "-agent"
	ctx, wf := rt.tracer.Start(ctx, "invoke_agent "+agent, trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.id", agent),
		attribute.String("workflow.id", r.workflow),
		attribute.String("enduser.id", r.user),
		// Content: the processor keeps it out of the audit trail by default.
		attribute.String("gen_ai.input.messages", "[{\"role\":\"user\",\"content\":\"...\"}]"),
	))
	defer wf.End()
	for _, c := range r.tools {
		if err := c.execute(ctx, rt); err != nil {
			wf.SetStatus(codes.Error, err.Error())
			return wf.SpanContext()
		}
	}
	return wf.SpanContext()
}

func (c toolCall) execute(ctx context.Context, rt runtime) error {
	ctx, sp := rt.tracer.Start(ctx, "execute_tool "+c.tool, trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.tool.name", c.tool),
		attribute.String("node.id", c.node),
		attribute.String("audit.resource", c.resource),
	))
	defer sp.End()

	// The runtime's trust check, reported as a span of its own that says
	// which audit event it is.
	verdict, policy := "trust_verification", "default"
	if c.deny {
		verdict, policy = "trust_denied", "payments over the trip's budget need a human approval"
	}
	_, check := rt.tracer.Start(ctx, "trust_check "+c.tool, trace.WithAttributes(
		attribute.String("audit.event.type", verdict),
		attribute.String("audit.resource", c.resource),
		attribute.String("policy", policy),
	))
	check.End()
	if c.deny {
		err := errors.New("trust check denied " + c.tool)
		sp.SetStatus(codes.Error, err.Error())
		return err
	}
	if c.amount != "" {
		if err := rt.pay.charge(ctx, sp, c); err != nil {
			sp.SetStatus(codes.Error, err.Error())
			return err
		}
		return nil
	}

	if c.call == "" {
		// A tool without an API client: it reports its access as an audit
		// span event.
		time.Sleep(time.Duration(2+rand.IntN(8)) * time.Millisecond) // the tool's work
		sp.AddEvent("audit.resource_access", trace.WithAttributes(attribute.String("audit.action", "call "+c.tool)))
		return nil
	}
	// The otelhttp client span of this request becomes a resource_access.
	method, url, _ := strings.Cut(c.call, " ")
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := rt.client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode >= 500 {
			err = fmt.Errorf("%s answered %s", req.Host, resp.Status)
		}
	}
	if err != nil {
		sp.RecordError(err)
		sp.SetStatus(codes.Error, err.Error())
	}
	return err
}
