package store_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// BenchmarkEvidence builds the evidence bundle of a 10-event trace in
// stores of 1M events and, with OTELAUDIT_BENCH_10M=1, 10M, and reports
// its size as JSON. The stores are built once, in OTELAUDIT_BENCH_DIR
// when set (and kept there for later runs), else in a temporary
// directory; building 10M takes minutes and about 4 GB: run it outside CI.
//
// The trail interleaves traces as concurrent workflows do: each block of
// 100 consecutive events holds 10 traces of 10 events each.
func BenchmarkEvidence(b *testing.B) {
	sizes := []int{1_000_000}
	if os.Getenv("OTELAUDIT_BENCH_10M") == "1" {
		sizes = append(sizes, 10_000_000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			st, pub := evidenceStore(b, n)
			defer st.Close()
			// A trace in the middle of the trail.
			id := benchTrace(n / 2)
			var size int
			b.ResetTimer()
			for range b.N {
				bundle, err := st.Evidence(id)
				if err != nil {
					b.Fatal(err)
				}
				js, err := json.Marshal(bundle)
				if err != nil {
					b.Fatal(err)
				}
				size = len(js)
			}
			b.StopTimer()
			bundle, _ := st.Evidence(id)
			if len(bundle.Events) != 10 {
				b.Fatalf("%d events in the trace", len(bundle.Events))
			}
			if _, err := bundle.Verify(pub); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(size), "bytes/bundle")
			b.ReportMetric(float64(len(bundle.Hashes)), "proof-hashes")
		})
	}
}

func benchTrace(i int) trace.TraceID {
	block, k := i/100, i%10
	return trace.TraceID{0xbe, byte(block >> 24), byte(block >> 16), byte(block >> 8), byte(block), byte(k)}
}

// evidenceStore returns a signed store of n events, built once.
func evidenceStore(b *testing.B, n int) (*store.Store, ed25519.PublicKey) {
	dir := os.Getenv("OTELAUDIT_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "evidence-"+strconv.Itoa(n)+".db")
	keyPath := path + ".seed"
	if seed, err := os.ReadFile(keyPath); err == nil && len(seed) == ed25519.SeedSize {
		if st, err := store.Open(path, store.WithReadOnly()); err == nil {
			return st, ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		}
	}
	_ = os.Remove(path)
	pub, priv, _ := ed25519.GenerateKey(nil)
	start := time.Now()
	st, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithStoreWait(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	events := benchEvents["runs"]
	for i := range n {
		e := events[i%len(events)]
		e.TraceID = benchTrace(i)
		if _, err := g.Append(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	built := time.Since(start)
	if err := os.WriteFile(keyPath, priv.Seed(), 0o600); err != nil {
		b.Fatal(err)
	}
	open := time.Now()
	st, err = store.Open(path, store.WithReadOnly())
	if err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(path)
	b.Logf("built a store of %d events in %s (%d bytes, %.0f bytes/event); opening it (which verifies it) took %s",
		n, built.Round(time.Millisecond), fi.Size(), float64(fi.Size())/float64(n), time.Since(open).Round(time.Millisecond))
	return st, pub
}
