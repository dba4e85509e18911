package tests

// Concurrency proof of otelaudit.Generator, part 2: loss, order, progress,
// deadlock freedom, trace filtering, the capacity bound and isolation of
// returned copies, all under concurrent callers.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// 100 goroutines × 10 events = exactly 1,000 events, each
// (goroutine, i) present exactly once.
func TestGeneratorConcNoLoss(t *testing.T) {
	const goroutines, perG = 100, 10
	gen := otelaudit.NewGenerator(concKeep)
	concRecordAll(t, gen, goroutines, perG)

	evs := gen.Events(0)
	require.Len(t, evs, goroutines*perG)
	var seen [goroutines][perG]int
	for _, e := range evs {
		g, i := concKey(e)
		require.True(t, g >= 0 && g < goroutines && i >= 0 && i < perG, "foreign event %+v", e)
		seen[g][i]++
	}
	for g := range goroutines {
		for i := range perG {
			assert.Equal(t, 1, seen[g][i], "event (%d,%d) held %d times", g, i, seen[g][i])
		}
		assert.Len(t, gen.EventsByTrace(concTrace(g)), perG, "trace of goroutine %d", g)
		assert.Len(t, gen.EventsByAgent(concAgent(g)), perG, "agent of goroutine %d", g)
	}
	st := gen.Stats()
	assert.EqualValues(t, goroutines*perG, st.Recorded)
	assert.Equal(t, goroutines*perG, st.Len)
	assert.Zero(t, st.Evicted+st.Rejected+st.Cleared)
}

// Each goroutine's events keep its issue order in every view:
// Events(0), its own trace, its own agent, and every type.
func TestGeneratorConcPerGoroutineOrder(t *testing.T) {
	const goroutines, perG = 20, 40
	gen := otelaudit.NewGenerator(concKeep)
	concRecordAll(t, gen, goroutines, perG)

	// Events(0): the subsequence of each goroutine is 0, 1, ..., perG-1.
	next := make([]int, goroutines)
	for _, e := range gen.Events(0) {
		g, i := concKey(e)
		require.True(t, g >= 0 && g < goroutines, "foreign event %+v", e)
		if !assert.Equal(t, next[g], i, "Events(0): goroutine %d's events out of order at Seq %d", g, e.Seq) {
			break
		}
		next[g]++
	}
	for g, n := range next {
		assert.Equal(t, perG, n, "Events(0) holds %d of goroutine %d's events", n, g)
	}

	for w := range goroutines {
		for _, q := range []struct {
			name string
			evs  []otelaudit.Event
		}{
			{"EventsByTrace", gen.EventsByTrace(concTrace(w))},
			{"EventsByAgent", gen.EventsByAgent(concAgent(w))},
		} {
			require.Len(t, q.evs, perG, "%s of goroutine %d", q.name, w)
			for k, e := range q.evs {
				g, i := concKey(e)
				if !assert.Equal(t, [2]int{w, k}, [2]int{g, i}, "%s of goroutine %d, position %d", q.name, w, k) {
					break
				}
				if k > 0 && !assert.Greater(t, e.Seq, q.evs[k-1].Seq) {
					break
				}
			}
		}
	}
	for _, typ := range concTypes {
		evs := gen.EventsByType(typ)
		assert.NoError(t, concCheckSnapshot(evs, "EventsByType", func(e otelaudit.Event) bool { return e.Type == typ }))
		assert.Len(t, evs, goroutines*perG/len(concTypes), "EventsByType(%q)", typ)
	}
}

