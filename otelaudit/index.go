package otelaudit

import (
	"strings"
	"unsafe"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// The secondary indexes (by trace ID, type, agent and user) are linked
// lists through the ring, one per key (see chain). They are maintained off
// the hot path: Append only stores an event, and the follower (see
// follow.go) or the first query after new events links them, oldest
// first, before it reads. Each event is linked once, whoever gets there
// first.
//

// indexes are the Generator's secondary indexes: a chain per key, in
// tables by trace ID, type, agent and user. Invariants, under the
// Generator's lock:
//   - first <= indexed <= next: the held events in [first, indexed) are
//     linked, those in [indexed, next) are not;
//   - evicted events that were linked stay in their chains until they are
//     unlinked, in Seq order, from unlinks, before anything is linked or
//     read (see unlink.go). Eviction keeps it (it queues the oldest event
//     only if it was linked, and moves indexed up with first) and so does
//     Clear (reset);
//   - a chain is in its table only while it holds an event (see chain).
type indexes struct {
	indexed uint64
	traces  traceTable
	types   map[EventType]*chain
	agents  map[string]*chain
	humans  map[string]*chain
	unlinks unlinkQueue
}

func newIndexes() indexes {
	return indexes{
		traces: newTraceTable(),
		types:  make(map[EventType]*chain),
		agents: make(map[string]*chain),
		humans: make(map[string]*chain),
	}
}

// reset empties the indexes, when no event is held and next is the next
// Seq: their memory can be collected.
func (x *indexes) reset(next uint64) {
	x.indexed = next
	x.unlinks.reset()
	x.traces.reset()
	x.types = make(map[EventType]*chain)
	x.agents = make(map[string]*chain)
	x.humans = make(map[string]*chain)
}

// indexChunk is how many events a catch-up links per hold of the lock
// (some 200 microseconds on the reference machine). Between chunks it lets
// go of the lock and yields, so writers usually wait for one chunk at most;
// sync.Mutex is not first-come-first-served, but it hands the lock to a
// writer that has waited a millisecond. See yield.go.
const indexChunk = 1024

// keys reads the index keys of an encoded event in place. The strings
// point into the arena: use them for lookups, clone them to keep them.
// The bytes were encoded by this process: failing to read them back is a
// broken invariant, not bad input.
func keys(rec []byte) (id trace.TraceID, t EventType, agent, human string) {
	f, err := wire.ReadFields(rec)
	if err != nil {
		panic("otelaudit: internal error: held event does not decode: " + err.Error())
	}
	typ, ag, hu := f.Strings[wire.StrType], f.Strings[wire.StrAgent], f.Strings[wire.StrHumanOrigin]
	return f.TraceID, EventType(inPlace(typ)), inPlace(ag), inPlace(hu)
}

// inPlace returns b as a string without copying it: for lookups only.
func inPlace(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// link appends held event seq to the chains of its keys. Write lock only.
func (g *Generator) link(seq uint64) {
	s := g.slotOf(seq)
	id, t, agent, human := keys(g.held.arena.read(s.at))
	if id.IsValid() {
		g.held.ring.push(g.idx.traces.get(id), seq, s, linkTrace)
	}
	c := g.idx.types[t]
	if c == nil {
		c = &chain{}
		g.idx.types[EventType(strings.Clone(string(t)))] = c
	}
	g.held.ring.push(c, seq, s, linkType)
	linkString(g, g.idx.agents, agent, seq, s, linkAgent)
	linkString(g, g.idx.humans, human, seq, s, linkHuman)
}

// linkString appends seq to the chain of key in m, unless key is empty.
func linkString(g *Generator, m map[string]*chain, key string, seq uint64, s *slot, f int) {
	if key == "" {
		return
	}
	c := m[key]
	if c == nil {
		c = &chain{}
		m[strings.Clone(key)] = c
	}
	g.held.ring.push(c, seq, s, f)
}

// unlinkOldest removes the oldest linked event, whose slot is s and
// encoding rec, from its chains. Being the oldest, it is the head of each:
// O(1). Write lock only.
func (g *Generator) unlinkOldest(s *slot, rec []byte) {
	id, t, agent, human := keys(rec)
	if id.IsValid() {
		if c := g.idx.traces.find(id); c != nil && g.held.ring.pop(c, s, linkTrace) {
			g.idx.traces.remove(id)
		}
	}
	if c := g.idx.types[t]; c != nil && g.held.ring.pop(c, s, linkType) {
		delete(g.idx.types, t)
	}
	unlinkString(g, g.idx.agents, agent, s, linkAgent)
	unlinkString(g, g.idx.humans, human, s, linkHuman)
}

func unlinkString(g *Generator, m map[string]*chain, key string, s *slot, f int) {
	if key == "" {
		return
	}
	if c := m[key]; c != nil && g.held.ring.pop(c, s, f) {
		delete(m, key)
	}
}

// Index link fields of a slot: which list of the slot's links (slot.next,
// slot.prev) an index uses.
const (
	linkTrace = iota
	linkType
	linkAgent
	linkHuman
	numLinks
)

// chain is the head of one index list: the oldest and newest held event
// with a key, and how many there are. Invariants, kept under the Generator's
// write lock:
//   - a chain is in its index only while n > 0;
//   - head is the oldest held event with the key, tail the newest;
//   - following links from head visits exactly n held events, in increasing
//     Seq order, ending at tail.
//
// Eviction always removes the globally oldest event, which is therefore the
// head of each of its chains: unlinking is O(1) and never walks a list.
type chain struct {
	head, tail uint64
	n          int
}

// push links seq, whose slot is s, at the tail of c.
func (r *ring) push(c *chain, seq uint64, s *slot, f int) {
	s.next[f] = 0
	if c.n == 0 {
		c.head = seq
		s.prev[f] = 0
	} else {
		d := uint32(seq - c.tail)
		r.at(c.tail).next[f] = d
		s.prev[f] = d
	}
	c.tail = seq
	c.n++
}

// pop unlinks the head of c, whose slot is s, and reports whether c is now
// empty (and must leave its index).
func (r *ring) pop(c *chain, s *slot, f int) bool {
	c.n--
	if c.n == 0 {
		return true
	}
	c.head += uint64(s.next[f])
	r.at(c.head).prev[f] = 0
	return false
}

// after returns the Seq of the event after seq, whose slot is s, in list
// f; 0 at the tail.
func after(seq uint64, s *slot, f int) uint64 {
	if s.next[f] == 0 {
		return 0
	}
	return seq + uint64(s.next[f])
}

// before returns the Seq of the event before seq, whose slot is s, in list
// f; 0 at the head.
func before(seq uint64, s *slot, f int) uint64 {
	if s.prev[f] == 0 {
		return 0
	}
	return seq - uint64(s.prev[f])
}
