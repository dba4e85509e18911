package store_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// benchEvents are events as the processor records them (four attributes,
// 16 agents, start and end types), in 4,096 traces. "runs" puts 32
// consecutive events in each trace, as a workflow's spans arrive;
// "scattered" gives every event a different trace from its neighbours,
// the worst case for the trace index.
var benchEvents = map[string][]otelaudit.Event{"runs": makeBenchEvents(32), "scattered": makeBenchEvents(1)}

func makeBenchEvents(run int) []otelaudit.Event {
	out := make([]otelaudit.Event, 4096*run)
	for i := range out {
		t := i / run
		if run == 1 {
			t = i % 4096
		}
		out[i] = otelaudit.Event{
			Type:       []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd}[i%2],
			TraceID:    trace.TraceID{1, byte(t), byte(t >> 8)},
			SpanID:     trace.SpanID{byte(i), 1},
			AgentID:    "agent-" + strconv.Itoa(i%16),
			WorkflowID: "wf-trip-planner",
			NodeID:     "fetch-weather",
			Action:     "fetch-weather",
			Outcome:    otelaudit.Success,
			Attributes: []attribute.KeyValue{
				attribute.String("node.id", "fetch-weather"),
				attribute.String("gen_ai.agent.id", "agent-7"),
				attribute.String("workflow.id", "wf-trip-planner"),
				attribute.Int("retry", 1),
			},
		}
	}
	return out
}

// benchParallelism is goroutines per core recording in the durability
// benchmarks: bbolt's Batch only groups concurrent callers, so the raw
// anchor needs many; ours is run the same way.
const benchParallelism = 64

var bboltEventsPerSec atomic.Value // float64, set by the bbolt-batch run

// BenchmarkDurable measures sustained durable throughput: events recorded
// from 2x64 goroutines until every one is committed and fsync'd. "bbolt-
// batch" writes the same bytes (the stored value and the three index keys
// of each event) with bbolt's own DB.Batch, one call per event; "otelaudit"
// is a Generator with a store attached, Append then ForceFlush, and reports
// x-bbolt, its events/s over bbolt-batch's in the same run.
func BenchmarkDurable(b *testing.B) {
	for _, w := range []string{"runs", "scattered"} {
		b.Run(w, func(b *testing.B) { benchDurable(b, benchEvents[w]) })
	}
}

