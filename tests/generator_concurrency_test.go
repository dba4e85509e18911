package tests

// Concurrency proof of otelaudit.Generator, part 1: recording, reading,
// clearing and counting under concurrent callers. Every test asserts exact
// counts and orders; "did not panic" is never the check. Sizes fit a two-core
// machine under -race; every wait is bounded by concTimeout.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Every Seq in 1..50N handed out exactly once, every event held,
// counted once, whichever of the four ways it was recorded.
func TestGeneratorConcRecordExactlyOnce(t *testing.T) {
	const goroutines, perG = 50, 30
	const total = goroutines * perG
	tests := []struct {
		name string
		via  func(g, i int) concVia
	}{
		{"Record with trace in fields", func(int, int) concVia { return concRecordField }},
		{"Record with trace in ctx", func(int, int) concVia { return concRecordCtx }},
		{"Append with trace in fields", func(int, int) concVia { return concAppendField }},
		{"Append with trace in ctx", func(int, int) concVia { return concAppendCtx }},
		{"all four mixed", concMix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen := otelaudit.NewGenerator(concKeep)
			seqs := make([][]uint64, goroutines)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for w := range goroutines {
				seqs[w] = make([]uint64, perG)
				wg.Go(func() {
					<-start
					for i := range perG {
						seq, err := concPut(gen, concEvent(w, i), concTrace(w), concSpan(w, i), tc.via(w, i))
						if !assert.NoError(t, err) {
							return
						}
						seqs[w][i] = seq
					}
				})
			}
			close(start)
			concWait(t, &wg, concTimeout, "recorders")

			st := gen.Stats()
			assert.Positive(t, st.Bytes)
			assert.Equal(t, otelaudit.Stats{
				Recorded: total,
				Len:      total,
				Capacity: otelaudit.DefaultCapacity,
				LastSeq:  total,
				Bytes:    st.Bytes,
				MaxBytes: otelaudit.DefaultMaxBytes,
			}, st)
			owner, ok := concSeqOwner(t, seqs, total)
			require.True(t, ok)
			require.Len(t, owner, total, "every call must have got its own Seq in 1..%d", total)

			evs := gen.Events(0)
			require.Len(t, evs, total)
			for k, e := range evs {
				g, i := concKey(e)
				if !assert.Equal(t, uint64(k+1), e.Seq) ||
					!assert.Equal(t, owner[e.Seq], [2]int{g, i}, "Seq %d holds another call's event", e.Seq) ||
					!assert.Equal(t, concTrace(g), e.TraceID) ||
					!assert.Equal(t, concSpan(g, i), e.SpanID) {
					break
				}
			}
			concCheckHeld(t, gen, owner, concTraces(goroutines), concAgents(goroutines))
		})
	}
}

