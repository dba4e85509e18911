package otelaudit

// EncodedEvents is a run of events in their binary encoding (see
// Event.MarshalBinary), each with its Source: what a follower that writes
// events out in another form (the exporter's direct OTLP Stream) reads
// instead of decoded Events, so that no Event, attribute slice or string
// is built for an event that is only passed on. The encodings lie back to
// back in one buffer that Reset keeps for the next run.
//
// The zero EncodedEvents is empty and ready to use. The bytes At returns
// belong to the EncodedEvents: they change at the next Reset.
type EncodedEvents struct {
	buf  []byte
	ends []int
	srcs []*Source
}

// Len returns how many events e holds.
func (e *EncodedEvents) Len() int { return len(e.ends) }

// At returns the encoding and the Source of the i-th event, 0 <= i < Len.
func (e *EncodedEvents) At(i int) ([]byte, *Source) {
	start := 0
	if i > 0 {
		start = e.ends[i-1]
	}
	return e.buf[start:e.ends[i]:e.ends[i]], e.srcs[i]
}

// Append adds a copy of data, the encoding of an event, and its Source.
func (e *EncodedEvents) Append(data []byte, src *Source) {
	e.buf = append(e.buf, data...)
	e.ends = append(e.ends, len(e.buf))
	e.srcs = append(e.srcs, src)
}

// Reset empties e, keeping its memory.
func (e *EncodedEvents) Reset() {
	e.buf = e.buf[:0]
	e.ends = e.ends[:0]
	clear(e.srcs) // let Sources go
	e.srcs = e.srcs[:0]
}

// grow makes room for n more events of size bytes in all.
func (e *EncodedEvents) grow(n, size int) {
	if cap(e.buf)-len(e.buf) < size {
		e.buf = append(make([]byte, 0, len(e.buf)+size), e.buf...)
	}
	if cap(e.ends)-len(e.ends) < n {
		e.ends = append(make([]int, 0, len(e.ends)+n), e.ends...)
		e.srcs = append(make([]*Source, 0, len(e.srcs)+n), e.srcs...)
	}
}

// AppendEncodedAfter appends to dst the held events with Seq greater than
// after, oldest first, at most limit of them when limit > 0, as
// EventsAfter returns them but encoded: the Generator's lock is held for a
// copy of their bytes, and nothing is decoded. It returns how many it
// appended.
func (g *Generator) AppendEncodedAfter(dst *EncodedEvents, after uint64, limit int) int {
	if g.invalid() || dst == nil {
		return 0
	}
	g.lockSealed()
	defer g.mu.Unlock()
	from := max(after+1, g.held.first)
	to := g.held.next
	if from >= to {
		return 0
	}
	if limit > 0 && to-from > uint64(limit) {
		to = from + uint64(limit)
	}
	size := 0
	for seq := from; seq < to; seq++ {
		size += int(g.slotOf(seq).at.n)
	}
	dst.grow(int(to-from), size)
	for seq := from; seq < to; seq++ {
		s := g.held.ring.at(seq)
		dst.Append(g.held.arena.read(s.at), g.held.sources.get(s.src))
	}
	return int(to - from)
}
