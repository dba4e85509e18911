package store_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// BenchmarkOpen measures store.Open, as a runtime opens its store (for
// writing, WithPublicKey), then Close, over a store of verifyEvents events
// written with a signing key, every commit signed (built once, outside
// the timer). "tail" is Open's own check (the tail after the signed head:
// here none, as a store written with the key leaves it); "full" is Open
// WithFullVerify, every event, index entry, checkpoint and bbolt page, what
// Open did before, in the same run; "tail+first-trace" adds the first
// EventsByTrace after Open, which checks the tile of the trace's events
// against the verified tree. It reports ms/open and, for the others,
// x-full: their time over full's.
func BenchmarkOpen(b *testing.B) {
	n := verifyEvents(b)
	path := filepath.Join(b.TempDir(), "audit.db")
	pub, priv, _ := ed25519.GenerateKey(nil)
	st, err := store.Open(path, store.WithPublicKey(pub))
	if err != nil {
		b.Fatal(err)
	}
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithStoreWait(time.Minute), otelaudit.WithSigningKey(priv))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	events := benchEvents["runs"]
	for i := range n {
		if _, err := g.Append(ctx, events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	trace := events[(n/2)%len(events)].TraceID
	var full float64 // ns per open, from the "full" run
	for _, tc := range []struct {
		name  string
		opts  []store.Option
		query bool
	}{
		{"full", []store.Option{store.WithPublicKey(pub), store.WithFullVerify()}, false},
		{"tail", []store.Option{store.WithPublicKey(pub)}, false},
		{"tail+first-trace", []store.Option{store.WithPublicKey(pub)}, true},
	} {
		b.Run(fmt.Sprintf("events=%d/%s", n, tc.name), func(b *testing.B) {
			for b.Loop() {
				st, err := store.Open(path, tc.opts...)
				if err != nil {
					b.Fatal(err)
				}
				if tc.query {
					got, err := st.EventsByTrace(trace)
					if err != nil || len(got) == 0 {
						b.Fatalf("trace %s: %d events, %v", trace, len(got), err)
					}
				}
				if err := st.Close(); err != nil {
					b.Fatal(err)
				}
			}
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(per/1e6, "ms/open")
			if tc.name == "full" {
				full = per
			} else if full > 0 {
				b.ReportMetric(per/full, "x-full")
			}
		})
	}
}
