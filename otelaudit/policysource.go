package otelaudit

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit-go/internal/redact"
)

// maxCachedSources bounds the Sources whose filtered form a policy
// remembers: a runtime has a few (one per tracer); past the bound each new
// one is filtered again, event by event.
const maxCachedSources = 1024

// sourceFilter is the part of a compiled policy that applies to Sources:
// the resource and scope attributes lose the known secrets (with the
// policy's Keep and Drop), whatever the level. The level's allowlist does
// not apply: a resource's service.name, host and deployment attributes are
// what tells the services apart, and none is an event's data.
type sourceFilter struct {
	done sync.Map // *Source -> *Source
	n    atomic.Int64
}

// source returns s as the policy keeps it: s itself when nothing in it is a
// secret.
func (c *compiledPolicy) source(s *Source) *Source {
	if s == nil {
		return nil
	}
	if f, ok := c.src.done.Load(s); ok {
		return f.(*Source)
	}
	f := c.filterSource(s)
	if c.src.n.Add(1) <= maxCachedSources {
		c.src.done.Store(s, f)
	}
	return f
}

// filterSource builds what source returns. What went is listed in
// AttrRedacted among the resource's attributes (or the scope's, for the
// scope's), shared by every event of the Source rather than repeated in
// each.
func (c *compiledPolicy) filterSource(s *Source) *Source {
	r, scope := s.resource, s.scope
	if r != nil {
		var notes noteList
		if attrs, cut := c.def.sourceAttrs(r.Attributes(), &notes); cut {
			if n := notes.list(); len(n) > 0 {
				attrs = append(attrs, attribute.StringSlice(AttrRedacted, n))
			}
			r = resource.NewWithAttributes(r.SchemaURL(), attrs...)
		}
	}
	var notes noteList
	if attrs, cut := c.def.sourceAttrs(scope.Attributes.ToSlice(), &notes); cut {
		if n := notes.list(); len(n) > 0 {
			attrs = append(attrs, attribute.StringSlice(AttrRedacted, n))
		}
		scope = instrumentation.Scope{Name: scope.Name, Version: scope.Version, SchemaURL: scope.SchemaURL,
			Attributes: attribute.NewSet(attrs...)}
	}
	if r == s.resource && scope.Attributes.Equals(&s.scope.Attributes) {
		return s
	}
	return NewSource(r, scope)
}

// sourceAttrs returns attrs without their known secrets and Drop's keys,
// URL values cut, and whether anything changed; the secrets that went are
// added to notes.
func (r *attrRule) sourceAttrs(attrs []attribute.KeyValue, notes *noteList) ([]attribute.KeyValue, bool) {
	out := attrs[:0:0]
	cut := false
	for _, kv := range attrs {
		switch r.verdict(string(kv.Key)) {
		case dropAttr:
			cut = true
			continue
		case redactAttr:
			notes.add(string(kv.Key))
			cut = true
			continue
		case cutURLAttr:
			if kv.Value.Type() != attribute.STRING {
				notes.add(string(kv.Key))
				cut = true
				continue
			}
			if u, c := redact.URL(kv.Value.AsString()); c {
				kv.Value = attribute.StringValue(u)
				notes.add(string(kv.Key))
				cut = true
			}
		}
		out = append(out, kv)
	}
	return out, cut
}
