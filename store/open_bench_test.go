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
// WithFullVerify, every event, index entry, checkpoint and bbolt page, in
// the same run; "tail+first-trace" adds the first
// EventsByTrace after Open, which checks the tile of the trace's events
// against the verified tree; "tail+generator" a runtime's start and stop
// on it (a Generator with the signing key resumes the store and shuts
// down). It reports ms/open and, for the others, x-full: their time over
// full's.
func BenchmarkOpen(b *testing.B) {
	n := verifyEvents(b)
	path, pub, priv := signedBenchStore(b, n)
	events := benchEvents["runs"]
	trace := events[(n/2)%len(events)].TraceID
	var full float64 // ns per open, from the "full" run
	for _, tc := range []struct {
		name             string
		opts             []store.Option
		query, generator bool
	}{
		{"full", []store.Option{store.WithPublicKey(pub), store.WithFullVerify()}, false, false},
		{"tail", []store.Option{store.WithPublicKey(pub)}, false, false},
		{"tail+first-trace", []store.Option{store.WithPublicKey(pub)}, true, false},
		{"tail+generator", []store.Option{store.WithPublicKey(pub)}, false, true},
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
				if tc.generator {
					// A runtime's start and stop: Resume, and Shutdown's
					// commit releasing what the run reserved.
					g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv))
					if err != nil {
						b.Fatal(err)
					}
					if err := g.Shutdown(context.Background()); err != nil {
						b.Fatal(err)
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

// signedBenchStore writes n events with a signing key, every commit
// signed, and returns the store's path and the key's public half.
func signedBenchStore(b *testing.B, n int) (string, ed25519.PublicKey, ed25519.PrivateKey) {
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
	return path, pub, priv
}

// BenchmarkReadChecks measures what checking reads costs (see "What Open
// checks" in the package documentation): a scan of every event of the
// store of BenchmarkOpen (EventsAfter), with no checks (the anchor), on a
// store just opened (every event rehashed and every tile checked against
// the verified tree), and again (tiles already checked); and the first
// EventsByTrace (32 events) after Open, with and without checks. It
// reports ms/op and x-unchecked, the time over the unchecked run's.
func BenchmarkReadChecks(b *testing.B) {
	n := verifyEvents(b)
	path, pub, _ := signedBenchStore(b, n)
	trace := benchEvents["runs"][(n/2)%len(benchEvents["runs"])].TraceID
	scan := func(st *store.Store) {
		got, err := st.EventsAfter(0, 0)
		if err != nil || len(got) != n {
			b.Fatalf("scanned %d of %d: %v", len(got), n, err)
		}
	}
	query := func(st *store.Store) {
		got, err := st.EventsByTrace(trace)
		if err != nil || len(got) == 0 {
			b.Fatalf("trace %s: %d events, %v", trace, len(got), err)
		}
	}
	for _, what := range []struct {
		name string
		read func(*store.Store)
	}{{"scan", scan}, {"first-trace", query}} {
		var unchecked float64
		for _, tc := range []struct {
			name string
			opts []store.Option
			warm bool
		}{
			{"unchecked", []store.Option{store.WithPublicKey(pub), store.WithoutReadChecks()}, false},
			{"checked", []store.Option{store.WithPublicKey(pub)}, false},
			{"checked-warm", []store.Option{store.WithPublicKey(pub)}, true},
		} {
			b.Run(fmt.Sprintf("events=%d/%s/%s", n, what.name, tc.name), func(b *testing.B) {
				var warm *store.Store
				if tc.warm {
					st, err := store.Open(path, tc.opts...)
					if err != nil {
						b.Fatal(err)
					}
					defer st.Close()
					what.read(st)
					warm = st
				}
				var elapsed time.Duration
				for b.Loop() {
					st := warm
					if st == nil {
						b.StopTimer()
						var err error
						if st, err = store.Open(path, tc.opts...); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					start := time.Now()
					what.read(st)
					elapsed += time.Since(start)
					if warm == nil {
						b.StopTimer()
						if err := st.Close(); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
				}
				per := float64(elapsed.Nanoseconds()) / float64(b.N)
				b.ReportMetric(per/1e6, "ms/read")
				if tc.name == "unchecked" {
					unchecked = per
				} else if unchecked > 0 {
					b.ReportMetric(per/unchecked, "x-unchecked")
				}
			})
		}
	}
}
