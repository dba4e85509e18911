package otelaudit

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
)

// TestSourceTableIsBounded: a caller that builds a new Resource and Source
// per event must not grow the table; distinct content does, and Clear
// empties it.
func TestSourceTableIsBounded(t *testing.T) {
	g := NewGenerator(WithCapacity(10))
	for i := 0; i < 5000; i++ {
		src := NewSource(resource.NewSchemaless(attribute.String("service.name", "svc")), instrumentation.Scope{Name: "s"})
		_, err := g.Append(context.Background(), Event{Type: "x", Source: src})
		require.NoError(t, err)
	}
	_, err := g.Append(context.Background(), Event{Type: "x", Source: NewSource(nil, instrumentation.Scope{Name: "s"})})
	require.NoError(t, err)
	_, err = g.Append(context.Background(), Event{Type: "x", Source: NewSource(resource.Empty(), instrumentation.Scope{Name: "s"})})
	require.NoError(t, err)
	assert.Equal(t, 3, g.held.sources.live(), "svc, unknown resource, empty resource")
	es := g.Events(0)
	assert.Nil(t, es[len(es)-2].Source.Resource())
	assert.NotNil(t, es[len(es)-1].Source.Resource())
	g.Clear()
	assert.Zero(t, g.held.sources.live())
}

// TestSourceTableReleases: a Source no held event refers to leaves the
// table, and its number is reused: a million distinct scopes through a
// Generator of capacity 10 leave at most 10 Sources and table slots.
func TestSourceTableReleases(t *testing.T) {
	g := NewGenerator(WithCapacity(10))
	for i := range 20_000 {
		src := NewSource(nil, instrumentation.Scope{Name: "s", Version: string(rune(i))})
		_, err := g.Append(context.Background(), Event{Type: "x", Source: src})
		require.NoError(t, err)
		require.LessOrEqual(t, g.held.sources.live(), 10)
	}
	assert.LessOrEqual(t, len(g.held.sources.list), 12, "numbers are reused")
	for _, e := range g.Events(0) {
		require.NotNil(t, e.Source, "held events keep theirs")
	}
	require.NoError(t, g.Verify(), "digests follow reused numbers")
}
