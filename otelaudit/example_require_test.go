package otelaudit_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// Intent before act: a high-risk action goes ahead only once the trail
// durably holds the intent to do it, and its outcome is recorded after.
func ExampleGenerator_Require() {
	dir, err := os.MkdirTemp("", "audit")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "audit.db"))
	if err != nil {
		panic(err)
	}
	pub, key, _ := ed25519.GenerateKey(nil)
	audit, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(key))
	if err != nil {
		panic(err)
	}
	defer func() { _ = audit.Shutdown(context.Background()) }()

	charge := func(ctx context.Context, audit *otelaudit.Generator, amount string) error {
		// 1. The intent: durable, and signed, before the act.
		receipt, err := audit.Require(ctx, otelaudit.Event{
			Type:     otelaudit.ResourceAccess,
			AgentID:  "billing-agent",
			Action:   "charge " + amount,
			Resource: "payments://cards/alice",
		})
		if err != nil {
			return fmt.Errorf("not charged: %w", err) // fail closed
		}
		fmt.Printf("receipt: seq %d, verifies: %v\n", receipt.Seq, receipt.Verify(pub) == nil)
		// 2. The act, here a payment provider's call.
		paymentID := "pay-0001"
		// 3. The outcome, tied to the intent by its Seq.
		_, err = audit.Record(ctx, otelaudit.Event{
			Type:     otelaudit.ResourceAccess,
			AgentID:  "billing-agent",
			Action:   "charge " + amount,
			Resource: "payments://cards/alice",
			Outcome:  otelaudit.Success,
			Attributes: []attribute.KeyValue{
				attribute.Int64("intent.seq", int64(receipt.Seq)),
				attribute.String("payment.id", paymentID),
			},
		})
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := charge(ctx, audit, "42.00 EUR"); err != nil {
		panic(err)
	}
	for _, e := range audit.Events(0) {
		fmt.Printf("%d %s %q %q\n", e.Seq, e.Type, e.Action, e.Outcome)
	}

	// Without a store nothing is durable: Require refuses, and records
	// nothing.
	err = charge(ctx, otelaudit.NewGenerator(), "42.00 EUR")
	fmt.Println(errors.Is(err, otelaudit.ErrNoReceipt), errors.Is(err, otelaudit.ErrNoStore))
	// Output:
	// receipt: seq 1, verifies: true
	// 1 resource_access "charge 42.00 EUR" ""
	// 2 resource_access "charge 42.00 EUR" "success"
	// true true
}
