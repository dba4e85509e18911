package tests

// Shared helpers of the Generator concurrency tests. Every name starts with
// "conc" because package tests is shared with other suites.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// concTimeout bounds every wait of the concurrency tests: far above what a
// healthy run needs on two cores under -race, yet low enough that a deadlock
// fails the run with a goroutine dump instead of hanging it until the go test
// deadline kills it without one.
const concTimeout = 20 * time.Second

// concTypes are the event types the tests cycle through: defined types plus a
// custom one, so that the type index also holds keys the package never names.
var concTypes = []otelaudit.EventType{
	otelaudit.NodeStart,
	otelaudit.ResourceAccess,
	otelaudit.TrustVerification,
	otelaudit.NodeEnd,
	"conc_custom",
}

func concType(i int) otelaudit.EventType { return concTypes[i%len(concTypes)] }

// concTrace is goroutine n's own trace. The 0xC0 tag keeps it non-zero (valid)
// for n == 0 and apart from the traces other suites use.
func concTrace(n int) trace.TraceID {
	var id trace.TraceID
	id[0] = 0xC0
	binary.BigEndian.PutUint64(id[8:], uint64(n))
	return id
}

// concSharedTrace is a trace several goroutines write to; it never equals a
// concTrace.
func concSharedTrace(n int) trace.TraceID {
	id := concTrace(n)
	id[1] = 0x5E
	return id
}

// concSpan is the span of event i of goroutine g: unique per (g, i), so a
// stored SpanID tells which call it came from, whichever way it was passed.
func concSpan(g, i int) trace.SpanID {
	var id trace.SpanID
	binary.BigEndian.PutUint64(id[:], 0x5A<<56|uint64(g)<<24|uint64(i))
	return id
}

func concAgent(g int) string { return fmt.Sprintf("conc-agent-%03d", g) }

// concEvent is event i of goroutine g, without trace context. Its identity
// travels in its attributes so that any event read back can be traced to the
// call that recorded it.
func concEvent(g, i int) otelaudit.Event {
	return otelaudit.Event{
		Type:       concType(i),
		AgentID:    concAgent(g),
		WorkflowID: "conc-workflow",
		NodeID:     fmt.Sprintf("node-%d", i),
		Action:     "conc.step",
		Outcome:    otelaudit.Success,
		Attributes: []attribute.KeyValue{attribute.Int("conc.g", g), attribute.Int("conc.i", i)},
	}
}

// concKey returns the (goroutine, index) an event was recorded with, or
// (-1, -1) when it carries none.
func concKey(e otelaudit.Event) (g, i int) {
	g, i = -1, -1
	for _, kv := range e.Attributes {
		switch kv.Key {
		case "conc.g":
			g = int(kv.Value.AsInt64())
		case "conc.i":
			i = int(kv.Value.AsInt64())
		}
	}
	return g, i
}

// concVia is one of the four ways an event reaches the Generator: Record or
// Append, with the trace context in the event's fields or in ctx.
type concVia int

const (
	concRecordField concVia = iota
	concRecordCtx
	concAppendField
	concAppendCtx
	concViaCount
)

func (v concVia) String() string {
	return [...]string{"Record/field", "Record/ctx", "Append/field", "Append/ctx"}[v]
}

// concMix spreads the four ways over the calls of every goroutine, so that
// each of them races with the others.
func concMix(g, i int) concVia { return concVia((g + i) % int(concViaCount)) }

var errConcMismatch = errors.New("conc: Record returned another event than the one given")

// concPut records e with trace tid and span sid through v and returns the
// Seq it was given. For Record it also checks the returned event is the one
// given, completed.
func concPut(g *otelaudit.Generator, e otelaudit.Event, tid trace.TraceID, sid trace.SpanID, v concVia) (uint64, error) {
	ctx := context.Background()
	switch v {
	case concRecordCtx, concAppendCtx:
		ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    tid,
			SpanID:     sid,
			TraceFlags: trace.FlagsSampled,
		}))
	default:
		e.TraceID, e.SpanID = tid, sid
	}
	if v == concAppendField || v == concAppendCtx {
		return g.Append(ctx, e)
	}
	got, err := g.Record(ctx, e)
	if err != nil {
		return 0, err
	}
	wg, wi := concKey(e)
	gg, gi := concKey(got)
	if got.Seq == 0 || got.TraceID != tid || got.SpanID != sid || got.Type != e.Type ||
		got.AgentID != e.AgentID || got.Time.IsZero() || gg != wg || gi != wi {
		return got.Seq, fmt.Errorf("%w: got seq %d trace %s span %s key (%d,%d), want trace %s span %s key (%d,%d)",
			errConcMismatch, got.Seq, got.TraceID, got.SpanID, gg, gi, tid, sid, wg, wi)
	}
	return got.Seq, nil
}

