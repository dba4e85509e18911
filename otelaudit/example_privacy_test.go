package otelaudit_test

import (
	"bytes"
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// The default level keeps the audit fields and the attributes known to be
// safe; known secrets are removed at every level, and the event says
// which. A rule keeps everything but secrets for one tool.
func ExampleWithPolicy() {
	g := otelaudit.NewGenerator(otelaudit.WithPolicy(otelaudit.Policy{
		Keep:  []string{"ticket.id"},
		Rules: []otelaudit.Rule{{Nodes: []string{"refunds"}, Level: otelaudit.LevelFull}},
	}))
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", "POST"),
		attribute.String("url.full", "https://api.example/refunds?api_key=abc123"),
		attribute.StringSlice("http.request.header.authorization", []string{"Bearer abc123"}),
		attribute.String("ticket.id", "T-42"),
		attribute.String("refund.reason", "damaged"),
	}
	for _, node := range []string{"search", "refunds"} {
		e, _ := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.ResourceAccess, NodeID: node, Attributes: attrs})
		fmt.Println(node + ":")
		for _, kv := range e.Attributes {
			fmt.Printf("  %s=%s\n", kv.Key, kv.Value.Emit())
		}
	}
	// Output:
	// search:
	//   http.request.method=POST
	//   url.full=https://api.example/refunds
	//   ticket.id=T-42
	//   otelaudit.redacted=["url.full","http.request.header.authorization"]
	// refunds:
	//   http.request.method=POST
	//   url.full=https://api.example/refunds
	//   ticket.id=T-42
	//   refund.reason=damaged
	//   otelaudit.redacted=["url.full","http.request.header.authorization"]
}

// Users are stored as keyed pseudonyms; whoever holds the key finds a
// user's events by the clear name, and nobody else learns it.
func ExampleWithPseudonyms() {
	key := bytes.Repeat([]byte{7}, 32) // keyfile.GenerateHMAC makes a random one
	g := otelaudit.NewGenerator(otelaudit.WithPseudonyms(key, otelaudit.FieldHumanOriginID, "account.number"))
	ctx := context.Background()
	for _, user := range []string{"alice", "bob", "alice"} {
		_, _ = g.Record(ctx, otelaudit.Event{Type: otelaudit.ResourceAccess, HumanOriginID: user,
			Attributes: []attribute.KeyValue{attribute.String("account.number", "DE89 3704 0044")}})
	}
	// The lookup: the pseudonym of the clear value, then a query by it.
	alice, _ := g.Pseudonym("alice")
	fmt.Println(alice == otelaudit.Pseudonym(key, "alice"))
	for _, e := range g.EventsByUser(alice) {
		fmt.Println(e.Seq, e.HumanOriginID[:24]+"…", e.Attributes[0].Value.AsString()[:24]+"…")
	}
	// Output:
	// true
	// 1 hmac-sha256:6a8851c590dd… hmac-sha256:2e17303b53da…
	// 3 hmac-sha256:6a8851c590dd… hmac-sha256:2e17303b53da…
}