// Readers running beside writers only ever see a store that some
// instant really had: Seqs 1..n with no gap, each writer's first k events in
// order, results that only grow. Halfway through, the writers wait until
// every reader has read the half-written store, which must then hold exactly
// half of everything: a reader that only ever saw the empty or the full store
// would prove nothing.
func TestGeneratorConcReadersSeeConsistentSnapshots(t *testing.T) {
	const writers, perW, readers = 6, 80, 3
	const half = perW / 2
	gen := otelaudit.NewGenerator(concKeep)

	var (
		wgW, wgR sync.WaitGroup
		atMid    sync.WaitGroup // writers that have recorded half their events
		midRead  sync.WaitGroup // readers that have read the half-written store
		mid      = make(chan struct{})
		resume   = make(chan struct{})
		done     = make(chan struct{}) // writers finished
		rounds   atomic.Int64
	)
	atMid.Add(writers)
	midRead.Add(readers)
	go func() { atMid.Wait(); close(mid) }()
	go func() { midRead.Wait(); close(resume) }()

	seqs := make([][]uint64, writers)
	for w := range writers {
		seqs[w] = make([]uint64, perW)
		wgW.Go(func() {
			var once sync.Once
			defer once.Do(atMid.Done) // a failed writer must not hold the others at the midpoint
			for i := range perW {
				if i == half {
					once.Do(atMid.Done)
					select {
					case <-resume:
					case <-time.After(concTimeout):
						assert.Fail(t, "readers never read the half-written store")
					}
				}
				seq, err := concRecordOwn(gen, w, i)
				if !assert.NoError(t, err) {
					return
				}
				seqs[w][i] = seq
			}
		})
	}

	// read is one round of every query. It returns how many events Events(0)
	// saw and how many each writer's trace had.
	read := func(prev map[string][]uint64) (int, []int, error) {
		all := gen.Events(0)
		for k, e := range all {
			if e.Seq != uint64(k+1) {
				return 0, nil, fmt.Errorf("Events(0): Seq %d at position %d, want 1..n without gap", e.Seq, k)
			}
		}
		if err := concExtends(prev, "Events(0)", all); err != nil {
			return 0, nil, err
		}
		if err := concCheckSnapshot(all, "Events(0)", func(otelaudit.Event) bool { return true }); err != nil {
			return 0, nil, err
		}
		newest := gen.Events(10)
		if len(newest) > 10 {
			return 0, nil, fmt.Errorf("Events(10) returned %d events", len(newest))
		}
		if err := concConsecutive(newest, "Events(10)"); err != nil {
			return 0, nil, err
		}
		if len(newest) > 0 && len(newest) < 10 && newest[0].Seq != 1 {
			return 0, nil, fmt.Errorf("Events(10) returned %d events starting at Seq %d", len(newest), newest[0].Seq)
		}
		// Read after Events(0) in a store that only grows: the newest 10 end
		// at or after the newest event Events(0) saw.
		if n := len(all); n > 0 && (len(newest) < min(n, 10) || newest[len(newest)-1].Seq < all[n-1].Seq) {
			return 0, nil, fmt.Errorf("Events(10) returned %v after Events(0) reached Seq %d", concSeqs(newest), all[n-1].Seq)
		}
		for _, typ := range concTypes {
			evs := gen.EventsByType(typ)
			err := concCheckSnapshot(evs, "EventsByType", func(e otelaudit.Event) bool { return e.Type == typ })
			if err == nil {
				err = concExtends(prev, "type "+string(typ), evs)
			}
			if err != nil {
				return 0, nil, err
			}
		}
		perTrace := make([]int, writers)
		for w := range writers {
			byTrace := gen.EventsByTrace(concTrace(w))
			byAgent := gen.EventsByAgent(concAgent(w))
			perTrace[w] = len(byTrace)
			for _, q := range []struct {
				name string
				evs  []otelaudit.Event
			}{{"trace", byTrace}, {"agent", byAgent}} {
				key := fmt.Sprintf("%s of writer %d", q.name, w)
				for k, e := range q.evs {
					// One writer per trace and agent: the result must be
					// exactly that writer's first len events, in its order.
					g, i := concKey(e)
					if g != w || i != k || e.TraceID != concTrace(w) || e.AgentID != concAgent(w) {
						return 0, nil, fmt.Errorf("%s: position %d holds (%d,%d) trace %s agent %q",
							key, k, g, i, e.TraceID, e.AgentID)
					}
				}
				if err := concCheckSnapshot(q.evs, key, func(otelaudit.Event) bool { return true }); err != nil {
					return 0, nil, err
				}
				if err := concExtends(prev, key, q.evs); err != nil {
					return 0, nil, err
				}
			}
		}
		rounds.Add(1)
		return len(all), perTrace, nil
	}

	for range readers {
		wgR.Go(func() {
			var once sync.Once
			defer once.Do(midRead.Done)
			prev := map[string][]uint64{}
			sawMid := false
			for {
				// Decided before the round starts, so that the whole round
				// runs in the state the flag describes.
				final := concClosed(done)
				frozen := !sawMid && concClosed(mid)
				n, perTrace, err := read(prev)
				if !assert.NoError(t, err) {
					return
				}
				switch {
				case final:
					assert.Equal(t, writers*perW, n, "the read after the writers finished must see everything")
					for w, c := range perTrace {
						assert.Equal(t, perW, c, "final EventsByTrace of writer %d", w)
					}
					return
				case frozen:
					assert.Equal(t, writers*half, n, "the store frozen at the midpoint")
					for w, c := range perTrace {
						assert.Equal(t, half, c, "EventsByTrace of writer %d at the midpoint", w)
					}
					sawMid = true
					once.Do(midRead.Done)
				}
				concPace()
			}
		})
	}

	concWait(t, &wgW, concTimeout, "writers")
	close(done)
	concWait(t, &wgR, concTimeout, "readers")
	t.Logf("%d read rounds of %d queries each beside %d writers", rounds.Load(), 2+len(concTypes)+2*writers, writers)

	owner, ok := concSeqOwner(t, seqs, writers*perW)
	require.True(t, ok)
	require.Len(t, owner, writers*perW)
	concCheckHeld(t, gen, owner, concTraces(writers), concAgents(writers))
}

