package otelaudit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// AppendEncodedAfter hands out what EventsAfter returns, undecoded: the
// same events in the same order, with their Sources, after evictions.
func TestAppendEncodedAfterIsEventsAfter(t *testing.T) {
	g := otelaudit.NewGenerator(otelaudit.WithCapacity(8))
	src := otelaudit.NewSource(nil, otelaudit.Event{}.Source.Scope())
	for i := range 20 {
		_, err := g.Record(context.Background(), otelaudit.Event{Type: otelaudit.NodeStart, Source: src,
			Attributes: []attribute.KeyValue{attribute.Int("i", i)}})
		require.NoError(t, err)
	}
	var enc otelaudit.EncodedEvents
	for _, c := range []struct {
		after uint64
		limit int
	}{{0, 0}, {14, 3}, {19, 0}, {20, 5}} {
		enc.Reset()
		n := g.AppendEncodedAfter(&enc, c.after, c.limit)
		want := g.EventsAfter(c.after, c.limit)
		require.Equal(t, len(want), n)
		require.Equal(t, n, enc.Len())
		for i := range n {
			data, s := enc.At(i)
			var e otelaudit.Event
			require.NoError(t, e.UnmarshalBinary(data))
			assert.Equal(t, want[i].Seq, e.Seq)
			assert.Equal(t, want[i].Attributes, e.Attributes)
			assert.Same(t, want[i].Source, s)
		}
	}
	assert.Zero(t, (*otelaudit.Generator)(nil).AppendEncodedAfter(&enc, 0, 0))
}
