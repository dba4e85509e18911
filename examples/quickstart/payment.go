package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

// payments is the payment provider behind the charge_card tool, and the
// one part of the runtime that knows about auditing: it charges a card only
// once the trail durably holds the intent to charge it. The tool Requires
// the intent from inside its span (the processor fills in who and where
// from the span), charges, and reports the outcome as a span event, which
// the processor records when the span ends. No receipt, no charge: the
// tool fails instead.
type payments struct {
	auditor *processor.Processor
	pub     ed25519.PublicKey // with -key: to check every receipt

	mu      sync.Mutex
	charges []charged
}

// charged is a charge the provider made, with the receipt it was made on.
type charged struct {
	trace                trace.TraceID
	resource, amount, id string
	receipt              otelaudit.Receipt
}

// charge charges c.amount, in the span sp of the tool call, whose context
// is ctx, once the trust check has let it through.
func (p *payments) charge(ctx context.Context, sp trace.Span, c toolCall) error {
	// 1. The intent, durable (and signed, with -key) before the act.
	action := "charge " + c.amount
	receipt, err := p.auditor.Require(ctx, otelaudit.Event{Type: otelaudit.ResourceAccess, Action: action})
	if err != nil {
		return fmt.Errorf("%s not charged: %w", c.amount, err)
	}
	if p.pub != nil {
		if err := receipt.Verify(p.pub); err != nil {
			return fmt.Errorf("%s not charged: %w", c.amount, err)
		}
	}
	// 2. The act.
	id := fmt.Sprintf("ch_%06d", receipt.Seq)
	p.mu.Lock()
	p.charges = append(p.charges, charged{trace: sp.SpanContext().TraceID(), resource: c.resource, amount: c.amount, id: id, receipt: receipt})
	p.mu.Unlock()
	// 3. The outcome, tied to its intent by Seq.
	sp.AddEvent("audit.resource_access", trace.WithAttributes(
		attribute.String("audit.action", action),
		attribute.String("audit.outcome", string(otelaudit.Success)),
		attribute.String("payment.id", id),
		attribute.Int64("audit.intent.seq", int64(receipt.Seq)),
	))
	return nil
}

// report prints the charges made in the trace id, each with its receipt.
func (p *payments) report(out io.Writer, id trace.TraceID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.charges {
		if c.trace != id {
			continue
		}
		r := c.receipt
		fmt.Fprintf(out, "Charged %s to %s (%s) on receipt seq %d, hash %s: durable in the store before the charge", c.amount, c.resource, c.id, r.Seq, r.Hash)
		if len(r.Checkpoint.Signature) != 0 {
			fmt.Fprintf(out, ", signed (an inclusion proof of %d hashes into the tree of %d events its checkpoint signs), verified with the public key", len(r.Proof), r.Checkpoint.Size)
		}
		fmt.Fprintln(out, ".")
	}
}