// Clear racing with writers loses no count and reuses no Seq,
// and leaves every index agreeing with Events(0), with and without eviction
// at the same time.
func TestGeneratorConcClearRacesWriters(t *testing.T) {
	const writers, perW, clearers = 6, 200, 2
	const total = writers * perW
	tests := []struct {
		name     string
		capacity int
	}{
		{"room for every event", 0},
		{"evicting at 200", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen := otelaudit.NewGenerator(concKeep, otelaudit.WithCapacity(tc.capacity))
			seqs := make([][]uint64, writers)
			start, done := make(chan struct{}), make(chan struct{})
			var wgW, wgC sync.WaitGroup
			var clears atomic.Int64
			for w := range writers {
				seqs[w] = make([]uint64, perW)
				wgW.Go(func() {
					<-start
					for i := range perW {
						seq, err := concRecordOwn(gen, w, i)
						if !assert.NoError(t, err) {
							return
						}
						seqs[w][i] = seq
					}
				})
			}
			for range clearers {
				wgC.Go(func() {
					<-start
					for {
						gen.Clear()
						clears.Add(1)
						if err := concInvariant(gen.Stats()); !assert.NoError(t, err) {
							return
						}
						select {
						case <-done:
							return
						case <-time.After(200 * time.Microsecond):
						}
					}
				})
			}
			close(start)
			concWait(t, &wgW, concTimeout, "writers")
			close(done)
			concWait(t, &wgC, concTimeout, "clearers")

			st := gen.Stats()
			t.Logf("%d Clear calls; %+v", clears.Load(), st)
			require.NoError(t, concInvariant(st))
			assert.EqualValues(t, total, st.Recorded)
			assert.EqualValues(t, total, st.LastSeq)
			assert.Zero(t, st.Rejected)
			if tc.capacity == 0 {
				assert.Zero(t, st.Evicted, "nothing to evict with room for every event")
			}
			owner, ok := concSeqOwner(t, seqs, st.LastSeq)
			require.True(t, ok)
			assert.Len(t, owner, total, "every successful call got its own Seq")
			concCheckHeld(t, gen, owner, concTraces(writers), concAgents(writers))
		})
	}
}

