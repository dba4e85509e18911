package store_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// BenchmarkRequire measures Require, fail-closed recording, beside its
// anchors in the same run: callers goroutines each make one call after the
// other, and every call's latency is kept. Each sub-benchmark reports
// calls/s, the median and 99th percentile latency (p50-ms, p99-ms), and,
// for ours, events per commit:
//
//   - fsync: what one 4 KiB write and fdatasync costs on this machine, one
//     at a time: the floor of any durable call (a bbolt commit makes two);
//   - bbolt-update: one bbolt transaction of one event per call, one at
//     a time: what a commit costs bbolt alone, two fdatasyncs included;
//   - bbolt-batch: bbolt's own group commit, DB.Batch, one call per event
//     writing the same bytes (value and three index keys): it returns
//     durable, like Require, and waits up to its MaxBatchDelay (10 ms) for
//     more callers;
//   - record: Record on a Generator with a store: returns before the event
//     is durable (fail-open);
//   - require, require-signed: Require, without and with a signing key
//     (every commit signed, every receipt with a verifiable checkpoint),
//     also reporting how long the store's commits took (commit-p50-ms,
//     commit-p99-ms).
func BenchmarkRequire(b *testing.B) {
	b.Run("fsync", benchFsync)
	b.Run("bbolt-update", benchBoltUpdate)
	for _, callers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			b.Run("bbolt-batch", func(b *testing.B) { benchBoltBatchCalls(b, callers) })
			b.Run("record", func(b *testing.B) { benchGeneratorCalls(b, callers, nil, false) })
			b.Run("require", func(b *testing.B) { benchGeneratorCalls(b, callers, nil, true) })
			_, priv, _ := ed25519.GenerateKey(nil)
			b.Run("require-signed", func(b *testing.B) { benchGeneratorCalls(b, callers, priv, true) })
		})
	}
}

func benchFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := f.WriteAt(page, int64(i%256)*4096); err != nil {
			b.Fatal(err)
		}
		if err := fdatasync(f); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	_ = reportCalls(b, [][]time.Duration{lat})
}

func benchBoltUpdate(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("events"))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	data, _ := benchEvents["runs"][0].MarshalBinary()
	value := append(make([]byte, 96), data...)
	_ = runCalls(b, 1, func(s uint64) error {
		return db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("events")).Put(binaryKey(s), value)
		})
	})
}

// runCalls runs b.N calls of call (rounded up to a multiple of callers)
// from callers goroutines, each keeping its calls' latencies, reports them
// and returns how many calls it made.
func runCalls(b *testing.B, callers int, call func(i uint64) error) int {
	lats := make([][]time.Duration, callers)
	per := (b.N + callers - 1) / callers
	var (
		next atomic.Uint64
		wg   sync.WaitGroup
	)
	b.ResetTimer()
	for c := range callers {
		lats[c] = make([]time.Duration, 0, per)
		wg.Go(func() {
			for range per {
				i := next.Add(1)
				start := time.Now()
				if err := call(i); err != nil {
					b.Error(err)
					return
				}
				lats[c] = append(lats[c], time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	return reportCalls(b, lats)
}

// reportCalls reports calls/s over the benchmark's time and the median
// and 99th percentile of the latencies, and returns how many there are.
func reportCalls(b *testing.B, lats [][]time.Duration) int {
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return 0
	}
	slices.Sort(all)
	ms := func(q float64) float64 {
		return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	return len(all)
}

func benchBoltBatchCalls(b *testing.B, callers int) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	names := [][]byte{[]byte("events"), []byte("by_trace"), []byte("by_type"), []byte("by_agent")}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucket(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	events := benchEvents["runs"]
	values := make([][]byte, len(events))
	for i := range events {
		data, _ := events[i].MarshalBinary()
		values[i] = append(make([]byte, 96), data...)
	}
	_ = runCalls(b, callers, func(s uint64) error {
		e := &events[s%uint64(len(events))]
		k := binaryKey(s)
		return db.Batch(func(tx *bolt.Tx) error {
			if err := tx.Bucket(names[0]).Put(k, values[s%uint64(len(values))]); err != nil {
				return err
			}
			if err := tx.Bucket(names[1]).Put(append(e.TraceID[:16:16], k...), nil); err != nil {
				return err
			}
			if err := tx.Bucket(names[2]).Put(append([]byte(e.Type), k...), nil); err != nil {
				return err
			}
			return tx.Bucket(names[3]).Put(append([]byte(e.AgentID), k...), nil)
		})
	})
}

func benchGeneratorCalls(b *testing.B, callers int, key ed25519.PrivateKey, durable bool) {
	var sopts []store.Option
	var gopts []otelaudit.Option
	if key != nil {
		sopts = append(sopts, store.WithPublicKey(key.Public().(ed25519.PublicKey)))
		gopts = append(gopts, otelaudit.WithSigningKey(key))
	}
	st, err := store.Open(filepath.Join(b.TempDir(), "audit.db"), sopts...)
	if err != nil {
		b.Fatal(err)
	}
	cs := &timedStore{Store: st}
	g, err := otelaudit.New(append(gopts, otelaudit.WithStore(cs), otelaudit.WithStoreWait(time.Minute))...)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	events := benchEvents["runs"]
	var calls int
	if durable {
		calls = runCalls(b, callers, func(i uint64) error {
			_, err := g.Require(ctx, events[i%uint64(len(events))])
			return err
		})
	} else {
		calls = runCalls(b, callers, func(i uint64) error {
			_, err := g.Record(ctx, events[i%uint64(len(events))])
			return err
		})
	}
	if c := len(cs.took); c > 0 && durable {
		b.ReportMetric(float64(calls)/float64(c), "events/commit")
		slices.Sort(cs.took)
		b.ReportMetric(float64(cs.took[c/2])/float64(time.Millisecond), "commit-p50-ms")
		b.ReportMetric(float64(cs.took[min(c-1, c*99/100)])/float64(time.Millisecond), "commit-p99-ms")
	}
	if err := g.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
}

// timedStore keeps how long each commit with records took in a real store.
// Only the Generator's writer calls Write, one call at a time.
type timedStore struct {
	*store.Store
	took []time.Duration
}

func (t *timedStore) Write(batch otelaudit.Batch) error {
	start := time.Now()
	err := t.Store.Write(batch)
	if err == nil && len(batch.Events) > 0 {
		t.took = append(t.took, time.Since(start))
	}
	return err
}
