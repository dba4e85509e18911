package otelaudit

import (
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
)

// sourceTable interns Sources, so a slot refers to its event's Source by a
// 32-bit number instead of a pointer (slots stay pointer-free). Sources with
// the same resource and scope share a number, so a caller that builds a new
// Source per event does not grow the table. Index 0 is "no Source".
type sourceTable struct {
	list []*Source
	byID map[sourceKey]uint32
	// The processor hands the same *Source for every span of a tracer: a
	// pointer comparison answers almost every lookup.
	last    *Source
	lastIdx uint32
}

type sourceKey struct {
	res   *resource.Resource
	scope instrumentation.Scope
}

func newSourceTable() sourceTable {
	return sourceTable{list: []*Source{nil}, byID: make(map[sourceKey]uint32)}
}

// index returns the number of s, interning it if new. Write lock only.
func (t *sourceTable) index(s *Source) uint32 {
	if s == nil {
		return 0
	}
	if s == t.last {
		return t.lastIdx
	}
	k := sourceKey{res: s.resource, scope: s.scope}
	i, ok := t.byID[k]
	if !ok {
		i = uint32(len(t.list))
		t.list = append(t.list, s)
		t.byID[k] = i
	}
	t.last, t.lastIdx = s, i
	return i
}

func (t *sourceTable) get(i uint32) *Source {
	return t.list[i]
}