func benchDurable(b *testing.B, benchEvents []otelaudit.Event) {
	b.Run("bbolt-batch", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "raw.db")
		db, err := bolt.Open(path, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
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
		values := make([][]byte, len(benchEvents))
		for i := range benchEvents {
			data, _ := benchEvents[i].MarshalBinary()
			values[i] = append(make([]byte, 96), data...)
		}
		var seq atomic.Uint64
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		cpu0, _ := processCPU()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s := seq.Add(1)
				e := &benchEvents[s%uint64(len(benchEvents))]
				k := binaryKey(s)
				err := db.Batch(func(tx *bolt.Tx) error {
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
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		reportCPU(b, cpu0)
		rate := float64(b.N) / b.Elapsed().Seconds()
		bboltEventsPerSec.Store(rate)
		b.ReportMetric(rate, "events/s")
	})
	// The Merkle tree's share: the store without it, then with it
	// (x-no-tree is events/s over the run without it).
	b.Run("otelaudit-no-tree", func(b *testing.B) { benchDurableOurs(b, benchEvents, nil, store.WithoutTree()) })
	b.Run("otelaudit", func(b *testing.B) { benchDurableOurs(b, benchEvents, nil) })
	// With a signing key every commit carries an ed25519 signature of its
	// last event: x-unsigned is events/s over the unsigned run's.
	_, priv, _ := ed25519.GenerateKey(nil)
	b.Run("otelaudit-signed", func(b *testing.B) { benchDurableOurs(b, benchEvents, priv) })
}

var (
	unsignedEventsPerSec atomic.Value // float64, set by the otelaudit run
	noTreeEventsPerSec   atomic.Value // float64, set by the otelaudit-no-tree run
)

// countingStore counts the commits of a real store, and the time spent
// in them.
type countingStore struct {
	*store.Store
	commits atomic.Int64
	inWrite atomic.Int64 // ns
}

func (c *countingStore) Write(batch otelaudit.Batch) error {
	start := time.Now()
	err := c.Store.Write(batch)
	c.inWrite.Add(int64(time.Since(start)))
	if err == nil && len(batch.Events) > 0 {
		c.commits.Add(1)
	}
	return err
}

func benchDurableOurs(b *testing.B, benchEvents []otelaudit.Event, key ed25519.PrivateKey, extra ...store.Option) {
	sopts := extra
	gopts := []otelaudit.Option{otelaudit.WithStoreWait(time.Minute)}
	if key != nil {
		sopts = append(sopts, store.WithPublicKey(key.Public().(ed25519.PublicKey)))
		gopts = append(gopts, otelaudit.WithSigningKey(key))
	}
	st, err := store.Open(filepath.Join(b.TempDir(), "audit.db"), sopts...)
	if err != nil {
		b.Fatal(err)
	}
	cs := &countingStore{Store: st}
	g, err := otelaudit.New(append(gopts, otelaudit.WithStore(cs))...)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var n atomic.Uint64
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	cpu0, _ := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := g.Append(ctx, benchEvents[i%uint64(len(benchEvents))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := g.ForceFlush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	reportCPU(b, cpu0)
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	if raw, ok := bboltEventsPerSec.Load().(float64); ok {
		b.ReportMetric(rate/raw, "x-bbolt")
	}
	switch {
	case len(extra) > 0:
		noTreeEventsPerSec.Store(rate)
	case key == nil:
		unsignedEventsPerSec.Store(rate)
		if noTree, ok := noTreeEventsPerSec.Load().(float64); ok {
			b.ReportMetric(rate/noTree, "x-no-tree")
		}
	default:
		if unsigned, ok := unsignedEventsPerSec.Load().(float64); ok {
			b.ReportMetric(rate/unsigned, "x-unsigned")
		}
	}
	if c := cs.commits.Load(); c > 0 {
		b.ReportMetric(float64(b.N)/float64(c), "events/commit")
	}
	// Where the writer's time goes, per event: in Store.Write (the rest
	// of its time is the Generator's: sealing, copying, the signed
	// tree), and of that in bbolt's commit: spilling nodes to pages,
	// then writing the pages and the meta with their two fdatasyncs.
	spill, write := store.BoltTxStats(st)
	b.ReportMetric(float64(cs.inWrite.Load())/float64(b.N), "store-ns/ev")
	b.ReportMetric(float64(spill.Nanoseconds())/float64(b.N), "spill-ns/ev")
	b.ReportMetric(float64(write.Nanoseconds())/float64(b.N), "disk-ns/ev")
	if err := g.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
}

// reportCPU reports the process's CPU time per event since cpu0
// (cpu-ns/ev), where it is measured: every goroutine's, the recording
// ones and the store writer's.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu, ok := processCPU(); ok {
		b.ReportMetric(float64((cpu-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/ev")
	}
}

func binaryKey(s uint64) []byte {
	return []byte{byte(s >> 56), byte(s >> 48), byte(s >> 40), byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}

// verifyEvents is the size of the store BenchmarkVerify checks:
// 1,000,000 unless OTELAUDIT_VERIFY_EVENTS says otherwise (CI runs it
// smaller, only to see that it runs).
func verifyEvents(b *testing.B) int {
	if s := os.Getenv("OTELAUDIT_VERIFY_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("OTELAUDIT_VERIFY_EVENTS=%q", s)
		}
		return n
	}
	return 1_000_000
}

// BenchmarkVerify measures Store.Verify over a store of verifyEvents
// events written with a signing key, every commit signed (built once,
// outside the timer), and reports events/s: without a key (chain, indexes,
// checkpoints, bbolt's check) and with the public key (every signature,
// and that the head is signed).
func BenchmarkVerify(b *testing.B) {
	n := verifyEvents(b)
	path, pub, _ := signedBenchStore(b, n)
	st, err := store.Open(path, store.WithReadOnly())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for _, key := range []struct {
		name string
		pub  ed25519.PublicKey
	}{{"no-key", nil}, {"pubkey", pub}} {
		b.Run(fmt.Sprintf("events=%d/%s", n, key.name), func(b *testing.B) {
			for b.Loop() {
				rep, err := st.Verify(key.pub, nil)
				if err != nil || rep.Events != uint64(n) {
					b.Fatalf("verified %d of %d: %v", rep.Events, n, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