// 75 goroutines doing everything at once — recording valid and
// invalid events, every query, Stats and Clear — end with exact accounting.
func TestGeneratorConcMixedOperations(t *testing.T) {
	const goroutines, iters, capacity = 75, 60, 600
	const agents = 7 // recorders share agents, so agent chains interleave writers
	gen := otelaudit.NewGenerator(concKeep, otelaudit.WithCapacity(capacity))

	var (
		wg                  sync.WaitGroup
		start               = make(chan struct{})
		accepted, badInput  atomic.Uint64
		seqs                = make([][]uint64, goroutines)
		recorders, querying []int
	)
	agentOf := func(g int) string { return concAgent(g % agents) }
	for id := range goroutines {
		seqs[id] = make([]uint64, iters)
		role := id % 8
		if role <= 2 {
			recorders = append(recorders, id)
		} else {
			querying = append(querying, id)
		}
		wg.Go(func() {
			<-start
			for k := range iters {
				var err error
				switch role {
				case 0, 1, 2:
					e := concEvent(id, k)
					e.AgentID = agentOf(id)
					if k%10 == 9 {
						// Refused before the lock: counted in Rejected, no Seq.
						e.Type = ""
						if k%20 == 19 {
							e.Type, e.Outcome = otelaudit.NodeError, "maybe"
						}
						_, err = concPut(gen, e, concTrace(id), concSpan(id, k), concMix(id, k))
						if assert.Error(t, err) && assert.True(t,
							errors.Is(err, otelaudit.ErrEmptyType) || errors.Is(err, otelaudit.ErrInvalidEvent), err) {
							badInput.Add(1)
							err = nil
						}
						break
					}
					var seq uint64
					seq, err = concPut(gen, e, concTrace(id), concSpan(id, k), concMix(id, k))
					if err == nil {
						seqs[id][k] = seq
						accepted.Add(1)
					}
				case 3:
					limit := k%25 + 1
					evs := gen.Events(limit)
					if len(evs) > limit {
						err = fmt.Errorf("Events(%d) returned %d", limit, len(evs))
						break
					}
					if err = concConsecutive(evs, "Events(limit)"); err == nil {
						err = concCheckSnapshot(evs, "Events(limit)", func(otelaudit.Event) bool { return true })
					}
				case 4:
					typ := concType(k)
					err = concCheckSnapshot(gen.EventsByType(typ), "EventsByType",
						func(e otelaudit.Event) bool { return e.Type == typ })
				case 5:
					w := recorders[k%len(recorders)]
					err = concCheckSnapshot(gen.EventsByTrace(concTrace(w)), "EventsByTrace",
						func(e otelaudit.Event) bool { g, _ := concKey(e); return e.TraceID == concTrace(w) && g == w })
				case 6:
					a := concAgent(k % agents)
					err = concCheckSnapshot(gen.EventsByAgent(a), "EventsByAgent",
						func(e otelaudit.Event) bool { g, _ := concKey(e); return e.AgentID == a && agentOf(g) == a })
				case 7:
					if k%15 == 14 {
						gen.Clear()
					}
					err = concInvariant(gen.Stats())
				}
				if !assert.NoError(t, err, "goroutine %d (role %d) op %d", id, role, k) {
					return
				}
			}
		})
	}
	close(start)
	concWait(t, &wg, concTimeout, "75 mixed goroutines")

	st := gen.Stats()
	t.Logf("%d recorders, %d others; %+v", len(recorders), len(querying), st)
	require.NoError(t, concInvariant(st))
	wantAccepted := uint64(len(recorders) * (iters - iters/10))
	assert.Equal(t, wantAccepted, accepted.Load())
	assert.Equal(t, wantAccepted, st.Recorded, "Recorded == successful calls")
	assert.Equal(t, uint64(len(recorders)*(iters/10)), badInput.Load())
	assert.Equal(t, badInput.Load(), st.Rejected, "Rejected == refused calls")
	owner, ok := concSeqOwner(t, seqs, st.LastSeq)
	require.True(t, ok)
	assert.Len(t, owner, int(wantAccepted))
	concCheckHeld(t, gen, owner, concTraces(goroutines), concAgents(agents))
}

