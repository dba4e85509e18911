package otelaudit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// brute answers q the plain way: every held event, filtered, cut to the
// limit.
func brute(all []otelaudit.Event, q otelaudit.Query) []uint64 {
	var out []uint64
	for _, e := range all {
		switch {
		case q.TraceID.IsValid() && e.TraceID != q.TraceID,
			q.Type != "" && e.Type != q.Type,
			q.AgentID != "" && e.AgentID != q.AgentID,
			q.HumanOriginID != "" && e.HumanOriginID != q.HumanOriginID,
			q.Outcome == otelaudit.NoOutcome && e.Outcome != "",
			q.Outcome != "" && q.Outcome != otelaudit.NoOutcome && e.Outcome != q.Outcome,
			!q.Since.IsZero() && e.Time.Before(q.Since),
			!q.Until.IsZero() && !e.Time.Before(q.Until):
			continue
		}
		out = append(out, e.Seq)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		if q.Oldest {
			out = out[:q.Limit]
		} else {
			out = out[len(out)-q.Limit:]
		}
	}
	return out
}

var queryT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func randomTrailEvent(r *rand.Rand, i int) otelaudit.Event {
	return otelaudit.Event{
		Type:          []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd, otelaudit.TrustDenied, "custom"}[r.IntN(4)],
		TraceID:       trace.TraceID{byte(1 + r.IntN(6))},
		AgentID:       []string{"", "a", "b", "c"}[r.IntN(4)],
		HumanOriginID: []string{"", "alice", "bob"}[r.IntN(3)],
		Outcome:       []otelaudit.Outcome{"", otelaudit.Success, otelaudit.Denied, otelaudit.Error}[r.IntN(4)],
		// Times are not in Seq order: a caller's word.
		Time:       queryT0.Add(time.Duration(r.IntN(1000)) * time.Millisecond),
		Attributes: []attribute.KeyValue{attribute.Int("audit.i", i)},
	}
}

func randomQuery(r *rand.Rand) otelaudit.Query {
	var q otelaudit.Query
	if r.IntN(3) == 0 {
		q.TraceID = trace.TraceID{byte(1 + r.IntN(7))}
	}
	if r.IntN(3) == 0 {
		q.Type = []otelaudit.EventType{otelaudit.NodeStart, otelaudit.TrustDenied, "custom", "none"}[r.IntN(4)]
	}
	if r.IntN(3) == 0 {
		q.AgentID = []string{"a", "b", "z"}[r.IntN(3)]
	}
	if r.IntN(3) == 0 {
		q.HumanOriginID = []string{"alice", "bob", "carol"}[r.IntN(3)]
	}
	if r.IntN(3) == 0 {
		q.Outcome = []otelaudit.Outcome{otelaudit.NoOutcome, otelaudit.Success, otelaudit.Denied}[r.IntN(3)]
	}
	if r.IntN(3) == 0 {
		q.Since = queryT0.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	}
	if r.IntN(3) == 0 {
		q.Until = queryT0.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
	}
	if r.IntN(2) == 0 {
		q.Limit = 1 + r.IntN(20)
	}
	q.Oldest = r.IntN(2) == 0
	return q
}

// TestQueryAgreesWithAScan: for random trails (evicting) and random
// queries, Query returns exactly what filtering every held event returns,
// says More exactly when more matched, and Total is the events under the
// key it walked.
func TestQueryAgreesWithAScan(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 20 {
		g := otelaudit.NewGenerator(otelaudit.WithCapacity(50 + r.IntN(300)))
		for i := range 400 + r.IntN(400) {
			_, err := g.Record(context.Background(), randomTrailEvent(r, i))
			require.NoError(t, err)
		}
		if round%5 == 4 {
			g.Clear()
			for i := range 30 {
				_, err := g.Record(context.Background(), randomTrailEvent(r, i))
				require.NoError(t, err)
			}
		}
		all := g.Events(0)
		for range 200 {
			q := randomQuery(r)
			res := g.Query(q)
			want := brute(all, q)
			var got []uint64
			for _, e := range res.Events {
				got = append(got, e.Seq)
			}
			require.Equal(t, want, got, "round %d, query %+v", round, q)
			full := brute(all, otelaudit.Query{TraceID: q.TraceID, Type: q.Type, AgentID: q.AgentID, HumanOriginID: q.HumanOriginID,
				Outcome: q.Outcome, Since: q.Since, Until: q.Until})
			assert.Equal(t, len(full) > len(want), res.More, "round %d, query %+v", round, q)
			assert.LessOrEqual(t, res.Scanned, res.Total)
			for i, e := range res.Events {
				j := slices.IndexFunc(all, func(h otelaudit.Event) bool { return h.Seq == e.Seq })
				require.Equal(t, all[j], e, "an event as every query returns it")
				_ = i
			}
		}
	}
}