// Neither side starves the other. Writers finish a fixed amount
// of work while readers copy the whole store without pause, and readers
// finish theirs while writers record without pause, each within a deadline.
func TestGeneratorConcNoStarvation(t *testing.T) {
	const deadline = 10 * time.Second
	const preload, capacity = 300, 1000

	newLoaded := func(t *testing.T) *otelaudit.Generator {
		// A full-ish store makes each read hold the read lock for long.
		gen := otelaudit.NewGenerator(concKeep, otelaudit.WithCapacity(capacity))
		for i := range preload {
			_, err := concPut(gen, concEvent(999, i), concTrace(999), concSpan(999, i), concMix(0, i))
			require.NoError(t, err)
		}
		return gen
	}

	t.Run("writers progress under continuous readers", func(t *testing.T) {
		const readers, writers, perW = 4, 4, 30
		gen := newLoaded(t)
		var reads, written atomic.Int64
		var wgR, wgW, readersUp sync.WaitGroup
		stop := make(chan struct{})
		readersUp.Add(readers)
		for r := range readers {
			wgR.Go(func() {
				var once sync.Once
				defer once.Do(readersUp.Done)
				for n := 0; ; n++ {
					var evs []otelaudit.Event
					if (r+n)%2 == 0 {
						evs = gen.Events(0)
					} else {
						evs = gen.EventsByTrace(concTrace(999))
					}
					if !assert.NotEmpty(t, evs) {
						return
					}
					reads.Add(1)
					once.Do(readersUp.Done)
					if concClosed(stop) {
						return
					}
				}
			})
		}
		// Writers start only once every reader is hammering.
		concWait(t, &readersUp, concTimeout, "readers' first reads")
		began := time.Now()
		for w := range writers {
			wgW.Go(func() {
				for i := range perW {
					_, err := concRecordOwn(gen, w, i)
					if !assert.NoError(t, err) {
						return
					}
					written.Add(1)
				}
			})
		}
		waitProgress(t, &wgW, deadline, func() string {
			return fmt.Sprintf("writers recorded %d of %d while readers read %d times",
				written.Load(), writers*perW, reads.Load())
		})
		elapsed := time.Since(began)
		readsDuring := reads.Load()
		close(stop)
		concWait(t, &wgR, concTimeout, "readers")
		t.Logf("%d writes in %s beside %d reads", written.Load(), elapsed, readsDuring)
		assert.EqualValues(t, writers*perW, written.Load())
		assert.EqualValues(t, preload+writers*perW, gen.Stats().Recorded)
	})

	t.Run("readers progress under continuous writers", func(t *testing.T) {
		const readers, writers, perR = 4, 4, 60
		gen := newLoaded(t)
		var reads, written atomic.Int64
		var wgR, wgW, writersUp sync.WaitGroup
		stop := make(chan struct{})
		writersUp.Add(writers)
		for w := range writers {
			wgW.Go(func() {
				var once sync.Once
				defer once.Do(writersUp.Done)
				for i := 0; ; i++ {
					_, err := concRecordOwn(gen, w, i)
					if !assert.NoError(t, err) {
						return
					}
					written.Add(1)
					once.Do(writersUp.Done)
					if concClosed(stop) {
						return
					}
				}
			})
		}
		concWait(t, &writersUp, concTimeout, "writers' first writes")
		began := time.Now()
		for r := range readers {
			wgR.Go(func() {
				for n := range perR {
					var evs []otelaudit.Event
					var err error
					switch (r + n) % 3 {
					case 0:
						evs = gen.Events(0)
						err = concCheckSnapshot(evs, "Events(0)", func(otelaudit.Event) bool { return true })
					case 1:
						typ := concType(n)
						evs = gen.EventsByType(typ)
						err = concCheckSnapshot(evs, "EventsByType", func(e otelaudit.Event) bool { return e.Type == typ })
					default:
						evs = gen.EventsByTrace(concTrace(r))
						err = concCheckSnapshot(evs, "EventsByTrace", func(e otelaudit.Event) bool { return e.TraceID == concTrace(r) })
					}
					if !assert.NoError(t, err) {
						return
					}
					reads.Add(1)
				}
			})
		}
		waitProgress(t, &wgR, deadline, func() string {
			return fmt.Sprintf("readers did %d of %d reads while writers recorded %d events",
				reads.Load(), readers*perR, written.Load())
		})
		elapsed := time.Since(began)
		writtenDuring := written.Load()
		close(stop)
		concWait(t, &wgW, concTimeout, "writers")
		t.Logf("%d reads in %s beside %d writes", reads.Load(), elapsed, writtenDuring)
		assert.EqualValues(t, readers*perR, reads.Load())
		st := gen.Stats()
		require.NoError(t, concInvariant(st))
		assert.EqualValues(t, preload+written.Load(), st.Recorded, "every write counted")
		assert.Equal(t, min(capacity, int(st.Recorded)), st.Len, "held up to the bound, nothing cleared")
		assert.Positive(t, writtenDuring, "writers were running beside the readers")
	})
}