// Read-your-writes. A goroutine that has just recorded finds its
// event as the newest of its own trace and agent, unless a Clear or an
// eviction provably dropped it: then the oldest held Seq is already past it
// (the held Seqs are always one consecutive run ending at LastSeq).
func TestGeneratorConcReadYourWrites(t *testing.T) {
	const goroutines, perG = 16, 40
	tests := []struct {
		name     string
		capacity int
		clearers int
		strict   bool // nothing can drop an event: it must always be found
	}{
		{"room for all, no Clear", 0, 0, true},
		{"evicting at 64 and clearing", 64, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen := otelaudit.NewGenerator(concKeep, otelaudit.WithCapacity(tc.capacity))
			var wgW, wgC sync.WaitGroup
			var found, gone atomic.Int64
			start, done := make(chan struct{}), make(chan struct{})
			for w := range goroutines {
				wgW.Go(func() {
					<-start
					for i := range perG {
						seq, err := concRecordOwn(gen, w, i)
						if !assert.NoError(t, err) {
							return
						}
						byTrace := gen.EventsByTrace(concTrace(w))
						byAgent := gen.EventsByAgent(concAgent(w))
						var st otelaudit.Stats
						if !tc.strict {
							st = gen.Stats()
						}
						for _, q := range []struct {
							name string
							evs  []otelaudit.Event
						}{{"EventsByTrace", byTrace}, {"EventsByAgent", byAgent}} {
							if n := len(q.evs); n > 0 && q.evs[n-1].Seq == seq {
								// Only w writes this trace and agent: its last
								// write must be the newest there.
								g, gi := concKey(q.evs[n-1])
								assert.Equal(t, [2]int{w, i}, [2]int{g, gi})
								assert.Equal(t, concSpan(w, i), q.evs[n-1].SpanID)
								found.Add(1)
								continue
							}
							if tc.strict {
								assert.Failf(t, "write not visible", "%s of goroutine %d lacks Seq %d just returned", q.name, w, seq)
								return
							}
							first := st.LastSeq - uint64(st.Len) + 1
							if !assert.Less(t, seq, first, "%s of goroutine %d lacks Seq %d, yet it is still held", q.name, w, seq) {
								return
							}
							gone.Add(1)
						}
					}
				})
			}
			for range tc.clearers {
				wgC.Go(func() {
					<-start
					for !concClosed(done) {
						gen.Clear()
						time.Sleep(500 * time.Microsecond)
					}
				})
			}
			close(start)
			concWait(t, &wgW, concTimeout, "writers")
			close(done)
			concWait(t, &wgC, concTimeout, "clearers")

			t.Logf("own write found %d times, provably dropped %d times", found.Load(), gone.Load())
			assert.EqualValues(t, 2*goroutines*perG, found.Load()+gone.Load())
			if tc.strict {
				assert.EqualValues(t, 2*goroutines*perG, found.Load())
			}
			st := gen.Stats()
			require.NoError(t, concInvariant(st))
			assert.EqualValues(t, goroutines*perG, st.Recorded)
		})
	}
}

