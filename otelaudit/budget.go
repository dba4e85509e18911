package otelaudit

// The byte budget. Capacity bounds how many events are held; the budget
// bounds what they weigh, so that events with large attributes, or with a
// new resource and scope each, cannot make a trail of the default
// capacity hold gigabytes. Each held event counts:
//
//   - its encoding (at most the event size cap, see WithMaxEventSize),
//   - its type, agent and user again, since the indexes keep each key
//     once more (at most once per event: counting it per event bounds the
//     indexes of a trail whose events all have new keys),
//   - slotCost for its slot and hash;
//
// and each Source held events refer to counts its encoding plus
// sourceCost, until no held event refers to it (the source table then
// releases it). When the next event would pass the budget, the oldest
// events are evicted as at the capacity bound (counted in Stats.Evicted,
// and in Stats.EvictedForBytes when the bytes, not the count, made room
// necessary); under RejectNew the event is refused with ErrFull; with a
// store, only durable events leave, as always.

// DefaultMaxBytes is the byte budget of a Generator unless WithMaxBytes
// says otherwise: 64 MiB. At the default capacity of 100,000 events it
// leaves about 670 bytes per event (twice what a typical processor event
// takes, see BENCHMARKS.md), so for ordinary events the capacity is the
// bound, and for large ones the bytes are.
const DefaultMaxBytes = 64 << 20

// slotCost is what a held event costs beside its bytes: its slot in the
// ring (64 bytes) and its hash (32).
const slotCost = 96

// sourceCost is what an interned Source costs beside its encoding: the
// Source, its resource and scope, its digest and its entry in the table.
const sourceCost = 512

// WithMaxBytes sets the byte budget of the events the Generator holds (see
// DefaultMaxBytes for what counts). n <= 0 keeps DefaultMaxBytes; the
// budget is at least 4 times the event size cap (WithMaxEventSize), so
// that a cut event never has a trail to itself.
func WithMaxBytes(n int64) Option {
	return optionFunc(func(c config) config {
		if n > 0 {
			c.maxBytes = n
		}
		return c
	})
}

// charge is what event e, encoded in rec, counts against the budget.
func charge(rec []byte, e *Event) int64 {
	return int64(len(rec)) + int64(len(e.Type)+len(e.AgentID)+len(e.HumanOriginID)) + slotCost
}

// full reports whether one more event of need bytes does not fit: the
// capacity is reached, or the budget would be passed. An empty Generator
// is never full (every event fits under the budget, see WithMaxBytes).
// Lock only.
func (g *Generator) full(need int64) bool {
	held := g.held.next - g.held.first
	return held > 0 && (held == g.held.ring.capacity || g.held.bytes+need > g.cfg.maxBytes)
}
