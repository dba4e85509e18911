package tests

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Indexing is lazy and catches up a chunk of 1,024 events per
// hold of the lock, letting writers in between. With more events waiting
// than a chunk, writers evicting the oldest (some indexed, some not) and
// readers clearing now and then, every query must still see only its key's
// events in order, Stats must always add up, and at the end every index
// must hold exactly the held events.
func TestGeneratorConcCatchUpWithEvictionAndClear(t *testing.T) {
	for _, capacity := range []int{1500, 4096, 5000} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			const writers, perW, readers = 4, 10_000, 2
			gen := otelaudit.NewGenerator(concKeep, otelaudit.WithCapacity(capacity))
			seqs := make([][]uint64, writers)
			var done atomic.Bool
			var wg, rg sync.WaitGroup
			for w := range writers {
				seqs[w] = make([]uint64, perW)
				wg.Go(func() {
					for i := range perW {
						seq, err := concRecordOwn(gen, w, i)
						if !assert.NoError(t, err) {
							return
						}
						seqs[w][i] = seq
					}
				})
			}
			for r := range readers {
				rg.Go(func() {
					for n := 0; !done.Load(); n++ {
						w := (n + r) % writers
						if err := concCheckSnapshot(gen.EventsByTrace(concTrace(w)), "EventsByTrace",
							func(e otelaudit.Event) bool { return e.TraceID == concTrace(w) }); !assert.NoError(t, err) {
							return
						}
						typ := concType(n)
						if err := concCheckSnapshot(gen.EventsByType(typ), "EventsByType",
							func(e otelaudit.Event) bool { return e.Type == typ }); !assert.NoError(t, err) {
							return
						}
						if !assert.NoError(t, concInvariant(gen.Stats())) {
							return
						}
						if n%50 == 49 {
							gen.Clear()
						}
						concPace()
					}
				})
			}
			concWait(t, &wg, concTimeout, "writers")
			done.Store(true)
			concWait(t, &rg, concTimeout, "readers")

			st := gen.Stats()
			assert.Equal(t, uint64(writers*perW), st.Recorded)
			assert.NoError(t, concInvariant(st))
			if owner, ok := concSeqOwner(t, seqs, st.LastSeq); ok {
				concCheckHeld(t, gen, owner, concTraces(writers), concAgents(writers))
			}
		})
	}
}