// Stats is read under one lock, so the accounting identity and
// the monotonicity of every counter hold in every observation, even while
// writers evict, clearers clear and bad input is rejected.
func TestGeneratorConcStatsAlwaysBalanced(t *testing.T) {
	const writers, perW, capacity, observers, clearers = 6, 200, 128, 3, 2
	const bad = 150
	gen := otelaudit.NewGenerator(concKeep, otelaudit.WithCapacity(capacity))
	var wgW, wgO sync.WaitGroup
	var observations atomic.Int64
	start, done := make(chan struct{}), make(chan struct{})
	for w := range writers {
		wgW.Go(func() {
			<-start
			for i := range perW {
				_, err := concRecordOwn(gen, w, i)
				if !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	wgW.Go(func() {
		<-start
		for i := range bad {
			e := concEvent(writers, i)
			e.Duration = -time.Second
			_, err := gen.Record(context.Background(), e)
			if !assert.ErrorIs(t, err, otelaudit.ErrInvalidEvent) {
				return
			}
		}
	})
	for range clearers {
		wgO.Go(func() {
			<-start
			for !concClosed(done) {
				gen.Clear()
				time.Sleep(300 * time.Microsecond)
			}
		})
	}
	for range observers {
		wgO.Go(func() {
			<-start
			var prev otelaudit.Stats
			for {
				final := concClosed(done)
				st := gen.Stats()
				observations.Add(1)
				if err := concInvariant(st); !assert.NoError(t, err, "observation %+v", st) {
					return
				}
				if !assert.Equal(t, capacity, st.Capacity) ||
					!assert.GreaterOrEqual(t, st.Recorded, prev.Recorded, "Recorded went back") ||
					!assert.GreaterOrEqual(t, st.Evicted, prev.Evicted, "Evicted went back") ||
					!assert.GreaterOrEqual(t, st.Cleared, prev.Cleared, "Cleared went back") ||
					!assert.GreaterOrEqual(t, st.Rejected, prev.Rejected, "Rejected went back") {
					return
				}
				prev = st
				if final {
					return
				}
			}
		})
	}
	close(start)
	concWait(t, &wgW, concTimeout, "writers")
	close(done)
	concWait(t, &wgO, concTimeout, "observers and clearers")

	st := gen.Stats()
	t.Logf("%d Stats observations; final %+v", observations.Load(), st)
	require.NoError(t, concInvariant(st))
	assert.EqualValues(t, writers*perW, st.Recorded)
	assert.EqualValues(t, bad, st.Rejected)
	concCheckHeld(t, gen, nil, concTraces(writers), concAgents(writers))
}

// With 100 goroutines, Stats counts exactly the calls that
// succeeded (Recorded, Len) and those that failed (Rejected), for bad input
// and, under RejectNew, for a full store.
func TestGeneratorConcCountsMatchCalls(t *testing.T) {
	const goroutines, perG = 100, 12 // every 4th call is bad input
	const valid, invalid = goroutines * perG * 3 / 4, goroutines * perG / 4
	tests := []struct {
		name     string
		opts     []otelaudit.Option
		accepted int
	}{
		{"evict oldest, room for all", nil, valid},
		{"reject new at 500", []otelaudit.Option{otelaudit.WithCapacity(500), otelaudit.WithFullPolicy(otelaudit.RejectNew)}, 500},
	}
	// Four kinds of bad input, each refused before the lock is taken.
	spoil := []func(*otelaudit.Event, *trace.TraceID){
		func(e *otelaudit.Event, _ *trace.TraceID) { e.Type = "" },
		func(e *otelaudit.Event, _ *trace.TraceID) { e.Outcome = "partial" },
		func(e *otelaudit.Event, _ *trace.TraceID) { e.Duration = -time.Millisecond },
		func(_ *otelaudit.Event, tid *trace.TraceID) { *tid = trace.TraceID{} }, // span without trace
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen := otelaudit.NewGenerator(append([]otelaudit.Option{concKeep}, tc.opts...)...)
			var ok, badInput, full, other atomic.Int64
			start := make(chan struct{})
			var wg sync.WaitGroup
			for w := range goroutines {
				wg.Go(func() {
					<-start
					for i := range perG {
						e, tid, via := concEvent(w, i), concTrace(w), concMix(w, i)
						if i%4 == 3 {
							spoil[(w+i)%len(spoil)](&e, &tid)
							// A span without a trace is only invalid when
							// the span is given in the event itself.
							via = concVia(int(via) &^ 1)
						}
						_, err := concPut(gen, e, tid, concSpan(w, i), via)
						switch {
						case err == nil:
							ok.Add(1)
						case errors.Is(err, otelaudit.ErrFull):
							full.Add(1)
						case errors.Is(err, otelaudit.ErrEmptyType), errors.Is(err, otelaudit.ErrInvalidEvent):
							badInput.Add(1)
						default:
							other.Add(1)
							assert.NoError(t, err)
						}
					}
				})
			}
			close(start)
			concWait(t, &wg, concTimeout, "100 recorders")

			st := gen.Stats()
			assert.EqualValues(t, tc.accepted, ok.Load())
			assert.EqualValues(t, invalid, badInput.Load(), "every bad input refused as such")
			assert.EqualValues(t, valid-tc.accepted, full.Load(), "every valid event past the bound refused with ErrFull")
			assert.Zero(t, other.Load())
			assert.EqualValues(t, ok.Load(), st.Recorded, "Recorded == successful calls")
			assert.Equal(t, int(ok.Load()), st.Len, "Len == successful calls: nothing evicted or cleared")
			assert.EqualValues(t, badInput.Load()+full.Load(), st.Rejected, "Rejected == failed calls")
			assert.Zero(t, st.Evicted)
			require.NoError(t, concInvariant(st))
			concCheckHeld(t, gen, nil, concTraces(goroutines), concAgents(goroutines))
		})
	}
}
