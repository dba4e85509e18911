package otelaudit

import (
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Queries hold the lock only to copy the raw bytes of the events they
// return (after bringing the indexes up to date, see index.go); decoding
// happens after the lock is released. A writer waiting for
// the lock (the span processor's OnEnd, say) waits for a memory copy, never
// for a decode, however many events a query returns.

// Events returns the newest limit held events, oldest first; all of them
// when limit <= 0.
func (g *Generator) Events(limit int) []Event {
	if g.invalid() {
		return nil
	}
	var c snapshot
	g.lockSealed()
	n := g.held.next - g.held.first
	if limit > 0 && uint64(limit) < n {
		n = uint64(limit)
	}
	size := 0
	for seq := g.held.next - n; seq < g.held.next; seq++ {
		size += int(g.slotOf(seq).at.n)
	}
	c.grow(int(n), size)
	for seq := g.held.next - n; seq < g.held.next; seq++ {
		c.add(g, seq, g.held.ring.at(seq))
	}
	g.mu.Unlock()
	return c.decode()
}

// EventsByTrace returns the held events of one trace, oldest first. It costs
// one hash lookup plus the events returned, whatever the size of the store
// (after indexing the events recorded since the last query, if any: see
// index.go). The zero TraceID has no events. Query takes a limit.
func (g *Generator) EventsByTrace(id trace.TraceID) []Event {
	if !id.IsValid() {
		return nil
	}
	return g.Query(Query{TraceID: id, Oldest: true}).Events
}

// EventsByType returns the held events of type t, oldest first. Query
// takes a limit.
func (g *Generator) EventsByType(t EventType) []Event {
	if t == "" {
		return nil
	}
	return g.Query(Query{Type: t, Oldest: true}).Events
}

// EventsByAgent returns the held events whose AgentID is agent, oldest
// first. The empty agent has no events. Query takes a limit.
func (g *Generator) EventsByAgent(agent string) []Event {
	if agent == "" {
		return nil
	}
	return g.Query(Query{AgentID: agent, Oldest: true}).Events
}

// EventsByUser returns the held events whose HumanOriginID is user, oldest
// first; with pseudonyms, user is the stored pseudonym (see
// Generator.Pseudonym). The empty user has no events. Query takes a limit.
func (g *Generator) EventsByUser(user string) []Event {
	if user == "" {
		return nil
	}
	return g.Query(Query{HumanOriginID: user, Oldest: true}).Events
}

// snapshot is the raw copy of the events a query returns: their encodings
// back to back in one buffer, and their Sources.
type snapshot struct {
	buf    []byte
	ends   []int
	srcs   []*Source
	hashes []Hash // PrevHash and Hash of each event
}

func (c *snapshot) grow(n, size int) {
	if n == 0 {
		return
	}
	c.buf = make([]byte, 0, size)
	c.ends = make([]int, 0, n)
	c.srcs = make([]*Source, 0, n)
	c.hashes = make([]Hash, 0, 2*n)
}

// add copies held event seq, whose slot is s. Every held event is sealed
// by then (queries take the lock with lockSealed or lockCurrent), and its
// predecessor is held or is the anchor.
func (c *snapshot) add(g *Generator, seq uint64, s *slot) {
	c.buf = append(c.buf, g.held.arena.read(s.at)...)
	c.ends = append(c.ends, len(c.buf))
	c.srcs = append(c.srcs, g.held.sources.get(s.src))
	prev, _ := g.hashOf(seq - 1)
	c.hashes = append(c.hashes, prev, *g.held.ring.hashAt(seq))
}

// decode turns the snapshot into events. The buffer becomes the backing of
// every string of every event, without another copy: nothing writes to it
// after this point, and the events keep it alive. (So one event kept from a
// large result keeps the whole result's strings; copy what you keep long.)
func (c *snapshot) decode() []Event {
	if len(c.ends) == 0 {
		return nil
	}
	all := unsafe.String(unsafe.SliceData(c.buf), len(c.buf))
	// One block for all the attributes, sized by a first pass that reads
	// only each event's attribute count.
	nattr, start := 0, 0
	for _, end := range c.ends {
		nattr += attrCount(all[start:end])
		start = end
	}
	block := make([]attribute.KeyValue, 0, nattr)
	out := make([]Event, len(c.ends))
	start = 0
	for i, end := range c.ends {
		if err := decodeEvent(&out[i], all[start:end], &block); err != nil {
			// The bytes were encoded by this process: failing to read them
			// back is a broken invariant, not bad input.
			panic(fmt.Sprintf("otelaudit: internal error: held event does not decode: %v", err))
		}
		out[i].Source = c.srcs[i]
		out[i].PrevHash, out[i].Hash = c.hashes[2*i], c.hashes[2*i+1]
		start = end
	}
	return out
}

// EventsAfter returns the held events with Seq greater than after, oldest
// first: at most limit of them when limit > 0. It is how a follower (a
// streaming exporter, say) reads the trail as it grows: pass the Seq of the
// last event it has. Events after after that are no longer held (evicted or
// cleared) are skipped: the follower sees the gap as a first Seq greater
// than after+1.
func (g *Generator) EventsAfter(after uint64, limit int) []Event {
	if g.invalid() {
		return nil
	}
	var c snapshot
	g.lockSealed()
	from := max(after+1, g.held.first)
	to := g.held.next
	if from >= to {
		g.mu.Unlock()
		return nil
	}
	if limit > 0 && to-from > uint64(limit) {
		to = from + uint64(limit)
	}
	size := 0
	for seq := from; seq < to; seq++ {
		size += int(g.slotOf(seq).at.n)
	}
	c.grow(int(to-from), size)
	for seq := from; seq < to; seq++ {
		c.add(g, seq, g.held.ring.at(seq))
	}
	g.mu.Unlock()
	return c.decode()
}

// Query selects held events for Generator.Query. Zero fields select
// everything. Values are compared as stored: with pseudonyms (see
// WithPseudonyms), look a clear value up by its pseudonym
// (Generator.Pseudonym).
type Query struct {
	TraceID       trace.TraceID
	Type          EventType
	AgentID       string
	HumanOriginID string
	// Outcome selects events with this outcome; NoOutcome selects events
	// without one.
	Outcome Outcome
	// Since and Until bound the event Time: Since <= Time < Until. Until
	// is exclusive here as in every query of this project (package store,
	// the auditz handler, the otelaudit CLI), so that consecutive windows
	// never share an event.
	Since, Until time.Time
	// Limit keeps the newest Limit matching events (the oldest, with
	// Oldest); <= 0 keeps all.
	Limit  int
	Oldest bool
	// MaxScan bounds how many events the query looks at (0: no bound).
	MaxScan int
}

// NoOutcome, as Query.Outcome, selects events without an outcome. It is
// not an outcome an event can have.
const NoOutcome Outcome = "none"

// Result is the answer to a Query.
type Result struct {
	// Events are the matching events, oldest first.
	Events []Event
	// More says that the walk did not end with Events: another event
	// matched beyond Limit, or MaxScan stopped it with events left.
	More bool
	// Scanned is how many events the query looked at.
	Scanned int
	// Total is how many events are held under the query's key (the trace,
	// type, agent or user whose index it walked, the one with the fewest
	// events), or how many are held when it gave none: what Scanned can
	// be at most.
	Total int
}

// queryChunk is how many events a query looks at per hold of the lock,
// about what indexing does per chunk: writers get in between.
const queryChunk = 1024

// Query returns the held events q selects, oldest first.
//
// It walks one index (of the trace ID, type, agent or user q names, the
// one with the fewest events), or every held event when q names none,
// newest first (oldest first with Oldest), and reads each event's time,
// outcome and keys in place: only the events it returns are decoded and
// copied, so a query with a limit costs what it returns plus a look at
// what it passes over, however many events match. The walk holds the lock
// a chunk at a time. Events recorded after the call are not in the
// answer; events evicted while it runs may be missing.
func (g *Generator) Query(q Query) Result {
	if g.invalid() {
		return Result{}
	}
	w := walker{g: g, q: q}
	w.since, w.hasSince = bound(q.Since)
	w.until, w.hasUntil = bound(q.Until)
	g.lockCurrent()
	// Every event before target is indexed and sealed; those recorded
	// while lockCurrent let writers in may not be.
	w.target = min(g.idx.indexed, g.seal.sealed)
	if !w.start() {
		g.mu.Unlock()
		return Result{Total: w.total}
	}
	g.inChunks(func(again bool) bool {
		return again && !w.resume() || w.chunk()
	})
	g.mu.Unlock()
	events := w.snap.decode()
	if !q.Oldest {
		slices.Reverse(events)
	}
	return Result{Events: events, More: w.more, Scanned: w.scanned, Total: w.total}
}

// bound turns a time into what an encoding holds: Unix seconds and
// nanoseconds, compared as a pair.
type instant struct {
	sec  int64
	nsec uint32
}

func bound(t time.Time) (instant, bool) {
	if t.IsZero() {
		return instant{}, false
	}
	return instant{t.Unix(), uint32(t.Nanosecond())}, true
}

func (a instant) before(b instant) bool {
	return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec
}

// walker is one Query's walk: its index (link f, 0..numLinks-1, or -1 for
// all held events), where it is, and what it found.
type walker struct {
	g                  *Generator
	q                  Query
	since, until       instant
	hasSince, hasUntil bool
	target             uint64 // events from this Seq on came after the call
	f                  int
	cursor             uint64 // next event to look at; 0 when the walk is over
	total, scanned     int
	found              int
	more               bool
	// filter says that events under the key need a look: the query
	// names more than the key it walks, or an outcome or times.
	filter bool
	snap   snapshot
}

// chain returns the chain of key f of the query; nil when no event is held
// under it. Lock only.
func (w *walker) chain(f int) *chain {
	g, q := w.g, &w.q
	switch f {
	case linkTrace:
		return g.idx.traces.find(q.TraceID)
	case linkType:
		return g.idx.types[q.Type]
	case linkAgent:
		return g.idx.agents[q.AgentID]
	case linkHuman:
		return g.idx.humans[q.HumanOriginID]
	}
	return nil
}

// start picks the index and the first event; false when nothing can
// match. Lock only.
func (w *walker) start() bool {
	g, q := w.g, &w.q
	w.f = -1
	var best *chain
	keys := 0
	for f, named := range [numLinks]bool{q.TraceID.IsValid(), q.Type != "", q.AgentID != "", q.HumanOriginID != ""} {
		if !named {
			continue
		}
		keys++
		c := w.chain(f)
		if c == nil || c.n == 0 {
			return false
		}
		if best == nil || c.n < best.n {
			best, w.f = c, f
		}
	}
	w.filter = keys > 1 || q.Outcome != "" || w.hasSince || w.hasUntil
	defer w.presize()
	switch {
	case best != nil:
		w.total = best.n
		w.cursor = best.tail
		if q.Oldest {
			w.cursor = best.head
		}
	case w.target > g.held.first:
		w.total = int(w.target - g.held.first)
		w.cursor = w.target - 1
		if q.Oldest {
			w.cursor = g.held.first
		}
	default:
		return false
	}
	return true
}

// maxPresize bounds the walk presize takes ahead of the query's.
const maxPresize = 1 << 16

// presize sizes the copy a query makes when it knows what it will return:
// with no filter, the first Limit events of the walk (all of them without
// one). A first walk over their slots sums their sizes, so that the copy
// is made in one allocation each for the bytes, the ends, the Sources and
// the hashes; the second walk then finds the slots in cache. Past
// maxPresize events, the copy grows as it goes. Lock only.
func (w *walker) presize() {
	if w.filter || w.cursor == 0 {
		return
	}
	n := w.total
	if w.q.Limit > 0 && w.q.Limit < n {
		n = w.q.Limit
	}
	if n > maxPresize {
		return
	}
	g, size, seen := w.g, 0, 0
	for seq := w.cursor; seq != 0 && seq >= g.held.first && seen < n; {
		s := g.held.ring.at(seq)
		if seq < w.target {
			size += int(s.at.n)
			seen++
		} else if w.q.Oldest {
			break
		}
		switch {
		case w.f >= 0 && w.q.Oldest:
			seq = after(seq, s, w.f)
		case w.f >= 0:
			seq = before(seq, s, w.f)
		case w.q.Oldest:
			if seq+1 >= w.target {
				seq = 0
			} else {
				seq++
			}
		default:
			seq--
		}
	}
	w.snap.grow(seen, size)
}

// resume takes up the walk after the lock was let go; false when it is
// over. Eviction and Clear meanwhile only ever remove the oldest events.
// Lock only.
func (w *walker) resume() bool {
	g := w.g
	// Evictions meanwhile queued their events for unlinking: take them
	// out of the chains before walking on (see unlink.go).
	g.unlinkPending(g.idx.unlinks.n)
	if w.cursor == 0 {
		// The last chunk ended at the end of the list.
		return false
	}
	if w.cursor >= g.held.first {
		return true
	}
	if !w.q.Oldest {
		// Everything older than the cursor is gone too.
		return false
	}
	// The cursor was evicted: go on from the oldest event still held
	// under the key.
	if w.f < 0 {
		w.cursor = g.held.first
	} else if c := w.chain(w.f); c != nil && c.n > 0 {
		w.cursor = c.head
	} else {
		return false
	}
	return w.cursor < w.target
}

// chunk looks at up to queryChunk events and reports whether the walk is
// over. Lock only.
func (w *walker) chunk() bool {
	g, q := w.g, &w.q
	for range queryChunk {
		seq := w.cursor
		if seq == 0 || seq < g.held.first || seq >= w.target && q.Oldest {
			return true
		}
		s := g.slotOf(seq)
		if seq >= w.target {
			// Linked but not sealed when the query began: newer than
			// what it answers. Step over it. (Only an index walk starts
			// past target.)
			if w.f < 0 {
				w.cursor = seq - 1
			} else {
				w.cursor = before(seq, s, w.f)
			}
			continue
		}
		if q.MaxScan > 0 && w.scanned == q.MaxScan {
			w.more = true
			return true
		}
		w.scanned++
		if w.match(g.held.arena.read(s.at)) {
			if q.Limit > 0 && w.found == q.Limit {
				w.more = true
				return true
			}
			w.found++
			w.snap.add(g, seq, s)
		}
		switch {
		case w.f >= 0 && q.Oldest:
			w.cursor = after(seq, s, w.f)
		case w.f >= 0:
			w.cursor = before(seq, s, w.f)
		case q.Oldest:
			w.cursor = seq + 1
		default:
			w.cursor = seq - 1
		}
	}
	return false
}

// match reports whether the event encoded in rec passes the query's
// filters other than the key it walks, reading them in place.
func (w *walker) match(rec []byte) bool {
	if !w.filter {
		return true
	}
	q := &w.q
	f, err := wire.ReadFields(rec)
	if err != nil {
		panic("otelaudit: internal error: held event does not decode: " + err.Error())
	}
	switch {
	case q.TraceID.IsValid() && f.TraceID != q.TraceID:
		return false
	case q.Type != "" && string(f.Strings[wire.StrType]) != string(q.Type):
		return false
	case q.AgentID != "" && string(f.Strings[wire.StrAgent]) != q.AgentID:
		return false
	case q.HumanOriginID != "" && string(f.Strings[wire.StrHumanOrigin]) != q.HumanOriginID:
		return false
	case q.Outcome == NoOutcome && len(f.Strings[wire.StrOutcome]) != 0:
		return false
	case q.Outcome != "" && q.Outcome != NoOutcome && string(f.Strings[wire.StrOutcome]) != string(q.Outcome):
		return false
	}
	t := instant{f.Sec, f.Nsec}
	return (!w.hasSince || !t.before(w.since)) && (!w.hasUntil || t.before(w.until))
}
