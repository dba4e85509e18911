package otelaudit

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Generator is the audit trail: a bounded, locked, indexed store of Events.
//
// Every method is safe for concurrent use. Writers (Record, Append, Clear)
// take an exclusive lock briefly: an event is validated and encoded before
// the lock is taken and copied in after it, so the critical section only
// numbers it and hands out its slot and room (plus, when the oldest event
// must make room and was indexed, unlinking it). Queries never scan the store: each walks the index list of its key.
// The indexes are brought up to date by the first query that follows new
// events, each event once, in chunks (see index.go): a process that records
// much and queries rarely, as an audit trail does, pays for indexing only
// when it asks.
//
// Held events are kept encoded (see MarshalBinary) in memory the garbage
// collector does not scan; a query decodes what it returns, so every event a
// query returns is a fresh copy.
//
// The zero Generator is not usable; create one with NewGenerator.
type Generator struct {
	cfg config

	// mu is a plain mutex, not a RWMutex: every query holds it only to copy
	// bytes, and the writers' hot path is cheaper without reader counts.
	mu sync.Mutex
	// Held events have the consecutive sequence numbers [first, next), and
	// those in [first, indexed) are linked into the indexes.
	// Seq 0 is never assigned, so 0 can mean "no event" in index links.
	first, next, indexed uint64
	// ringBase is the first Seq of the ring's current incarnation: Clear
	// starts a new one, so that no writer waits for a slot of the old.
	ringBase uint64
	ring     ring
	arena    arena
	traces   traceTable
	types    map[EventType]*chain
	agents   map[string]*chain
	sources  sourceTable

	recorded uint64 // under mu
	evicted  uint64 // under mu
	cleared  uint64 // under mu
	// rejected is counted before the lock is taken (bad input never
	// reaches it), hence atomic.
	rejected atomic.Uint64
}

// NewGenerator returns an empty Generator configured by opts.
func NewGenerator(opts ...Option) *Generator {
	cfg := newConfig(opts)
	return &Generator{
		cfg:      cfg,
		first:    1,
		next:     1,
		indexed:  1,
		ringBase: 1,
		ring:     newRing(cfg.capacity),
		traces:   newTraceTable(),
		types:    make(map[EventType]*chain),
		agents:   make(map[string]*chain),
		sources:  newSourceTable(),
	}
}

// Record validates e, completes it, stores it and returns the stored event.
//
// A zero Time becomes now. A zero TraceID (and then SpanID) is taken from the
// span in ctx; a zero SpanID alone is taken from ctx when ctx's span belongs
// to e's trace. Seq is assigned, whatever e held. The Generator keeps its
// own copy of everything, so the caller may reuse e's attribute slice, and
// the returned event is a copy too.
//
// Record refuses, with an error wrapping ErrEmptyType, ErrInvalidEvent or
// ErrFull, and counts in Stats.Rejected: an empty type, an unknown outcome, a
// span ID without a trace ID, a negative duration, an attribute value nested
// more than 32 slices or maps deep, or (under RejectNew) an event that finds
// the Generator full.
func (g *Generator) Record(ctx context.Context, e Event) (Event, error) {
	if g == nil {
		return Event{}, ErrNilGenerator
	}
	if err := g.append(ctx, &e); err != nil {
		return Event{}, err
	}
	// The Generator encoded its own copy; the caller gets another, with the
	// Time as queries will return it (no monotonic reading, local zone).
	e.Time = time.Unix(e.Time.Unix(), int64(e.Time.Nanosecond()))
	return e.clone(), nil
}

// Append records e exactly as Record does but returns only its Seq, sparing
// the copy of the stored event that Record hands back. The span processor's
// hot path uses it.
func (g *Generator) Append(ctx context.Context, e Event) (uint64, error) {
	if g == nil {
		return 0, ErrNilGenerator
	}
	if err := g.append(ctx, &e); err != nil {
		return 0, err
	}
	return e.Seq, nil
}

// append completes, validates, encodes and stores e, setting e.Seq.
func (g *Generator) append(ctx context.Context, e *Event) error {
	if err := g.fill(ctx, e); err != nil {
		g.rejected.Add(1)
		return err
	}
	// Encoded before the lock is taken, into a buffer on the stack (an event
	// larger than it spills to the heap); store copies it into the arena.
	var buf [encodeBufSize]byte
	return g.store(appendEvent(buf[:0], e), e)
}

// encodeBufSize fits a typical event (a few hundred bytes, see
// BENCHMARKS.md) with room to spare.
const encodeBufSize = 1024

