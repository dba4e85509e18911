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
	assert.Len(t, g.sources.list, 4, "no source, svc, unknown resource, empty resource")
	es := g.Events(0)
	assert.Nil(t, es[len(es)-2].Source.Resource())
	assert.NotNil(t, es[len(es)-1].Source.Resource())
	g.Clear()
	assert.Len(t, g.sources.list, 1)
}
