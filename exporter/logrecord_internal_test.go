package exporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }

// TestTemplateHashCollision: the template cache is keyed by a 64-bit hash
// of the resource. Two resources whose hashes collide (here the cache is
// made to hold, under one resource's key, another's template, as a
// collision would) must still each get a record with their own resource.
func TestTemplateHashCollision(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	victim := resource.NewSchemaless(attribute.String("service.name", "payments"))
	forger := resource.NewSchemaless(attribute.String("service.name", "intruder"))
	scope := instrumentation.Scope{Name: "example.com/runtime"}

	x := NewLogExporter(discardLogs{})
	forged := x.template(forger, scope)
	key := templateKey{res: victim.Equivalent(), schema: victim.SchemaURL(), scope: scope}
	x.templates[key] = recordTemplate{res: forger, rec: forged}

	rec := x.record(&otelaudit.Event{Seq: 1, Type: otelaudit.NodeEnd, Source: otelaudit.NewSource(victim, scope)}, forged.ObservedTimestamp())
	require.NotNil(t, rec.Resource())
	name, _ := rec.Resource().Set().Value("service.name")
	assert.Equal(t, "payments", name.AsString(), "the event's own resource, not the one cached under its hash")
	assert.Equal(t, scope, rec.InstrumentationScope())

	first, second := x.template(victim, scope), x.template(victim, scope)
	assert.Same(t, first.Resource(), second.Resource(), "the victim's template is cached now")
}
