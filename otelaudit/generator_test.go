package otelaudit_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func tid(b byte) trace.TraceID { return trace.TraceID{0: 0xab, 15: b} }
func sid(b byte) trace.SpanID  { return trace.SpanID{0: 0xcd, 7: b} }

func TestRecordCompletesTheEvent(t *testing.T) {
	g := otelaudit.NewGenerator()
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid(1), SpanID: sid(2), TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)

	before := time.Now()
	e, err := g.Record(ctx, otelaudit.Event{Seq: 99, Type: otelaudit.ResourceAccess, AgentID: "a1"})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), e.Seq, "Seq is assigned, not taken from the caller")
	assert.Equal(t, tid(1), e.TraceID)
	assert.Equal(t, sid(2), e.SpanID)
	assert.False(t, e.Time.Before(before), "zero Time becomes now")

	got := g.EventsByTrace(tid(1))
	require.Len(t, got, 1)
	assert.Equal(t, e.Seq, got[0].Seq)
	assert.True(t, e.Time.Equal(got[0].Time), "returned and stored Time agree")
	assert.Equal(t, e.AgentID, got[0].AgentID)
}

func TestRecordTraceContextRules(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid(1), SpanID: sid(2)})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	tests := []struct {
		name      string
		in        otelaudit.Event
		wantTrace trace.TraceID
		wantSpan  trace.SpanID
	}{
		{"both from ctx", otelaudit.Event{}, tid(1), sid(2)},
		{"own trace and span kept", otelaudit.Event{TraceID: tid(7), SpanID: sid(8)}, tid(7), sid(8)},
		{"span from ctx of the same trace", otelaudit.Event{TraceID: tid(1)}, tid(1), sid(2)},
		{"no span from ctx of another trace", otelaudit.Event{TraceID: tid(7)}, tid(7), trace.SpanID{}},
		{"own span kept, trace from ctx", otelaudit.Event{SpanID: sid(9)}, tid(1), sid(9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := otelaudit.NewGenerator()
			tt.in.Type = otelaudit.NodeStart
			e, err := g.Record(ctx, tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.wantTrace, e.TraceID)
			assert.Equal(t, tt.wantSpan, e.SpanID)
		})
	}
}

func TestRecordRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		in   otelaudit.Event
		want error
	}{
		{"empty type", context.Background(), otelaudit.Event{}, otelaudit.ErrEmptyType},
		{"unknown outcome", context.Background(), otelaudit.Event{Type: "x", Outcome: "maybe"}, otelaudit.ErrInvalidEvent},
		{"negative duration", context.Background(), otelaudit.Event{Type: "x", Duration: -time.Second}, otelaudit.ErrInvalidEvent},
		{"span without trace", context.Background(), otelaudit.Event{Type: "x", SpanID: sid(1)}, otelaudit.ErrInvalidEvent},
		{"a type of the trail's own records", context.Background(), otelaudit.Event{Type: otelaudit.SeqGap}, otelaudit.ErrInvalidEvent},
		{"any type under their prefix", context.Background(), otelaudit.Event{Type: "otelaudit.custom"}, otelaudit.ErrInvalidEvent},
		{"nil context is no panic", nil, otelaudit.Event{}, otelaudit.ErrEmptyType}, //nolint:staticcheck // nil ctx on purpose
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := otelaudit.NewGenerator()
			_, err := g.Record(tt.ctx, tt.in)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "got %v", err)
			_, err = g.Append(tt.ctx, tt.in)
			assert.True(t, errors.Is(err, tt.want), "got %v", err)
			s := g.Stats()
			assert.Equal(t, uint64(2), s.Rejected)
			assert.Equal(t, uint64(0), s.Recorded)
			assert.Zero(t, s.Len)
		})
	}
}

