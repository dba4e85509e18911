package otelaudit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// TestLargeEventIsCutAndSaysSo: a megabyte attribute is cut to the event
// size cap, the event is still recorded whole but for it, says what was
// cut, and Stats counts it.
func TestLargeEventIsCutAndSaysSo(t *testing.T) {
	g := otelaudit.NewGenerator(fullLevel)
	big := strings.Repeat("é", 512<<10) // 1 MiB of two-byte runes
	e, err := g.Record(context.Background(), otelaudit.Event{
		Type: otelaudit.ResourceAccess, AgentID: "agent", Resource: "db://x",
		Attributes: []attribute.KeyValue{attribute.String("small", "kept"), attribute.String("payload", big), attribute.Int("n", 7)},
	})
	require.NoError(t, err)
	b, err := e.MarshalBinary()
	require.NoError(t, err)
	assert.LessOrEqual(t, len(b), otelaudit.DefaultMaxEventSize)
	assert.Greater(t, len(b), otelaudit.DefaultMaxEventSize*9/10, "cut to the cap, not far below it")
	a := attrsOf(e)
	assert.Equal(t, "kept", a["small"].AsString())
	assert.Equal(t, int64(7), a["n"].AsInt64())
	assert.True(t, strings.HasPrefix(big, a["payload"].AsString()))
	note := a[otelaudit.AttrTruncated].AsStringSlice()
	require.Len(t, note, 1)
	assert.Regexp(t, `^payload: 1048576 bytes, cut to \d+$`, note[0])
	assert.Equal(t, "agent", e.AgentID)
	assert.Equal(t, uint64(1), g.Stats().Cut)
	assert.Equal(t, e, g.Events(0)[0])
}

// TestLargeNonStringValueIsCut: a value that is not a string (a slice of
// numbers) is measured after it is encoded, and cut all the same.
func TestLargeNonStringValueIsCut(t *testing.T) {
	g := otelaudit.NewGenerator(fullLevel)
	e, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{
		attribute.Int64Slice("samples", make([]int64, 100_000))}})
	require.NoError(t, err)
	b, err := e.MarshalBinary()
	require.NoError(t, err)
	assert.LessOrEqual(t, len(b), otelaudit.DefaultMaxEventSize)
	a := attrsOf(e)
	assert.NotEmpty(t, a["samples"].AsInt64Slice())
	assert.Regexp(t, `^samples: 8000\d\d bytes, cut to \d+$`, a[otelaudit.AttrTruncated].AsStringSlice()[0])
	assert.Equal(t, uint64(1), g.Stats().Cut)
}

// TestByteBudgetEvicts: events far below the capacity but heavy are
// evicted by bytes, counted as such, and what is held never weighs more
// than the budget.
func TestByteBudgetEvicts(t *testing.T) {
	const budget = 4 * otelaudit.MinMaxEventSize
	g := otelaudit.NewGenerator(fullLevel, otelaudit.WithMaxEventSize(otelaudit.MinMaxEventSize), otelaudit.WithMaxBytes(budget))
	pad := strings.Repeat("p", 5000)
	for i := range 500 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: "x", AgentID: "a", Attributes: []attribute.KeyValue{
			attribute.String("pad", pad[:i*37%5000]), attribute.Int("i", i)}})
		require.NoError(t, err)
		s := g.Stats()
		require.LessOrEqual(t, s.Bytes, int64(budget))
		require.Equal(t, s.Recorded, uint64(s.Len)+s.Evicted+s.Cleared)
	}
	s := g.Stats()
	assert.Equal(t, int64(budget), s.MaxBytes)
	assert.Equal(t, s.Evicted, s.EvictedForBytes, "the capacity was never the bound")
	assert.Greater(t, s.EvictedForBytes, uint64(400))
	// The held events are the newest, in order, and intact.
	es := g.Events(0)
	require.Len(t, es, s.Len)
	for i, e := range es {
		assert.Equal(t, int64(500-len(es)+i), attrsOf(e)["i"].AsInt64())
	}
	assert.Len(t, g.EventsByAgent("a"), s.Len, "the indexes follow")
	g.Clear()
	assert.Zero(t, g.Stats().Bytes)
}

// TestByteBudgetRejectNew: under RejectNew the budget refuses, and says so.
func TestByteBudgetRejectNew(t *testing.T) {
	g := otelaudit.NewGenerator(fullLevel, otelaudit.WithFullPolicy(otelaudit.RejectNew), otelaudit.WithMaxBytes(1),
		otelaudit.WithMaxEventSize(otelaudit.MinMaxEventSize))
	pad := strings.Repeat("p", 10_000)
	var err error
	n := 0
	for ; n < 100 && err == nil; n++ {
		_, err = g.Record(context.Background(), otelaudit.Event{Type: "x", Attributes: []attribute.KeyValue{attribute.String("pad", pad)}})
	}
	require.ErrorIs(t, err, otelaudit.ErrFull)
	s := g.Stats()
	assert.Equal(t, int64(4*otelaudit.MinMaxEventSize), s.MaxBytes, "the budget is at least four events at the cap")
	assert.Equal(t, uint64(1), s.Rejected)
	assert.Zero(t, s.Evicted)
	assert.LessOrEqual(t, s.Bytes, s.MaxBytes)
}

// TestSourcesCountAndLeave: an event with a new Source each weighs its
// Source too, and the Sources leave with the last event that refers to
// them.
func TestSourcesCountAndLeave(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(10))
	res := resource.NewSchemaless(attribute.String("service.name", "svc"))
	var one int64
	for i := range 1000 {
		src := otelaudit.NewSource(res, instrumentation.Scope{Name: "scope-" + strings.Repeat("s", i%7) + string(rune('a'+i%26)) + string(rune(i))})
		_, err := g.Record(context.Background(), otelaudit.Event{Type: "x", Source: src})
		require.NoError(t, err)
		if i == 0 {
			one = g.Stats().Bytes
		}
	}
	s := g.Stats()
	assert.Equal(t, 10, s.Len)
	assert.Greater(t, one, int64(512), "a Source weighs more than the event alone")
	assert.Less(t, s.Bytes, 12*one, "ten events and their ten Sources, no more")
	for _, e := range g.Events(0) {
		require.NotNil(t, e.Source)
	}
}