// waitProgress is concWait for a starvation test: on timeout it says how far
// each side got, which is the diagnosis.
func waitProgress(t *testing.T, wg *sync.WaitGroup, d time.Duration, progress func() string) {
	t.Helper()
	concWaitOr(t, wg, d, func() string { return fmt.Sprintf("starved: after %s %s", d, progress()) })
}

// 100 goroutines cycling through every operation, including
// nil-generator calls and Clear, finish within concTimeout; if not, the
// failure carries every goroutine's stack.
func TestGeneratorConcNoDeadlock(t *testing.T) {
	const goroutines, iters, capacity = 100, 40, 500
	gen := otelaudit.NewGenerator(concKeep, otelaudit.WithCapacity(capacity))
	var nilGen *otelaudit.Generator
	var accepted, refused atomic.Uint64
	ops := []func(id, k int) error{
		func(id, k int) error {
			_, err := concPut(gen, concEvent(id, k), concTrace(id), concSpan(id, k), concMix(id, k))
			if err == nil {
				accepted.Add(1)
			}
			return err
		},
		func(id, k int) error {
			_, err := gen.Append(context.Background(), otelaudit.Event{AgentID: concAgent(id)})
			if !errors.Is(err, otelaudit.ErrEmptyType) {
				return fmt.Errorf("Append without type: %v, want ErrEmptyType", err)
			}
			refused.Add(1)
			return nil
		},
		func(id, k int) error {
			evs := gen.Events(k % 50)
			if err := concConsecutive(evs, "Events(limit)"); err != nil {
				return err
			}
			return concCheckSnapshot(evs, "Events(limit)", func(otelaudit.Event) bool { return true })
		},
		func(id, k int) error {
			typ := concType(k)
			return concCheckSnapshot(gen.EventsByType(typ), "EventsByType", func(e otelaudit.Event) bool { return e.Type == typ })
		},
		func(id, k int) error {
			tid := concTrace((id + k) % goroutines)
			return concCheckSnapshot(gen.EventsByTrace(tid), "EventsByTrace", func(e otelaudit.Event) bool { return e.TraceID == tid })
		},
		func(id, k int) error {
			a := concAgent((id + k) % goroutines)
			return concCheckSnapshot(gen.EventsByAgent(a), "EventsByAgent", func(e otelaudit.Event) bool { return e.AgentID == a })
		},
		func(id, k int) error { return concInvariant(gen.Stats()) },
		func(id, k int) error {
			if k%4 == 0 {
				gen.Clear()
			}
			return nil
		},
		func(id, k int) error {
			// A nil Generator is refused, never a panic, even in the crowd.
			nilGen.Clear()
			if _, err := nilGen.Record(context.Background(), concEvent(id, k)); !errors.Is(err, otelaudit.ErrNilGenerator) {
				return fmt.Errorf("nil Record: %v", err)
			}
			if nilGen.Events(0) != nil || nilGen.EventsByTrace(concTrace(id)) != nil || nilGen.Stats() != (otelaudit.Stats{}) {
				return errors.New("nil Generator returned data")
			}
			return nil
		},
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for id := range goroutines {
		wg.Go(func() {
			<-start
			for k := range iters {
				// Neighbours run different operations at the same step.
				op := (id + k) % len(ops)
				if err := ops[op](id, k); !assert.NoError(t, err, "goroutine %d op %d step %d", id, op, k) {
					return
				}
			}
		})
	}
	close(start)
	concWait(t, &wg, concTimeout, "100 goroutines doing every operation")

	st := gen.Stats()
	require.NoError(t, concInvariant(st))
	assert.Equal(t, accepted.Load(), st.Recorded)
	assert.Equal(t, refused.Load(), st.Rejected)
	// Every goroutine runs every op iters/len(ops) or one more times.
	assert.GreaterOrEqual(t, accepted.Load(), uint64(goroutines*(iters/len(ops))))
	concCheckHeld(t, gen, nil, concTraces(goroutines), concAgents(goroutines))
}

// 60 goroutines, each on its own trace and on one of 3 shared
// traces. While they record, readers check that no trace query ever returns
// another trace's event; afterwards each trace holds exactly its events, in
// order.
func TestGeneratorConcTraceFilter(t *testing.T) {
	const goroutines, perG, shared, readers = 60, 20, 3, 3
	gen := otelaudit.NewGenerator(concKeep)
	traceOf := func(w, i int) trace.TraceID {
		if i%2 == 1 {
			return concSharedTrace(w % shared)
		}
		return concTrace(w)
	}
	start, done := make(chan struct{}), make(chan struct{})
	var wgW, wgR sync.WaitGroup
	var reads atomic.Int64
	for w := range goroutines {
		wgW.Go(func() {
			<-start
			for i := range perG {
				_, err := concPut(gen, concEvent(w, i), traceOf(w, i), concSpan(w, i), concMix(w, i))
				if !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	for r := range readers {
		wgR.Go(func() {
			<-start
			for n := 0; ; n++ {
				final := concClosed(done)
				var tid trace.TraceID
				if n%2 == 0 {
					tid = concSharedTrace((r + n) % shared)
				} else {
					tid = concTrace((r + n) % goroutines)
				}
				evs := gen.EventsByTrace(tid)
				err := concCheckSnapshot(evs, "EventsByTrace", func(e otelaudit.Event) bool {
					g, i := concKey(e)
					return e.TraceID == tid && traceOf(g, i) == tid
				})
				if !assert.NoError(t, err) {
					return
				}
				reads.Add(1)
				if final {
					return
				}
				concPace()
			}
		})
	}
	close(start)
	concWait(t, &wgW, concTimeout, "writers")
	close(done)
	concWait(t, &wgR, concTimeout, "readers")
	t.Logf("%d trace reads during recording", reads.Load())

	for w := range goroutines {
		evs := gen.EventsByTrace(concTrace(w))
		require.Len(t, evs, perG/2, "own trace of goroutine %d", w)
		for k, e := range evs {
			g, i := concKey(e)
			if !assert.Equal(t, [2]int{w, 2 * k}, [2]int{g, i}, "own trace of goroutine %d, position %d", w, k) {
				break
			}
		}
	}
	for s := range shared {
		evs := concCheckSharedTrace(t, gen.EventsByTrace(concSharedTrace(s)), s, shared)
		assert.Equal(t, goroutines/shared*perG/2, evs, "events in shared trace %d", s)
	}
	assert.Empty(t, gen.EventsByTrace(concTrace(goroutines)), "a trace nobody wrote")
	assert.Empty(t, gen.EventsByTrace(trace.TraceID{}), "the zero trace")
	concCheckHeld(t, gen, nil, concTraces(goroutines), concAgents(goroutines))
}

// concCheckSharedTrace checks that shared trace s holds, for every goroutine
// writing to it, its odd-numbered events 1, 3, 5, ... in order, and nothing
// else. It returns how many events it held.
func concCheckSharedTrace(t *testing.T, evs []otelaudit.Event, s, shared int) int {
	t.Helper()
	next := map[int]int{}
	for _, e := range evs {
		g, i := concKey(e)
		if !assert.Equal(t, concSharedTrace(s), e.TraceID) || !assert.Equal(t, s, g%shared, "goroutine %d in shared trace %d", g, s) {
			break
		}
		want, ok := next[g]
		if !ok {
			want = 1
		}
		if !assert.Equal(t, want, i, "shared trace %d: goroutine %d out of order", s, g) {
			break
		}
		next[g] = i + 2
	}
	return len(evs)
}

// The capacity bound under concurrent writers. EvictOldest
// keeps exactly the newest capacity Seqs and no index remembers an evicted
// event; RejectNew accepts exactly capacity events and refuses the rest with
// ErrFull, each counted.
func TestGeneratorConcCapacity(t *testing.T) {
	const goroutines, perG, capacity = 40, 60, 1000
	const total = goroutines * perG
	ownTrace := func(w, _ int) trace.TraceID { return concTrace(w) }
	// A trace per event makes every eviction also remove its trace from
	// the trace index, while readers look traces up.
	traceEach := func(w, i int) trace.TraceID { return concTrace(1000 + w*perG + i) }
	tests := []struct {
		name    string
		policy  otelaudit.FullPolicy
		traceOf func(w, i int) trace.TraceID
	}{
		{"evict oldest", otelaudit.EvictOldest, ownTrace},
		{"evict oldest, a trace per event", otelaudit.EvictOldest, traceEach},
		{"reject new", otelaudit.RejectNew, ownTrace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen := otelaudit.NewGenerator(concKeep, otelaudit.WithCapacity(capacity), otelaudit.WithFullPolicy(tc.policy))
			seqs := make([][]uint64, goroutines)
			var full, other atomic.Int64
			start, done := make(chan struct{}), make(chan struct{})
			var wgW, wgR sync.WaitGroup
			for w := range goroutines {
				seqs[w] = make([]uint64, perG)
				wgW.Go(func() {
					<-start
					for i := range perG {
						seq, err := concPut(gen, concEvent(w, i), tc.traceOf(w, i), concSpan(w, i), concMix(w, i))
						switch {
						case err == nil:
							seqs[w][i] = seq
						case tc.policy == otelaudit.RejectNew && errors.Is(err, otelaudit.ErrFull):
							full.Add(1)
						default:
							other.Add(1)
							assert.NoError(t, err)
							return
						}
					}
				})
			}
			// A reader checks the bound holds at every instant, not only at
			// the end.
			wgR.Go(func() {
				<-start
				for n := 0; ; n++ {
					final := concClosed(done)
					st := gen.Stats()
					evs := gen.Events(0)
					w, i := n%goroutines, n%perG
					tid := tc.traceOf(w, i)
					byTrace := gen.EventsByTrace(tid)
					if !assert.NoError(t, concInvariant(st)) || !assert.LessOrEqual(t, len(evs), capacity) ||
						!assert.NoError(t, concConsecutive(evs, "Events(0)")) ||
						!assert.NoError(t, concCheckSnapshot(evs, "Events(0)", func(otelaudit.Event) bool { return true })) ||
						!assert.NoError(t, concCheckSnapshot(byTrace, "EventsByTrace", func(e otelaudit.Event) bool {
							g, i := concKey(e)
							return e.TraceID == tid && tc.traceOf(g, i) == tid
						})) {
						return
					}
					if final {
						return
					}
					concPace()
				}
			})
			close(start)
			concWait(t, &wgW, concTimeout, "writers")
			close(done)
			concWait(t, &wgR, concTimeout, "reader")

			st := gen.Stats()
			require.NoError(t, concInvariant(st))
			assert.Zero(t, other.Load())
			assert.Equal(t, capacity, st.Len)
			owner, ok := concSeqOwner(t, seqs, st.LastSeq)
			require.True(t, ok)
			var firstHeld uint64
			switch tc.policy {
			case otelaudit.EvictOldest:
				assert.EqualValues(t, total, st.Recorded)
				assert.EqualValues(t, total-capacity, st.Evicted)
				assert.Zero(t, st.Rejected)
				assert.Len(t, owner, total)
				firstHeld = total - capacity + 1
			case otelaudit.RejectNew:
				assert.EqualValues(t, capacity, st.Recorded, "exactly capacity accepted")
				assert.EqualValues(t, capacity, st.LastSeq, "a refused event consumes no Seq")
				assert.EqualValues(t, total-capacity, full.Load(), "the rest refused with ErrFull")
				assert.Equal(t, uint64(full.Load()), st.Rejected)
				assert.Zero(t, st.Evicted)
				assert.Len(t, owner, capacity)
				firstHeld = 1
			}
			evs := gen.Events(0)
			require.Len(t, evs, capacity)
			assert.Equal(t, firstHeld, evs[0].Seq, "the held events are the newest capacity Seqs")
			assert.Equal(t, firstHeld+capacity-1, evs[capacity-1].Seq)
			// Per key, every index returns exactly the held events of the
			// key; for a key whose events were all dropped, none.
			wantTrace := map[trace.TraceID][]uint64{}
			var traces []trace.TraceID
			for w := range goroutines {
				var wantAgent []uint64
				for i, seq := range seqs[w] {
					tid := tc.traceOf(w, i)
					if _, ok := wantTrace[tid]; !ok {
						wantTrace[tid] = []uint64{}
						traces = append(traces, tid)
					}
					if seq >= firstHeld {
						wantTrace[tid] = append(wantTrace[tid], seq)
						wantAgent = append(wantAgent, seq)
					}
				}
				slices.Sort(wantAgent)
				assert.Equal(t, append([]uint64{}, wantAgent...), concSeqs(gen.EventsByAgent(concAgent(w))), "agent of writer %d", w)
			}
			for tid, want := range wantTrace {
				slices.Sort(want)
				if !assert.Equal(t, want, concSeqs(gen.EventsByTrace(tid)), "trace %s", tid) {
					break
				}
			}
			concCheckHeld(t, gen, owner, traces, concAgents(goroutines))
		})
	}
}

// Whatever callers do to the events and attribute slices they
// get back — from queries, from Record, or the slice they passed in — other
// readers keep seeing exactly what was recorded. Under -race, any memory the
// store shared with a caller would also be reported as a race.
func TestGeneratorConcIsolation(t *testing.T) {
	const seedTraces, perTrace, mutators, verifiers, writers, rounds = 4, 50, 4, 4, 2, 30
	gen := otelaudit.NewGenerator(concKeep)
	var expected sync.Map // Seq -> otelaudit.Event as recorded
	for s := range seedTraces {
		for i := range perTrace {
			e := concEvent(s, i)
			e.TraceID, e.SpanID = concTrace(s), concSpan(s, i)
			e.Attributes = append(e.Attributes, attribute.String("conc.note", fmt.Sprintf("seed %d/%d", s, i)))
			got, err := gen.Record(context.Background(), e)
			require.NoError(t, err)
			expected.Store(got.Seq, got)
		}
	}

	// query returns one of the four query results, chosen by n.
	query := func(n int) []otelaudit.Event {
		switch n % 4 {
		case 0:
			return gen.Events(0)
		case 1:
			return gen.EventsByTrace(concTrace(n % seedTraces))
		case 2:
			return gen.EventsByType(concType(n))
		default:
			return gen.EventsByAgent(concAgent(n % seedTraces))
		}
	}
	scribble := func(evs []otelaudit.Event) {
		for k := range evs {
			e := &evs[k]
			e.Seq, e.Type, e.AgentID, e.Outcome = 0, "scribbled", "mallory", otelaudit.Denied
			e.TraceID, e.SpanID = trace.TraceID{0xFF}, trace.SpanID{0xFF}
			for j := range e.Attributes {
				e.Attributes[j] = attribute.String("scribbled", "yes")
			}
			e.Attributes = append(e.Attributes, attribute.Bool("appended", true))
		}
	}

	start, done := make(chan struct{}), make(chan struct{})
	var wgM, wgW sync.WaitGroup
	var checked atomic.Int64
	for m := range mutators {
		wgM.Go(func() {
			<-start
			for n := 0; !concClosed(done); n++ {
				scribble(query(m + n))
				concPace()
			}
		})
	}
	for v := range verifiers {
		wgM.Go(func() {
			<-start
			for n := 0; !concClosed(done); n++ {
				for _, e := range query(v + n) {
					want, ok := expected.Load(e.Seq)
					if !ok {
						continue // a writer's event whose expected copy is not stored yet
					}
					if !concSameEvent(t, want, e, "Seq %d as read by verifier %d", e.Seq, v) {
						return
					}
					checked.Add(1)
				}
				concPace()
			}
		})
	}
	for w := range writers {
		wgW.Go(func() {
			<-start
			attrs := make([]attribute.KeyValue, 3)
			for i := range rounds {
				// The caller reuses one slice for every event, as a hot loop
				// would.
				attrs[0], attrs[1], attrs[2] = attribute.Int("conc.g", w+seedTraces), attribute.Int("conc.i", i), attribute.String("conc.note", "fresh")
				e := otelaudit.Event{Type: concType(i), AgentID: concAgent(i % seedTraces), Attributes: attrs}
				ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
					TraceID: concTrace(i % seedTraces), SpanID: concSpan(w+seedTraces, i),
				}))
				got, err := gen.Record(ctx, e)
				if !assert.NoError(t, err) {
					return
				}
				keep := got
				keep.Attributes = append([]attribute.KeyValue(nil), got.Attributes...)
				expected.Store(got.Seq, keep)
				scribble([]otelaudit.Event{got})
				attrs[0], attrs[2] = attribute.String("scribbled", "input"), attribute.String("conc.note", "reused")
			}
		})
	}
	close(start)
	concWait(t, &wgW, concTimeout, "writers")
	close(done)
	concWait(t, &wgM, concTimeout, "mutators and verifiers")
	t.Logf("%d events compared during the scribbling", checked.Load())

	evs := gen.Events(0)
	require.Len(t, evs, seedTraces*perTrace+writers*rounds)
	for _, e := range evs {
		want, ok := expected.Load(e.Seq)
		if !assert.True(t, ok, "Seq %d never recorded", e.Seq) || !concSameEvent(t, want, e) {
			break
		}
	}
	for s := range seedTraces {
		for _, e := range gen.EventsByTrace(concTrace(s)) {
			want, _ := expected.Load(e.Seq)
			if !concSameEvent(t, want, e) {
				break
			}
		}
	}
	concCheckHeld(t, gen, nil, concTraces(seedTraces), concAgents(seedTraces))
}

// concSameEvent compares an event read back with the one recorded. Time is
// compared as an instant: the store keeps the instant, not the monotonic
// clock reading or the Location of the time.Time it was given.
func concSameEvent(t *testing.T, want any, got otelaudit.Event, msgAndArgs ...any) bool {
	t.Helper()
	w, ok := want.(otelaudit.Event)
	if !assert.True(t, ok, "no recorded event for Seq %d", got.Seq) ||
		!assert.True(t, w.Time.Equal(got.Time), "Time %s, recorded %s", got.Time, w.Time) {
		return false
	}
	w.Time, got.Time = time.Time{}, time.Time{}
	return assert.Equal(t, w, got, msgAndArgs...)
}