// A nil *Generator and the zero Generator{} refuse with ErrNilGenerator or
// return nothing, from every method; none panics.
func TestNilAndZeroGenerator(t *testing.T) {
	for name, g := range map[string]*otelaudit.Generator{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			_, err := g.Record(ctx, otelaudit.Event{Type: "x"})
			assert.ErrorIs(t, err, otelaudit.ErrNilGenerator)
			_, err = g.Append(ctx, otelaudit.Event{Type: "x"})
			assert.ErrorIs(t, err, otelaudit.ErrNilGenerator)
			assert.Nil(t, g.Events(0))
			assert.Nil(t, g.EventsAfter(0, 0))
			assert.Nil(t, g.EventsByTrace(tid(1)))
			assert.Nil(t, g.EventsByType("x"))
			assert.Nil(t, g.EventsByAgent("x"))
			assert.Equal(t, otelaudit.Stats{}, g.Stats())
			assert.Equal(t, otelaudit.Checkpoint{}, g.Head())
			assert.Equal(t, otelaudit.Checkpoint{}, g.Checkpoint())
			assert.Nil(t, g.Checkpoints())
			assert.Equal(t, otelaudit.Anchor{}, g.Anchor())
			assert.ErrorIs(t, g.Verify(), otelaudit.ErrNilGenerator)
			assert.ErrorIs(t, g.ForceFlush(ctx), otelaudit.ErrNilGenerator)
			assert.ErrorIs(t, g.Shutdown(ctx), otelaudit.ErrNilGenerator)
			g.Clear()
		})
	}
}

func TestEventsLimitAndOrder(t *testing.T) {
	g := otelaudit.NewGenerator()
	for i := 0; i < 10; i++ {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: "t", Action: string(rune('a' + i))})
		require.NoError(t, err)
	}
	all := g.Events(0)
	require.Len(t, all, 10)
	for i, e := range all {
		assert.Equal(t, uint64(i+1), e.Seq)
	}
	last3 := g.Events(3)
	require.Len(t, last3, 3)
	assert.Equal(t, []string{"h", "i", "j"}, []string{last3[0].Action, last3[1].Action, last3[2].Action})
	assert.Len(t, g.Events(-1), 10)
	assert.Len(t, g.Events(100), 10)
}

func TestIndexes(t *testing.T) {
	g := otelaudit.NewGenerator()
	rec := func(tr byte, typ otelaudit.EventType, agent string) {
		_, err := g.Record(context.Background(), otelaudit.Event{TraceID: tid(tr), Type: typ, AgentID: agent})
		require.NoError(t, err)
	}
	rec(1, otelaudit.WorkflowStart, "a")
	rec(2, otelaudit.WorkflowStart, "b")
	rec(1, otelaudit.NodeStart, "a")
	rec(1, otelaudit.NodeEnd, "")
	rec(2, otelaudit.TrustDenied, "b")

	seqs := func(es []otelaudit.Event) []uint64 {
		var out []uint64
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	assert.Equal(t, []uint64{1, 3, 4}, seqs(g.EventsByTrace(tid(1))))
	assert.Equal(t, []uint64{2, 5}, seqs(g.EventsByTrace(tid(2))))
	assert.Nil(t, g.EventsByTrace(tid(3)))
	assert.Nil(t, g.EventsByTrace(trace.TraceID{}))
	assert.Equal(t, []uint64{1, 2}, seqs(g.EventsByType(otelaudit.WorkflowStart)))
	assert.Equal(t, []uint64{5}, seqs(g.EventsByType(otelaudit.TrustDenied)))
	assert.Equal(t, []uint64{1, 3}, seqs(g.EventsByAgent("a")))
	assert.Nil(t, g.EventsByAgent(""))
}

func TestEvictOldestKeepsIndexesConsistent(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(3))
	for i := 1; i <= 7; i++ {
		_, err := g.Record(context.Background(), otelaudit.Event{
			TraceID: tid(byte(i % 2)), Type: otelaudit.EventType([]string{"x", "y"}[i%2]), AgentID: "a",
		})
		require.NoError(t, err)
	}
	s := g.Stats()
	assert.Positive(t, s.Bytes)
	assert.Equal(t, otelaudit.Stats{Recorded: 7, Evicted: 4, Len: 3, Capacity: 3, LastSeq: 7, Bytes: s.Bytes, MaxBytes: otelaudit.DefaultMaxBytes}, s)
	var seqs []uint64
	for _, e := range g.Events(0) {
		seqs = append(seqs, e.Seq)
	}
	assert.Equal(t, []uint64{5, 6, 7}, seqs)
	assert.Len(t, g.EventsByTrace(tid(1)), 2) // 5, 7
	assert.Len(t, g.EventsByTrace(tid(0)), 1) // 6
	assert.Len(t, g.EventsByType("y"), 2)     // 5, 7
	assert.Len(t, g.EventsByType("x"), 1)     // 6
	assert.Len(t, g.EventsByAgent("a"), 3)
}

