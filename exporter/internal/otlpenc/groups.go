package otlpenc

import (
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// groups keeps the items (spans or log records, each a whole field) of one
// request, grouped by resource, then by scope, in the order each first
// appears, keyed as the SDK's OTLP exporters key them: the resource by its
// attributes, the scope by value.
type groups struct {
	defRes   *resource.Resource
	defScope instrumentation.Scope
	// resolve, when set, turns the resource of a Source into the one sent:
	// the log SDK merges the environment's into it.
	resolve func(*resource.Resource) *resource.Resource

	res   []resGroup
	byRes map[attribute.Distinct]int
	// The Source of the last item, and its group: events come in runs of
	// one Source.
	lastSrc      *otelaudit.Source
	lastR, lastS int
	haveLast     bool
	n            int
	spare        [][]byte // item buffers of earlier requests, for reuse
}

type resGroup struct {
	res     *resource.Resource
	scopes  []scopeGroup
	byScope map[instrumentation.Scope]int
}

type scopeGroup struct {
	scope instrumentation.Scope
	items []byte // fields (tag, length, message) back to back
}

// Len returns how many items the request holds.
func (t *groups) Len() int { return t.n }

// Reset empties the request, keeping its memory.
func (t *groups) Reset() {
	for i := range t.res {
		for j := range t.res[i].scopes {
			t.spare = append(t.spare, t.res[i].scopes[j].items[:0])
		}
	}
	clear(t.res)
	t.res = t.res[:0]
	clear(t.byRes)
	t.lastSrc, t.haveLast, t.n = nil, false, 0
}

// add ends the append of one event's item to g: b is g's items with the
// item appended, kept; or, when err says the item failed, g keeps its
// items as they were, so that a refused event leaves nothing behind, and
// err is returned with the event's seq.
func (t *groups) add(g *scopeGroup, b []byte, seq uint64, err error) error {
	if err != nil {
		g.items = b[:len(g.items)]
		return fmt.Errorf("event %d: %w", seq, err)
	}
	g.items = b
	t.n++
	return nil
}

// group returns the group of src's resource and scope, or the defaults.
func (t *groups) group(src *otelaudit.Source) (int, int) {
	if t.haveLast && src == t.lastSrc {
		return t.lastR, t.lastS
	}
	res, scope := t.defRes, t.defScope
	if r := src.Resource(); r != nil {
		res = r
	}
	if s := src.Scope(); s.Name != "" {
		scope = s
	}
	if t.resolve != nil {
		res = t.resolve(res)
	}
	ri, si := t.groupOf(res, scope)
	t.lastSrc, t.lastR, t.lastS, t.haveLast = src, ri, si, true
	return ri, si
}

// groupOf returns the group of res and scope, making it if new.
func (t *groups) groupOf(res *resource.Resource, scope instrumentation.Scope) (int, int) {
	var rk attribute.Distinct
	if res != nil {
		rk = res.Equivalent()
	}
	if t.byRes == nil {
		t.byRes = make(map[attribute.Distinct]int)
	}
	ri, ok := t.byRes[rk]
	if !ok {
		ri = len(t.res)
		t.res = append(t.res, resGroup{res: res, byScope: make(map[instrumentation.Scope]int)})
		t.byRes[rk] = ri
	}
	g := &t.res[ri]
	si, ok := g.byScope[scope]
	if !ok {
		si = len(g.scopes)
		var buf []byte
		if n := len(t.spare); n > 0 {
			buf, t.spare = t.spare[n-1], t.spare[:n-1]
		}
		g.scopes = append(g.scopes, scopeGroup{scope: scope, items: buf})
		g.byScope[scope] = si
	}
	return ri, si
}

// appendRequest appends the request: per resource a ResourceSpans or
// ResourceLogs field (the same field numbers), per scope a ScopeSpans or
// ScopeLogs in it. The log SDK's exporters leave out a resource without
// attributes, and the schema URL of the zero scope: asLogs does as they do.
func (t *groups) appendRequest(b []byte, asLogs bool) []byte {
	var rs, r, ss, sc int
	for i := range t.res {
		g := &t.res[i]
		b, rs = openLenN(append(b, tagRequestResource), 3)
		if g.res != nil && (!asLogs || g.res.Len() > 0) {
			b, r = openLen(append(b, tagResource))
			for it := g.res.Iter(); it.Next(); {
				kv := it.Attribute()
				b = appendKeyValue(b, tagResourceAttrs, string(kv.Key), &kv.Value)
			}
			b = closeLen(b, r)
		}
		for j := range g.scopes {
			sg := &g.scopes[j]
			b, ss = openLenN(append(b, tagResourceScopes), 3)
			zero := sg.scope == (instrumentation.Scope{})
			if !zero {
				b, sc = openLen(append(b, tagScope))
				b = appendStringField(b, tagScopeName, sg.scope.Name)
				b = appendStringField(b, tagScopeVersion, sg.scope.Version)
				for it := sg.scope.Attributes.Iter(); it.Next(); {
					kv := it.Attribute()
					b = appendKeyValue(b, tagScopeAttrs, string(kv.Key), &kv.Value)
				}
				b = closeLen(b, sc)
			}
			b = append(b, sg.items...)
			if !zero || !asLogs {
				b = appendStringField(b, tagScopeSchemaURL, sg.scope.SchemaURL)
			}
			b = closeLenN(b, ss, 3)
		}
		if g.res != nil {
			b = appendStringField(b, tagResourceSchemaURL, g.res.SchemaURL())
		}
		b = closeLenN(b, rs, 3)
	}
	return b
}
