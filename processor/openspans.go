package processor

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// DefaultMaxOpenSpans is how many open spans the Processor remembers by
// default (WithMaxOpenSpans): about 100 bytes each, so at most about
// 6.5 MiB.
const DefaultMaxOpenSpans = 1 << 16

// openShards is how many locks the table of open spans is split under,
// when its bound is large enough to split (see newOpenSpans): spans start
// and end on every goroutine of the runtime.
const openShards = 64

// identity is who acts in a span: the values an event takes from the
// nearest enclosing span that has them.
type identity struct {
	agent, human, workflow, node string
}

func (i identity) empty() bool {
	return i.agent == "" && i.human == "" && i.workflow == "" && i.node == ""
}

// or fills what i lacks from outer, field by field.
func (i identity) or(outer identity) identity {
	if i.agent == "" {
		i.agent = outer.agent
	}
	if i.human == "" {
		i.human = outer.human
	}
	if i.workflow == "" {
		i.workflow = outer.workflow
	}
	if i.node == "" {
		i.node = outer.node
	}
	return i
}

// openSpans remembers, for each open span the Processor tracks, the
// identity its descendants inherit. A span is tracked from OnStart to
// OnEnd when it is in audited work (it has an identity, its own, inherited
// or from Baggage, is audited at start, or its parent is in audited work)
// and its descendants could not tell so from its own attributes (see
// Processor.enclosing): typically every span below a workflow's root, not
// the root. The Sampler records the children of spans in audited work.
// OnEnd releases the entry.
//
// The table is bounded: past its bound a span is not tracked (counted in
// the Generator's Stats.Untracked), so its own events still inherit from
// its parent when that is tracked, but its children inherit nothing from
// it. A span that is never ended keeps its entry, as it keeps its memory
// in the SDK. Entries hold the identity strings, which are the span
// attributes' own (immutable), never the span.
type openSpans struct {
	shards   []openShard
	mask     uint64
	perShard int
	// used is set by the first put and never cleared: until then OnEnd
	// need not even read an ended span's context to look it up.
	used atomic.Bool
}

// inUse reports whether any span was ever put.
func (t *openSpans) inUse() bool { return t.used.Load() }

type openShard struct {
	mu sync.Mutex
	m  map[uint64]openSpan
	// n is len(m), readable without the lock: OnEnd asks every span's
	// shard, and most spans were never put.
	n atomic.Int32
	// Pad to a cache line, so that goroutines working on different shards
	// do not contend for one.
	_ [44]byte
}

// openSpan is an entry: the trace guards against a span ID reused in
// another trace (span IDs are random, but an IDGenerator may be anything).
type openSpan struct {
	trace uint64
	id    identity
}

// newOpenSpans returns a table of at most max entries (DefaultMaxOpenSpans
// when max <= 0). Small tables have one lock, so the bound is exact; large
// ones (from 16,384) are split in openShards, each bounded to
// max/openShards, so that a very uneven spread of span IDs could refuse a
// little before max.
func newOpenSpans(max int) *openSpans {
	if max <= 0 {
		max = DefaultMaxOpenSpans
	}
	n := 1
	if max >= openShards*256 {
		n = openShards
	}
	t := &openSpans{shards: make([]openShard, n), mask: uint64(n - 1), perShard: (max + n - 1) / n}
	return t
}

func keys(sc trace.SpanContext) (span, tr uint64) {
	sid, tid := sc.SpanID(), sc.TraceID()
	return binary.LittleEndian.Uint64(sid[:]), binary.LittleEndian.Uint64(tid[8:])
}

func (t *openSpans) shard(span uint64) *openShard {
	return &t.shards[span&t.mask]
}

// put tracks sc with id; false when the table is full.
func (t *openSpans) put(sc trace.SpanContext, id identity) bool {
	span, tr := keys(sc)
	s := t.shard(span)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[uint64]openSpan)
		t.used.Store(true)
	}
	if len(s.m) >= t.perShard {
		if _, ok := s.m[span]; !ok {
			return false
		}
	}
	s.m[span] = openSpan{trace: tr, id: id}
	s.n.Store(int32(len(s.m)))
	return true
}

// get returns the identity of the tracked span sc.
func (t *openSpans) get(sc trace.SpanContext) (identity, bool) {
	if !sc.IsValid() || sc.IsRemote() {
		return identity{}, false
	}
	span, tr := keys(sc)
	s := t.shard(span)
	if s.n.Load() == 0 {
		return identity{}, false
	}
	s.mu.Lock()
	e, ok := s.m[span]
	s.mu.Unlock()
	if !ok || e.trace != tr {
		return identity{}, false
	}
	return e.id, true
}

// take returns the identity of the tracked span sc and forgets it.
func (t *openSpans) take(sc trace.SpanContext) (identity, bool) {
	span, tr := keys(sc)
	s := t.shard(span)
	if s.n.Load() == 0 {
		return identity{}, false
	}
	s.mu.Lock()
	e, ok := s.m[span]
	if ok && e.trace == tr {
		delete(s.m, span)
		s.n.Store(int32(len(s.m)))
	}
	s.mu.Unlock()
	if !ok || e.trace != tr {
		return identity{}, false
	}
	return e.id, true
}

// len is how many spans are tracked now.
func (t *openSpans) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