func TestRejectNewWhenFull(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(2), otelaudit.WithFullPolicy(otelaudit.RejectNew))
	for i := 0; i < 2; i++ {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: "x"})
		require.NoError(t, err)
	}
	_, err := g.Record(context.Background(), otelaudit.Event{Type: "x"})
	assert.ErrorIs(t, err, otelaudit.ErrFull)
	s := g.Stats()
	assert.Equal(t, uint64(2), s.Recorded)
	assert.Equal(t, uint64(1), s.Rejected)
	assert.Equal(t, uint64(0), s.Evicted)
	assert.Equal(t, 2, s.Len)
	// The held events are the first two.
	es := g.Events(0)
	require.Len(t, es, 2)
	assert.Equal(t, uint64(1), es[0].Seq)
}

func TestClearKeepsSeqAndCounts(t *testing.T) {
	g := otelaudit.NewGenerator()
	for i := 0; i < 5; i++ {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: "x", TraceID: tid(1), AgentID: "a"})
		require.NoError(t, err)
	}
	g.Clear()
	assert.Empty(t, g.Events(0))
	assert.Empty(t, g.EventsByTrace(tid(1)))
	assert.Empty(t, g.EventsByType("x"))
	assert.Empty(t, g.EventsByAgent("a"))
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", TraceID: tid(1)})
	require.NoError(t, err)
	assert.Equal(t, uint64(6), e.Seq, "Seq is never reused after Clear")
	s := g.Stats()
	assert.Equal(t, uint64(6), s.Recorded)
	assert.Equal(t, uint64(5), s.Cleared)
	assert.Equal(t, 1, s.Len)
	assert.Len(t, g.EventsByTrace(tid(1)), 1)
}

func TestQueriesReturnCopies(t *testing.T) {
	g := otelaudit.NewGenerator(fullLevel)
	attrs := []attribute.KeyValue{attribute.String("k", "v"), attribute.Int("n", 1)}
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", TraceID: tid(1), Attributes: attrs})
	require.NoError(t, err)

	attrs[0] = attribute.String("k", "changed by caller")
	e.Attributes[1] = attribute.Int("n", 2)
	e.AgentID = "mallory"
	for _, q := range [][]otelaudit.Event{g.Events(0), g.EventsByTrace(tid(1)), g.EventsByType("x")} {
		require.Len(t, q, 1)
		q[0].Attributes[0] = attribute.String("k", "changed by reader")
		q[0].Attributes = append(q[0].Attributes, attribute.Bool("extra", true))
	}
	got := g.Events(0)[0]
	assert.Equal(t, []attribute.KeyValue{attribute.String("k", "v"), attribute.Int("n", 1)}, got.Attributes)
	assert.Empty(t, got.AgentID)
}

func TestSourceIsKept(t *testing.T) {
	g := otelaudit.NewGenerator()
	res := resource.NewSchemaless(attribute.String("service.name", "svc"))
	src := otelaudit.NewSource(res, instrumentation.Scope{Name: "runtime"})
	_, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Source: src})
	require.NoError(t, err)
	_, err = g.Record(context.Background(), otelaudit.Event{Type: "x"})
	require.NoError(t, err)
	es := g.Events(0)
	assert.Equal(t, res, es[0].Source.Resource())
	assert.Equal(t, "runtime", es[0].Source.Scope().Name)
	assert.Nil(t, es[1].Source)
	assert.Nil(t, es[1].Source.Resource(), "a nil Source answers safely")
}

func TestCapacityOptions(t *testing.T) {
	assert.Equal(t, otelaudit.DefaultCapacity, otelaudit.NewGenerator().Stats().Capacity)
	assert.Equal(t, otelaudit.DefaultCapacity, otelaudit.NewGenerator(otelaudit.WithCapacity(0)).Stats().Capacity)
	assert.Equal(t, otelaudit.DefaultCapacity, otelaudit.NewGenerator(otelaudit.WithCapacity(-5)).Stats().Capacity)
	assert.Equal(t, 7, otelaudit.NewGenerator(otelaudit.WithCapacity(7)).Stats().Capacity)
	assert.Equal(t, otelaudit.MaxCapacity, otelaudit.NewGenerator(otelaudit.WithCapacity(math.MaxInt)).Stats().Capacity)
	assert.GreaterOrEqual(t, otelaudit.DefaultCapacity, 100_000)
}

