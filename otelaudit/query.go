package otelaudit

import (
	"fmt"
	"unsafe"

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
