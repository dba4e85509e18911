package otelaudit

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
)

// sourceTable interns Sources, so a slot refers to its event's Source by a
// 32-bit number instead of a pointer (slots stay pointer-free). Sources are
// keyed by content, the resource's attributes and schema URL and the scope,
// not by pointer: a caller that builds a new Source, even a new Resource,
// per event does not grow the table. Each entry counts the held events
// that refer to it, and is released, its number reused, when the last of
// them leaves: the table holds at most as many Sources as events, and what
// it holds counts against the byte budget (see budget.go). Index 0 is "no
// Source".
type sourceTable struct {
	list []*Source
	// digests[i] is list[i].Digest(), kept once it is interned: every
	// event's chain hash covers its Source's.
	digests []Hash
	keys    []sourceKey
	refs    []uint32 // held events that refer to list[i]
	costs   []int64  // what list[i] counts against the byte budget
	free    []uint32 // released numbers, to reuse
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
	return sourceTable{
		list: []*Source{nil}, digests: []Hash{{}}, keys: []sourceKey{{}}, refs: []uint32{0}, costs: []int64{0},
		byID: make(map[sourceKey]uint32),
	}
}

func keyOf(s *Source) sourceKey {
	k := sourceKey{scope: s.scope}
	if s.resource != nil {
		k.res, k.schemaURL, k.known = s.resource.Equivalent(), s.resource.SchemaURL(), true
	}
	return k
}

// cost returns what interning s would add to the byte budget: nothing if
// it is interned already. Lock only.
func (t *sourceTable) cost(s *Source) int64 {
	if s == nil || s == t.last {
		return 0
	}
	if _, ok := t.byID[keyOf(s)]; ok {
		return 0
	}
	return int64(len(s.encoding())) + sourceCost
}

// index returns the number of s, interning it if new, its digest, and what
// it added to the byte budget; it counts one more held event referring to
// it. Lock only.
func (t *sourceTable) index(s *Source) (uint32, Hash, int64) {
	if s == nil {
		return 0, Hash{}, 0
	}
	if s == t.last {
		t.refs[t.lastIdx]++
		return t.lastIdx, t.digests[t.lastIdx], 0
	}
	k := keyOf(s)
	var added int64
	i, ok := t.byID[k]
	if !ok {
		added = int64(len(s.encoding())) + sourceCost
		if n := len(t.free); n > 0 {
			i = t.free[n-1]
			t.free = t.free[:n-1]
			t.list[i], t.digests[i], t.keys[i], t.refs[i], t.costs[i] = s, s.Digest(), k, 0, added
		} else {
			i = uint32(len(t.list))
			t.list = append(t.list, s)
			t.digests = append(t.digests, s.Digest())
			t.keys = append(t.keys, k)
			t.refs = append(t.refs, 0)
			t.costs = append(t.costs, added)
		}
		t.byID[k] = i
	}
	t.refs[i]++
	t.last, t.lastIdx = s, i
	return i, t.digests[i], added
}

// release counts one held event fewer referring to number i, and releases
// the entry when none is left; it returns what that gave back to the byte
// budget. Lock only.
func (t *sourceTable) release(i uint32) int64 {
	if i == 0 {
		return 0
	}
	t.refs[i]--
	if t.refs[i] > 0 {
		return 0
	}
	freed := t.costs[i]
	delete(t.byID, t.keys[i])
	if t.lastIdx == i {
		t.last, t.lastIdx = nil, 0
	}
	t.list[i], t.digests[i], t.keys[i], t.costs[i] = nil, Hash{}, sourceKey{}, 0
	t.free = append(t.free, i)
	return freed
}

// live is how many Sources the table holds.
func (t *sourceTable) live() int { return len(t.byID) }

func (t *sourceTable) get(i uint32) *Source {
	return t.list[i]
}

func (t *sourceTable) digest(i uint32) Hash {
	return t.digests[i]
}
