package otelaudit

import (
	"strings"
	"unsafe"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// The secondary indexes (by trace ID, type and agent) are linked lists
// through the ring, one per key (see chain). They are maintained lazily:
// Append only stores an event, and the first query after new events links
// them, oldest first, before it reads. Each event is linked once, whichever
// query gets there first, so indexing costs the same per event as doing it
// on the hot path would, but it is off the hot path, and spent only by
// processes that query.
//
// Invariant: the held events in [first, indexed) are linked, those in
// [indexed, next) are not. Eviction keeps it (it unlinks the oldest event
// only if it was linked, and moves indexed up with first) and so does Clear
// (indexed = next).

// indexChunk is how many events a catch-up links per hold of the lock
// (some 200 microseconds on the reference machine). Between chunks it lets
// go of the lock and yields, so writers usually wait for one chunk at most;
// sync.Mutex is not first-come-first-served, but it hands the lock to a
// writer that has waited a millisecond. See Generator.lockCurrent.
const indexChunk = 1024

// keys reads the index keys of an encoded event in place. The strings
// point into the arena: use them for lookups, clone them to keep them.
// The bytes were encoded by this process: failing to read them back is a
// broken invariant, not bad input.
func keys(rec []byte) (id trace.TraceID, t EventType, agent string) {
	k, err := wire.ReadKeys(rec)
	if err != nil {
		panic("otelaudit: internal error: held event does not decode: " + err.Error())
	}
	typ, ag := k.TypeString(), k.AgentString()
	return k.TraceID, EventType(unsafe.String(unsafe.SliceData(typ), len(typ))), unsafe.String(unsafe.SliceData(ag), len(ag))
}

// link appends held event seq to the chains of its keys. Write lock only.
func (g *Generator) link(seq uint64) {
	s := g.slotOf(seq)
	id, t, agent := keys(g.arena.read(s.at))
	if id.IsValid() {
		g.ring.push(g.traces.get(id), seq, s, linkTrace)
	}
	c := g.types[t]
	if c == nil {
		c = &chain{}
		g.types[EventType(strings.Clone(string(t)))] = c
	}
	g.ring.push(c, seq, s, linkType)
	if agent != "" {
		c := g.agents[agent]
		if c == nil {
			c = &chain{}
			g.agents[strings.Clone(agent)] = c
		}
		g.ring.push(c, seq, s, linkAgent)
	}
}

// unlinkOldest removes the oldest held event, whose slot is s and encoding
// rec, from its chains. Being the oldest, it is the head of each: O(1).
// Write lock only.
func (g *Generator) unlinkOldest(s *slot, rec []byte) {
	id, t, agent := keys(rec)
	if id.IsValid() {
		if c := g.traces.find(id); c != nil && pop(c, s, linkTrace) {
			g.traces.remove(id)
		}
	}
	if c := g.types[t]; c != nil && pop(c, s, linkType) {
		delete(g.types, t)
	}
	if agent != "" {
		if c := g.agents[agent]; c != nil && pop(c, s, linkAgent) {
			delete(g.agents, agent)
		}
	}
}
