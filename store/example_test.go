package store_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
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

// Open checks the tail after the newest checkpoint the key signed, not
// every event: an old event changed by someone without the key does not
// stop it, but every read that reaches the event refuses it, and Verify,
// or Open WithFullVerify, names it.
func ExampleWithFullVerify() {
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
	st, err := store.Open(path, store.WithPublicKey(pub))
	if err != nil {
		panic(err)
	}
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
	if err != nil {
		panic(err)
	}
	for _, action := range []string{"read", "approve", "pay"} {
		if _, err := g.Append(ctx, otelaudit.Event{Type: otelaudit.TrustVerification, Action: action}); err != nil {
			panic(err)
		}
	}
	if err := g.Shutdown(ctx); err != nil {
		panic(err)
	}

	// Someone without the key turns "approve" into "aPprove", in place.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		panic(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		k := binary.BigEndian.AppendUint64(nil, 2)
		v := bytes.Clone(b.Get(k))
		v[bytes.Index(v, []byte("approve"))+1] = 'P'
		return b.Put(k, v)
	})
	if err != nil {
		panic(err)
	}
	if err := db.Close(); err != nil {
		panic(err)
	}

	st, err = store.Open(path, store.WithPublicKey(pub))
	fmt.Println("open:", err)
	_, _, err = st.Get(2)
	fmt.Println("read:", errors.Is(err, store.ErrCorrupt))
	if err := st.Close(); err != nil {
		panic(err)
	}
	_, err = store.Open(path, store.WithPublicKey(pub), store.WithFullVerify())
	var ce *otelaudit.ChainError
	fmt.Println("full:", errors.As(err, &ce), ce.Seq)
	// Output:
	// open: <nil>
	// read: true
	// full: true 2
}
