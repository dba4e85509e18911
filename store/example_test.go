package store_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// A Generator with a store attached makes every event durable off the hot
// path; a later process continues the same trail, and anyone can read and
// verify it from the file.
func Example() {
	dir, err := os.MkdirTemp("", "otelaudit-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.db")
	id := trace.TraceID{0x4b, 0xf9}
	ctx := context.Background()

	for run := range 2 {
		st, err := store.Open(path)
		if err != nil {
			panic(err)
		}
		g := otelaudit.NewGenerator(otelaudit.WithStore(st))
		for _, typ := range []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd} {
			if _, err := g.Append(ctx, otelaudit.Event{Type: typ, TraceID: id, AgentID: fmt.Sprint("agent-", run)}); err != nil {
				panic(err)
			}
		}
		// Shutdown flushes every event to the store, then closes it.
		if err := g.Shutdown(ctx); err != nil {
			panic(err)
		}
	}

	st, err := store.Open(path, store.WithReadOnly())
	if err != nil {
		panic(err)
	}
	defer st.Close()
	events, err := st.EventsByTrace(id)
	if err != nil {
		panic(err)
	}
	for _, e := range events {
		fmt.Println(e.Seq, e.Type, e.AgentID)
	}
	rep, err := st.Verify(nil, nil)
	fmt.Println(rep.Events, "events verified:", err)
	// Output:
	// 1 node_start agent-0
	// 2 node_end agent-0
	// 3 node_start agent-1
	// 4 node_end agent-1
	// 4 events verified: <nil>
}

// With a signing key every commit signs its last event. A later run
// without the key can still append, as anyone who can write the file can,
// but verification with the public key names the first event it added, and
// a runtime opening the store for its key refuses to continue it.
func ExampleWithPublicKey() {
	dir, err := os.MkdirTemp("", "otelaudit-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.db")
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	record := func(st *store.Store, opts ...otelaudit.Option) {
		g, err := otelaudit.New(append(opts, otelaudit.WithStore(st))...)
		if err != nil {
			panic(err)
		}
		for range 3 {
			if _, err := g.Append(ctx, otelaudit.Event{Type: otelaudit.TrustVerification}); err != nil {
				panic(err)
			}
		}
		if err := g.Shutdown(ctx); err != nil {
			panic(err)
		}
	}

	st, err := store.Open(path, store.WithPublicKey(pub))
	if err != nil {
		panic(err)
	}
	record(st, otelaudit.WithSigningKey(priv)) // seqs 1 to 3, signed
	st, err = store.Open(path)
	if err != nil {
		panic(err)
	}
	record(st) // seqs 4 to 6, by someone without the key

	_, err = store.Open(path, store.WithPublicKey(pub))
	fmt.Println(errors.Is(err, store.ErrUnsigned))
	st, err = store.Open(path, store.WithReadOnly())
	if err != nil {
		panic(err)
	}
	defer st.Close()
	_, err = st.Verify(pub, nil)
	var ce *otelaudit.ChainError
	fmt.Println(errors.As(err, &ce), ce.Seq)
	// Output:
	// true
	// true 4
}