// TestQueryAcrossChunks: walks that end exactly where a chunk of the walk
// ends, or just before or after, return every event once, in order.
func TestQueryAcrossChunks(t *testing.T) {
	for _, n := range []int{1023, 1024, 1025, 2048, 3000} {
		g := otelaudit.NewGenerator()
		for range n {
			_, err := g.Record(context.Background(), otelaudit.Event{Type: "x", AgentID: "a", Outcome: otelaudit.Success})
			require.NoError(t, err)
		}
		for _, q := range []otelaudit.Query{
			{Type: "x"}, {Type: "x", Oldest: true}, {Type: "x", Outcome: otelaudit.Success, Oldest: true},
			{AgentID: "a", Type: "x"}, {}, {Oldest: true}, {Outcome: otelaudit.Success},
		} {
			res := g.Query(q)
			require.Len(t, res.Events, n, "n=%d query %+v", n, q)
			for i, e := range res.Events {
				require.Equal(t, uint64(i+1), e.Seq, "n=%d query %+v", n, q)
			}
			assert.False(t, res.More)
		}
	}
}

// TestQueryDecodesWhatItReturns: a query with a limit of 1 over a type
// with 20,000 heavy events decodes one of them, not 20,000: it allocates
// about one event's worth, where decoding them all would take megabytes.
func TestQueryDecodesWhatItReturns(t *testing.T) {
	g := otelaudit.NewGenerator(fullLevel)
	pad := strings.Repeat("x", 1000)
	for i := range 20_000 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeEnd, TraceID: trace.TraceID{1}, AgentID: "a",
			HumanOriginID: "alice", Attributes: []attribute.KeyValue{attribute.String("pad", pad), attribute.Int("i", i)}})
		require.NoError(t, err)
	}
	_ = g.Events(1) // indexes and seals what was recorded
	for _, q := range []otelaudit.Query{
		{Type: otelaudit.NodeEnd, Limit: 1},
		{AgentID: "a", Limit: 1},
		{HumanOriginID: "alice", Limit: 1},
		{TraceID: trace.TraceID{1}, Limit: 1, Oldest: true},
		{Type: otelaudit.NodeEnd, AgentID: "a", Since: queryT0, Limit: 1},
		{Type: otelaudit.NodeEnd, Outcome: otelaudit.Denied, Limit: 1}, // no match: walks all, decodes none
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res := g.Query(q)
		runtime.ReadMemStats(&after)
		assert.LessOrEqual(t, len(res.Events), 1)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "query %+v allocated %d bytes", q, after.TotalAlloc-before.TotalAlloc)
		assert.Equal(t, 20_000, res.Total)
	}
}

// TestQueryDuringWritesAndEviction: queries walking long lists, a chunk
// at a time, while writers evict under them and Clear empties the trail:
// every answer is sorted, within its limit, and matches its filters.
func TestQueryDuringWritesAndEviction(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(3000))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = g.Append(context.Background(), randomTrailEvent(r, i))
				if i%20_000 == 19_999 {
					g.Clear()
				}
			}
		})
	}
	r := rand.New(rand.NewPCG(7, 7))
	deadline := time.Now().Add(time.Second)
	n := 0
	for ; time.Now().Before(deadline) || n < 50; n++ {
		q := randomQuery(r)
		res := g.Query(q)
		if q.Limit > 0 {
			require.LessOrEqual(t, len(res.Events), q.Limit)
		}
		for i, e := range res.Events {
			if i > 0 && e.Seq <= res.Events[i-1].Seq {
				var seqs []uint64
				for _, x := range res.Events {
					seqs = append(seqs, x.Seq)
				}
				t.Fatalf("not oldest first: query %+v: %v", q, seqs)
			}
			require.Equal(t, []uint64{e.Seq}, brute([]otelaudit.Event{e}, otelaudit.Query{TraceID: q.TraceID, Type: q.Type,
				AgentID: q.AgentID, HumanOriginID: q.HumanOriginID, Outcome: q.Outcome, Since: q.Since, Until: q.Until}), "query %+v", q)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d queries during the writes", n)
}

func ExampleGenerator_Query() {
	g := otelaudit.NewGenerator()
	ctx := context.Background()
	for i := range 5 {
		_, _ = g.Record(ctx, otelaudit.Event{Type: otelaudit.TrustDenied, AgentID: "billing", Resource: fmt.Sprint("invoice-", i)})
	}
	// The newest two denials of the billing agent: only they are decoded.
	res := g.Query(otelaudit.Query{Type: otelaudit.TrustDenied, AgentID: "billing", Limit: 2})
	for _, e := range res.Events {
		fmt.Println(e.Seq, e.Resource)
	}
	fmt.Println("more:", res.More)
	// Output:
	// 4 invoice-3
	// 5 invoice-4
	// more: true
}