// concSeqs returns the Seqs of evs, never nil, so that "no events" compares
// equal whichever way a query spells it.
func concSeqs(evs []otelaudit.Event) []uint64 {
	out := make([]uint64, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

// concCheckSnapshot is what every query result must satisfy whatever runs
// beside it: Seqs strictly increasing, every event matching the query, and
// the events of each recording goroutine in the order it issued them.
func concCheckSnapshot(evs []otelaudit.Event, what string, match func(otelaudit.Event) bool) error {
	lastI := map[int]int{}
	for k, e := range evs {
		if k > 0 && e.Seq <= evs[k-1].Seq {
			return fmt.Errorf("%s: Seq %d after %d at position %d", what, e.Seq, evs[k-1].Seq, k)
		}
		if !match(e) {
			return fmt.Errorf("%s: foreign event at position %d: seq %d type %q trace %s agent %q",
				what, k, e.Seq, e.Type, e.TraceID, e.AgentID)
		}
		g, i := concKey(e)
		if p, ok := lastI[g]; ok && i <= p {
			return fmt.Errorf("%s: goroutine %d's event %d after its event %d", what, g, i, p)
		}
		lastI[g] = i
	}
	return nil
}

// concConsecutive checks that evs, a result of Events, has consecutive
// Seqs: the held events always are one run [first, next), and Events returns
// the newest part of it.
func concConsecutive(evs []otelaudit.Event, what string) error {
	for k := 1; k < len(evs); k++ {
		if evs[k].Seq != evs[k-1].Seq+1 {
			return fmt.Errorf("%s: Seq %d after %d", what, evs[k].Seq, evs[k-1].Seq)
		}
	}
	return nil
}

// concExtends checks that evs starts with the Seqs seen by the previous
// read of the same query, then remembers evs. With neither Clear nor
// eviction, a later read may only add events.
func concExtends(prev map[string][]uint64, key string, evs []otelaudit.Event) error {
	p := prev[key]
	if len(evs) < len(p) {
		return fmt.Errorf("%s shrank from %d to %d events", key, len(p), len(evs))
	}
	for j, seq := range p {
		if evs[j].Seq != seq {
			return fmt.Errorf("%s: position %d was Seq %d, now %d", key, j, seq, evs[j].Seq)
		}
	}
	prev[key] = concSeqs(evs)
	return nil
}

// concInvariant is what Stats must show at any instant: every accepted event
// is held, evicted or cleared; a Seq is consumed only by an accepted event.
func concInvariant(st otelaudit.Stats) error {
	if st.Recorded != uint64(st.Len)+st.Evicted+st.Cleared {
		return fmt.Errorf("Recorded %d != Len %d + Evicted %d + Cleared %d", st.Recorded, st.Len, st.Evicted, st.Cleared)
	}
	if st.Len < 0 || st.Len > st.Capacity {
		return fmt.Errorf("Len %d outside [0, Capacity %d]", st.Len, st.Capacity)
	}
	if st.LastSeq != st.Recorded {
		return fmt.Errorf("LastSeq %d != Recorded %d", st.LastSeq, st.Recorded)
	}
	return nil
}

// concSeqOwner maps every Seq handed out to the (goroutine, index) that got
// it, failing on a Seq handed out twice or outside 1..last. seqs[g][i] == 0
// marks a call that failed. ok is false once a check has failed.
func concSeqOwner(t *testing.T, seqs [][]uint64, last uint64) (owner map[uint64][2]int, ok bool) {
	t.Helper()
	owner = make(map[uint64][2]int, last)
	for g, row := range seqs {
		for i, seq := range row {
			if seq == 0 {
				continue
			}
			if !assert.LessOrEqual(t, seq, last, "goroutine %d event %d got a Seq above LastSeq", g, i) {
				return owner, false
			}
			if prev, dup := owner[seq]; dup {
				assert.Failf(t, "Seq handed out twice", "Seq %d went to %v and to [%d %d]", seq, prev, g, i)
				return owner, false
			}
			owner[seq] = [2]int{g, i}
		}
	}
	return owner, true
}

// concCheckHeld checks a quiescent Generator: the held events are the
// consecutive Seqs ending at LastSeq (eviction and Clear only ever drop the
// oldest), each is the event its Seq was handed out for, and every index
// holds exactly the held events of its key. traces and agents name keys that
// must be checked even when no held event has them, so that an index still
// holding dropped events is caught.
func concCheckHeld(t *testing.T, g *otelaudit.Generator, owner map[uint64][2]int,
	traces []trace.TraceID, agents []string,
) {
	t.Helper()
	st := g.Stats()
	evs := g.Events(0)
	if !assert.Len(t, evs, st.Len, "Events(0) against Stats.Len") {
		return
	}
	byTrace := map[trace.TraceID][]otelaudit.Event{}
	byType := map[otelaudit.EventType][]otelaudit.Event{}
	byAgent := map[string][]otelaudit.Event{}
	for k, e := range evs {
		want := st.LastSeq - uint64(st.Len) + 1 + uint64(k)
		if !assert.Equal(t, want, e.Seq, "held Seqs must be consecutive and end at LastSeq") {
			return
		}
		if owner != nil {
			gi, ok := owner[e.Seq]
			g, i := concKey(e)
			if !assert.True(t, ok, "held Seq %d was never handed out", e.Seq) ||
				!assert.Equal(t, gi, [2]int{g, i}, "held Seq %d holds another call's event", e.Seq) {
				return
			}
		}
		if e.TraceID.IsValid() {
			byTrace[e.TraceID] = append(byTrace[e.TraceID], e)
		}
		byType[e.Type] = append(byType[e.Type], e)
		if e.AgentID != "" {
			byAgent[e.AgentID] = append(byAgent[e.AgentID], e)
		}
	}

	for _, id := range traces {
		if _, ok := byTrace[id]; !ok {
			byTrace[id] = nil
		}
	}
	for id, want := range byTrace {
		assert.Equal(t, concSeqs(want), concSeqs(g.EventsByTrace(id)), "EventsByTrace(%s)", id)
	}

	sum := 0
	types := slices.Clone(concTypes)
	for typ := range byType {
		if !slices.Contains(types, typ) {
			types = append(types, typ)
		}
	}
	for _, typ := range types {
		got := g.EventsByType(typ)
		sum += len(got)
		assert.Equal(t, concSeqs(byType[typ]), concSeqs(got), "EventsByType(%q)", typ)
	}
	assert.Equal(t, st.Len, sum, "the type index must hold every held event exactly once")

	for _, a := range agents {
		if _, ok := byAgent[a]; !ok {
			byAgent[a] = nil
		}
	}
	for a, want := range byAgent {
		assert.Equal(t, concSeqs(want), concSeqs(g.EventsByAgent(a)), "EventsByAgent(%q)", a)
	}
}

// concRecordOwn records event i of goroutine w on w's own trace, the way
// concMix picks for (w, i).
func concRecordOwn(gen *otelaudit.Generator, w, i int) (uint64, error) {
	return concPut(gen, concEvent(w, i), concTrace(w), concSpan(w, i), concMix(w, i))
}

// concRecordAll has goroutines goroutines, released together, each record
// perG events with concRecordOwn, and waits for them within concTimeout.
func concRecordAll(t *testing.T, gen *otelaudit.Generator, goroutines, perG int) {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range goroutines {
		wg.Go(func() {
			<-start
			for i := range perG {
				_, err := concRecordOwn(gen, w, i)
				if !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	close(start)
	concWait(t, &wg, concTimeout, "recorders")
}

// concWait waits for wg and fails the test with every goroutine's stack if
// that takes longer than d: a deadlock then says where everyone is stuck.
func concWait(t *testing.T, wg *sync.WaitGroup, d time.Duration, what string) {
	t.Helper()
	concWaitOr(t, wg, d, func() string { return fmt.Sprintf("%s not done after %s", what, d) })
}

// concWaitOr is concWait with the failure's first line given by why, called
// only on timeout (so it can report progress counters read at that moment).
func concWaitOr(t *testing.T, wg *sync.WaitGroup, d time.Duration, why func() string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s; goroutines:\n%s", why(), concStacks())
	}
}

// concStacks returns the stacks of all goroutines.
func concStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func concClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// concTraces and concAgents list the keys of goroutines 0..n-1.
func concTraces(n int) []trace.TraceID {
	out := make([]trace.TraceID, n)
	for i := range out {
		out[i] = concTrace(i)
	}
	return out
}

func concAgents(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = concAgent(i)
	}
	return out
}

// concPace is the pause of a reader that loops beside writers to check what
// it sees, not to measure throughput. Under sync.RWMutex a waiting writer
// lets the current readers finish, so back-to-back readers make every write
// wait out one whole read; the pause keeps such tests fast on two cores.
// TestGeneratorConcNoStarvation is where readers run without pause.
func concPace() { time.Sleep(100 * time.Microsecond) }

// concKeep keeps the conc.* attributes the concurrency tests identify their
// events by: the default level keeps only the known safe keys.
var concKeep = otelaudit.WithPolicy(otelaudit.Policy{Keep: []string{"conc.*"}})
