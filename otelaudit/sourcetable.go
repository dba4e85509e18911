package otelaudit

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
)

// sourceTable interns Sources, so a slot refers to its event's Source by a
// 32-bit number instead of a pointer (slots stay pointer-free). Sources are
// keyed by content, the resource's attributes and schema URL and the scope,
// not by pointer: a caller that builds a new Source, even a new Resource,
// per event does not grow the table. It grows with the number of distinct
// resources and scopes, which a process has few of, and Clear empties it.
// Index 0 is "no Source".
type sourceTable struct {
	list []*Source
	// digests[i] is list[i].Digest(), computed once when it is interned:
	// every event's chain hash covers its Source's.
	digests []Hash
	byID    map[sourceKey]uint32
	// The processor hands the same *Source for every span of a tracer: a
	// pointer comparison answers almost every lookup.
	last    *Source
	lastIdx uint32
}

type sourceKey struct {
	res       attribute.Distinct
	schemaURL string
	known     bool // a nil resource differs from an empty one
	scope     instrumentation.Scope
}

func newSourceTable() sourceTable {
	return sourceTable{list: []*Source{nil}, digests: []Hash{{}}, byID: make(map[sourceKey]uint32)}
}

// index returns the number of s, interning it if new, and its digest.
// Lock only.
func (t *sourceTable) index(s *Source) (uint32, Hash) {
	if s == nil {
		return 0, Hash{}
	}
	if s == t.last {
		return t.lastIdx, t.digests[t.lastIdx]
	}
	k := sourceKey{scope: s.scope}
	if s.resource != nil {
		k.res, k.schemaURL, k.known = s.resource.Equivalent(), s.resource.SchemaURL(), true
	}
	i, ok := t.byID[k]
	if !ok {
		i = uint32(len(t.list))
		t.list = append(t.list, s)
		t.digests = append(t.digests, s.Digest())
		t.byID[k] = i
	}
	t.last, t.lastIdx = s, i
	return i, t.digests[i]
}

func (t *sourceTable) get(i uint32) *Source {
	return t.list[i]
}

func (t *sourceTable) digest(i uint32) Hash {
	return t.digests[i]
}
