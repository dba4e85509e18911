package otelaudit_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Every event carries its place in the hash chain; Verify checks it, and
// VerifyChain checks events handed around outside the Generator, naming the
// first one altered.
func ExampleVerifyChain() {
	g := otelaudit.NewGenerator()
	for _, agent := range []string{"planner", "booker", "payer"} {
		if _, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, AgentID: agent}); err != nil {
			panic(err)
		}
	}
	fmt.Println(g.Verify())

	trail := g.Events(0)
	fmt.Println(trail[1].PrevHash == trail[0].Hash)
	fmt.Println(otelaudit.VerifyChain(g.Anchor(), trail, nil, nil))

	trail[1].AgentID = "mallory"
	err := otelaudit.VerifyChain(g.Anchor(), trail, nil, nil)
	var ce *otelaudit.ChainError
	fmt.Println(errors.Is(err, otelaudit.ErrChainBroken), errors.As(err, &ce), ce.Seq)
	// Output:
	// <nil>
	// true
	// <nil>
	// true true 2
}

// With a signing key, checkpoints of the chain head are signed; whoever
// holds the public key can later prove that no event up to a checkpoint was
// cut off or rewritten.
func ExampleWithSigningKey() {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	g := otelaudit.NewGenerator(otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(2, 0))
	for range 5 {
		if _, err := g.Record(context.Background(), otelaudit.Event{Type: "tool_call"}); err != nil {
			panic(err)
		}
	}
	for _, c := range g.Checkpoints() {
		fmt.Println(c.Seq, c.VerifySignature(pub))
	}
	// Keep the newest checkpoint elsewhere; then cut the tail off the trail.
	kept := g.Checkpoint()
	err = otelaudit.VerifyChain(g.Anchor(), g.Events(0)[:3], []otelaudit.Checkpoint{kept}, pub)
	var ce *otelaudit.ChainError
	fmt.Println(errors.As(err, &ce), ce.Seq)
	// Output:
	// 2 <nil>
	// 4 <nil>
	// true 4
}