// TestLongRunWrapsTheRing records many times the capacity with events of
// varied sizes, so that the ring wraps and arena chunks are released and
// reused, and checks the held window is exact.
func TestLongRunWrapsTheRing(t *testing.T) {
	const capacity, total = 5000, 60_000
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(capacity), fullLevel)
	for i := 1; i <= total; i++ {
		big := make([]byte, i%700)
		_, err := g.Append(context.Background(), otelaudit.Event{
			Type: "x", TraceID: tid(byte(i % 50)), AgentID: "a",
			Attributes: []attribute.KeyValue{attribute.String("pad", string(big)), attribute.Int("i", i)},
		})
		require.NoError(t, err)
	}
	es := g.Events(0)
	require.Len(t, es, capacity)
	for j, e := range es {
		i := total - capacity + 1 + j
		require.Equal(t, uint64(i), e.Seq)
		require.Equal(t, int64(i), e.Attributes[1].Value.AsInt64())
		require.Len(t, e.Attributes[0].Value.AsString(), i%700)
	}
	n := 0
	for b := 0; b < 50; b++ {
		n += len(g.EventsByTrace(tid(byte(b))))
	}
	assert.Equal(t, capacity, n)
	assert.Len(t, g.EventsByAgent("a"), capacity)
}

func TestRecordReturnsWhatQueriesReturn(t *testing.T) {
	g := otelaudit.NewGenerator(fullLevel)
	for _, at := range []time.Time{{}, time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)} {
		e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", TraceID: tid(9), Time: at,
			Attributes: []attribute.KeyValue{attribute.String("k", "v")}})
		require.NoError(t, err)
		got := g.EventsByTrace(tid(9))
		assert.Equal(t, e, got[len(got)-1])
	}
}

// TestTinyRingsUnderConcurrency: with a ring smaller than the number of
// writers, a slot is reused while its previous writer may still be copying,
// and arena chunks are released while being written. Every event must still
// come back intact, and the accounting be exact.
func TestTinyRingsUnderConcurrency(t *testing.T) {
	for _, capacity := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			g := otelaudit.NewGenerator(otelaudit.WithCapacity(capacity), fullLevel)
			const writers, each = 8, 2000
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				wg.Go(func() {
					for i := 0; i < each; i++ {
						_, err := g.Append(context.Background(), otelaudit.Event{
							Type: "x", TraceID: tid(byte(w)), AgentID: fmt.Sprint(w),
							Attributes: []attribute.KeyValue{attribute.Int("w", w), attribute.Int("i", i)},
						})
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Go(func() { // a reader, so that indexed events get evicted too
				for i := 0; i < 500; i++ {
					for _, e := range g.EventsByTrace(tid(byte(i % writers))) {
						if e.TraceID != tid(byte(i%writers)) || e.AgentID != fmt.Sprint(e.Attributes[0].Value.AsInt64()) {
							t.Errorf("corrupt event %+v", e)
							return
						}
					}
				}
			})
			wg.Wait()
			s := g.Stats()
			require.Equal(t, uint64(writers*each), s.Recorded)
			require.Equal(t, capacity, s.Len)
			require.Equal(t, uint64(writers*each-capacity), s.Evicted)
			es := g.Events(0)
			require.Len(t, es, capacity)
			for k, e := range es {
				assert.Equal(t, uint64(writers*each-capacity+k+1), e.Seq)
				assert.Equal(t, tid(byte(e.Attributes[0].Value.AsInt64())), e.TraceID)
			}
		})
	}
}

// fullLevel keeps every attribute but known secrets: the tests that record
// attributes of their own look at what the Generator does with them, not at
// the default level, which keeps only the known safe ones (policy_test.go).
var fullLevel = otelaudit.WithPolicy(otelaudit.Policy{Level: otelaudit.LevelFull})
