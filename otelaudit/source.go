package otelaudit

import (
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Source is the OTel resource and instrumentation scope an event was observed
// under. Its fields are unexported so that a Source can be shared by every
// event from the same tracer without any of them being able to change it:
// one pointer per event instead of a copy of the scope.
type Source struct {
	resource *resource.Resource
	scope    instrumentation.Scope
}

// NewSource returns the Source for res and scope. A nil res means the
// resource is unknown.
func NewSource(res *resource.Resource, scope instrumentation.Scope) *Source {
	return &Source{resource: res, scope: scope}
}

// Resource returns the OTel resource, or nil when unknown. A nil Source has
// no resource.
func (s *Source) Resource() *resource.Resource {
	if s == nil {
		return nil
	}
	return s.resource
}

// Scope returns the instrumentation scope; the zero Scope for a nil Source.
func (s *Source) Scope() instrumentation.Scope {
	if s == nil {
		return instrumentation.Scope{}
	}
	return s.scope
}