func (g *Generator) fill(ctx context.Context, e *Event) error {
	if e.Type == "" {
		return ErrEmptyType
	}
	if !e.Outcome.Valid() {
		return fmt.Errorf("%w: unknown outcome %q", ErrInvalidEvent, e.Outcome)
	}
	if e.Duration < 0 {
		return fmt.Errorf("%w: negative duration %s", ErrInvalidEvent, e.Duration)
	}
	if ctx != nil && (!e.TraceID.IsValid() || !e.SpanID.IsValid()) {
		sc := trace.SpanContextFromContext(ctx)
		switch {
		case !e.TraceID.IsValid() && sc.IsValid():
			e.TraceID = sc.TraceID()
			if !e.SpanID.IsValid() {
				e.SpanID = sc.SpanID()
			}
		case e.TraceID.IsValid() && sc.TraceID() == e.TraceID:
			e.SpanID = sc.SpanID()
		}
	}
	if !e.TraceID.IsValid() && e.SpanID.IsValid() {
		return fmt.Errorf("%w: span ID %s without a trace ID", ErrInvalidEvent, e.SpanID)
	}
	if err := checkDepth(e.Attributes); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	return nil
}

// store numbers the encoded event rec (whose decoded form is e, and whose
// Seq it sets), takes a slot and room in the arena for it under the lock,
// then fills them and publishes the slot after releasing it.
func (g *Generator) store(rec []byte, e *Event) error {
	g.mu.Lock()
	if g.next-g.first == g.ring.capacity {
		if g.cfg.policy == RejectNew {
			g.mu.Unlock()
			g.rejected.Add(1)
			return fmt.Errorf("%w: holding %d events", ErrFull, g.ring.capacity)
		}
		g.evictOldest()
	}
	seq := g.next
	g.next++
	g.recorded++
	s := g.ring.alloc(seq)
	dst, at, ck := g.arena.reserve(seq, len(rec))
	src := g.sources.index(e.Source)
	// The slot's previous occupant, if it was reserved in this ring (not
	// before a Clear), may still be being written: wait for it below.
	var prev uint64
	if seq >= g.ringBase+g.ring.capacity {
		prev = seq - g.ring.capacity
	}
	g.mu.Unlock()

	// The lock only handed out the number, the slot and the room in the
	// arena; the slot and the bytes are written now, outside it, so that
	// the cache misses of writing them never hold up other writers. Readers
	// wait for pub (see slotOf), and the room is not reused before its
	// chunk is fully written (see arena.release).
	e.Seq = seq
	binary.LittleEndian.PutUint64(rec[1:9], seq)
	if prev != 0 {
		for s.pub.Load() != prev {
			runtime.Gosched()
		}
	}
	s.at, s.src, s.links = at, src, [numLinks]uint64{}
	copy(dst, rec)
	ck.written.Add(int64(len(rec)))
	s.pub.Store(seq)
	// Indexing waits for the next query (see index.go): the hot path only
	// appends.
	return nil
}

// slotOf returns the slot of held event seq once its writer has finished
// (a few hundred nanoseconds at most: the writer needs no lock to finish).
// Called with g.mu held.
func (g *Generator) slotOf(seq uint64) *slot {
	s := g.ring.at(seq)
	for s.pub.Load() != seq {
		runtime.Gosched()
	}
	return s
}

// evictOldest drops the oldest held event, unlinking it from the indexes if
// it was indexed. An event never indexed is not even looked at: its slot and
// bytes are cold, and dropping it is bookkeeping. Called with g.mu held.
func (g *Generator) evictOldest() {
	if g.first < g.indexed {
		s := g.slotOf(g.first)
		g.unlinkOldest(s, g.arena.read(s.at))
	}
	g.arena.release(g.first)
	g.first++
	g.evicted++
	g.indexed = max(g.indexed, g.first)
}

// Clear drops every held event, counting them in Stats.Cleared, and releases
// their memory. Sequence numbers continue where they were: a Seq is never
// reused.
func (g *Generator) Clear() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cleared += g.next - g.first
	g.first = g.next
	g.indexed = g.next
	g.ringBase = g.next
	g.ring.reset()
	g.arena.reset()
	g.traces.reset()
	g.types = make(map[EventType]*chain)
	g.agents = make(map[string]*chain)
	// Writers from before the Clear hold Source numbers of the old table
	// only for slots of the old ring, which nothing reads again.
	g.sources = newSourceTable()
}

// Stats returns the Generator's counters, read at one instant.
func (g *Generator) Stats() Stats {
	if g == nil {
		return Stats{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return Stats{
		Recorded: g.recorded,
		Evicted:  g.evicted,
		Rejected: g.rejected.Load(),
		Cleared:  g.cleared,
		Len:      int(g.next - g.first),
		Capacity: int(g.ring.capacity),
		LastSeq:  g.next - 1,
	}
}
