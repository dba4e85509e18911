package otelaudit

import (
	"fmt"

	"go.opentelemetry.io/otel/trace"
)

// Events returns the newest limit held events, oldest first; all of them
// when limit <= 0.
func (g *Generator) Events(limit int) []Event {
	if g == nil {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.next - g.first
	if limit > 0 && uint64(limit) < n {
		n = uint64(limit)
	}
	if n == 0 {
		return nil
	}
	out := make([]Event, 0, n)
	for seq := g.next - n; seq < g.next; seq++ {
		out = append(out, g.decode(seq, g.ring.at(seq)))
	}
	return out
}

// EventsByTrace returns the held events of one trace, oldest first. It costs
// one hash lookup plus the events returned, whatever the size of the store.
// The zero TraceID has no events.
func (g *Generator) EventsByTrace(id trace.TraceID) []Event {
	if g == nil || !id.IsValid() {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.collect(g.traces.find(id), linkTrace)
}

// EventsByType returns the held events of type t, oldest first.
func (g *Generator) EventsByType(t EventType) []Event {
	if g == nil {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.collect(g.types[t], linkType)
}

// EventsByAgent returns the held events whose AgentID is agent, oldest
// first. The empty agent has no events.
func (g *Generator) EventsByAgent(agent string) []Event {
	if g == nil || agent == "" {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.collect(g.agents[agent], linkAgent)
}

// collect decodes the events of c. Called with g.mu held.
func (g *Generator) collect(c *chain, f int) []Event {
	if c == nil || c.n == 0 {
		return nil
	}
	out := make([]Event, 0, c.n)
	g.ring.walk(c, f, func(seq uint64, s *slot) {
		out = append(out, g.decode(seq, s))
	})
	return out
}

// decode returns a fresh copy of held event seq. The encoding was written by
// this process a moment ago, so failing to read it back is a broken
// invariant, not bad input.
func (g *Generator) decode(seq uint64, s *slot) Event {
	e, err := decodeEvent(string(g.arena.read(s.at)))
	if err != nil || e.Seq != seq {
		panic(fmt.Sprintf("otelaudit: internal error: held event %d does not decode: %v", seq, err))
	}
	e.Source = g.sources.get(s.src)
	return e
}
