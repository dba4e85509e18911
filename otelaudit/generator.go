package otelaudit

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// Generator is the audit trail: a bounded, locked, indexed store of Events.
//
// Every method is safe for concurrent use. Writers (Record, Append, Clear)
// take an exclusive lock briefly: an event is validated and encoded before
// the lock is taken and copied in after it, so the critical section only
// numbers it and hands out its slot and room (plus, when the oldest event
// must make room, dropping it). Queries never scan the store: each walks
// the index list of its key. A background worker keeps the indexes and the
// seals current behind the writers, a chunk per short hold of the lock
// (see follow.go), so that a query pays only for the events of the last
// catch-up interval; with the worker off (WithCatchUpInterval(0)) the
// first query after new events indexes them all, each event once, in
// chunks (see index.go).
//
// Held events are kept encoded (see MarshalBinary) in memory the garbage
// collector does not scan; a query decodes what it returns, so every event a
// query returns is a fresh copy.
//
// The zero Generator is not usable; create one with NewGenerator or New. Its
// methods, like those of a nil *Generator, return ErrNilGenerator or
// nothing.
type Generator struct {
	cfg config

	// mu is a plain mutex, not a RWMutex: every query holds it only to copy
	// bytes, and the writers' hot path is cheaper without reader counts.
	// It guards every part below but the atomics each part marks, and the
	// fields set once before the Generator is shared.
	mu sync.Mutex

	held   held            // the events: ring, arena, Sources (held.go)
	idx    indexes         // the secondary indexes (index.go)
	seal   sealState       // the hash chain (seal.go)
	cps    checkpointState // signed checkpoints and the tree (checkpointing.go)
	dur    durability      // the store writer's progress (durable.go)
	counts counters        // what Stats reports (stats.go)
	req    requireState    // Require and Ready (require.go)
	fol    follower        // the catch-up worker (follow.go)

	// privacy is what every event goes through before it is encoded (see
	// policy.go); set once.
	privacy *compiledPolicy
	closed  bool                // Shutdown was called
	metrics metric.Registration // unregistered by Shutdown
	// startErr is why the Generator could not continue its store's trail
	// (see New); set once, before the Generator is shared.
	startErr error
}

// MaxSeq is the largest Seq a Generator hands out: 2^63-1, so that every
// Seq is also a non-negative int64 (an OTel attribute value). At a billion
// events a second it lasts 292 years; a store whose head is past it is
// corrupt.
const MaxSeq = 1<<63 - 1

// NewGenerator returns an empty Generator configured by opts.
//
// With a store (WithStore) it continues the store's trail, and can fail to:
// a store that is closed or read-only, a head its signing key did not sign
// (see ErrUnsigned), a failed first write. Such a Generator refuses every
// event with the error, wrapping ErrStoreRefused, and reports it to
// otel.Handle; New returns it instead. The store stays its caller's then.
func NewGenerator(opts ...Option) *Generator {
	g, err := newGenerator(opts)
	if err != nil {
		otel.Handle(err)
	}
	return g
}

// New is NewGenerator that returns the error, wrapping ErrStoreRefused, of a
// store whose trail it cannot continue; the store is then still the
// caller's, to close or to open differently. Without a store it never
// fails.
func New(opts ...Option) (*Generator, error) {
	g, err := newGenerator(opts)
	if err != nil {
		_ = g.Shutdown(context.Background())
		return nil, err
	}
	return g, nil
}

func newGenerator(opts []Option) (*Generator, error) {
	cfg := newConfig(opts)
	g := &Generator{
		cfg:  cfg,
		held: held{ring: newRing(cfg.capacity), sources: newSourceTable()},
		idx:  newIndexes(),
		cps:  checkpointState{lastTime: time.Now()},
		fol:  follower{stop: make(chan struct{})},
	}
	var ps *pseudonyms
	if cfg.pseudoKey != nil {
		var err error
		if ps, err = newPseudonyms(cfg.pseudoKey, cfg.pseudoTargets); err != nil {
			// Refuse every event rather than store in clear what the
			// caller asked to hide; a store is not touched.
			g.startErr = fmt.Errorf("%w: %d bytes, want at least %d", err, len(cfg.pseudoKey), MinPseudonymKeySize)
			cfg.store = nil
			g.cfg.store = nil
		}
	}
	g.privacy = compilePolicy(&cfg.privacy, ps)
	if cfg.signer != nil {
		g.cps.origin = cfg.origin
		if g.cps.origin == "" {
			g.cps.origin = DefaultOrigin(cfg.public())
		}
		// The origin was checked by WithOrigin, the key by WithSigningKey.
		g.cps.signer, _ = noteSigner(g.cps.origin, cfg.signer)
		if cfg.store == nil {
			g.seal.memTree, _ = tlog.NewTree(0, nil)
		}
	}
	anchor := GenesisAnchor
	if cfg.store != nil {
		anchor, g.startErr = g.resume()
	}
	start := anchor.Seq + 1
	g.held.first, g.held.next, g.idx.indexed, g.seal.sealed = start, start, start, start
	g.seal.head, g.seal.anchor, g.dur.seq, g.cps.lastSeq = anchor.Hash, anchor, anchor.Seq, anchor.Seq
	if cfg.store != nil && g.startErr == nil {
		g.startWriter()
	}
	reg, err := g.registerMetrics(cfg.meter)
	if err != nil {
		otel.Handle(err)
	} else {
		g.metrics = reg
		runtime.AddCleanup(g, func(reg metric.Registration) { _ = reg.Unregister() }, reg)
	}
	return g, g.startErr
}

// usable returns ErrNilGenerator for a nil or zero Generator, and why a
// Generator that could not continue its store refuses events.
func (g *Generator) usable() error {
	if g.invalid() {
		return ErrNilGenerator
	}
	return g.startErr
}

// invalid reports whether g is nil or the zero Generator.
func (g *Generator) invalid() bool { return g == nil || g.held.ring.capacity == 0 }

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
	if err := g.usable(); err != nil {
		if g != nil && g.startErr != nil {
			g.counts.rejected.Add(1)
		}
		return Event{}, err
	}
	if err := g.append(ctx, &e, true, nil); err != nil {
		return Event{}, err
	}
	// The Generator encoded its own copy; the caller gets another, as the
	// policy left it, with the Time as queries will return it (no
	// monotonic reading, local zone), and sealed, unlike what Append
	// leaves behind.
	e.Time = time.Unix(e.Time.Unix(), int64(e.Time.Nanosecond()))
	e.PrevHash, e.Hash = g.sealOne(e.Seq)
	return e.clone(), nil
}

// Append records e exactly as Record does but returns only its Seq, sparing
// the copy of the stored event that Record hands back. The span processor's
// hot path uses it.
func (g *Generator) Append(ctx context.Context, e Event) (uint64, error) {
	if err := g.usable(); err != nil {
		if g != nil && g.startErr != nil {
			g.counts.rejected.Add(1)
		}
		return 0, err
	}
	if err := g.append(ctx, &e, false, nil); err != nil {
		return 0, err
	}
	return e.Seq, nil
}

// append completes, validates, applies the policy and the size cap to,
// encodes and stores e, setting e.Seq; for Require, with w, which waits for
// its commit. With keep, e is left as stored (its attributes its own); else
// its attributes may be the pooled hasher's, reused once append returns.
func (g *Generator) append(ctx context.Context, e *Event, keep bool, w *receiptWait) error {
	e.PrevHash, e.Hash = Hash{}, Hash{}
	if err := g.fill(ctx, e); err != nil {
		g.counts.rejected.Add(1)
		return err
	}
	h := hashers.Get().(*chainHasher)
	h.redacted, h.cut = g.privacy.apply(e, &h.attrs).redacted, false
	if e.Source != nil && len(e.Source.encoding()) > g.cfg.maxEvent {
		// A resource and scope larger than an event may be: the event is
		// kept, its Source is not, and it says so.
		n := len(e.Source.encoding())
		e.Source = nil
		e.Attributes = append(slices.Clip(e.Attributes), attribute.StringSlice(AttrTruncated,
			[]string{fmt.Sprintf("source: %d bytes, dropped", n)}))
		h.cut = true
	}
	// Most events are far below the cap, as a glance at their strings
	// shows: they are encoded at once, and measured only if the encoding
	// says so. The others are measured first, so that a megabyte value is
	// cut before it is ever copied.
	if mayExceed(e, g.cfg.maxEvent) {
		if size := encodedSize(e); size > g.cfg.maxEvent {
			truncate(e, size, g.cfg.maxEvent)
			h.cut = true
		}
	}
	// Encoded before the lock is taken, after room for the rest of its hash
	// input (see hash.go), into the buffer of a pooled hasher, which also
	// hashes it (in hold); hold copies it into the arena.
	b := append(h.buf[:0], hashPrefixRoom[:]...)
	b = appendEvent(b, e)
	if n := len(b) - wire.PrefixLen; n > g.cfg.maxEvent {
		// Large values of other kinds than strings (slices of numbers).
		truncate(e, n, g.cfg.maxEvent)
		h.cut = true
		b = appendEvent(b[:wire.PrefixLen], e)
	}
	err := g.hold(b, e, h, w)
	if cap(b) <= maxPooledBuf {
		h.buf = b
	}
	if keep && len(h.attrs) > 0 && len(e.Attributes) > 0 && &e.Attributes[0] == &h.attrs[0] {
		e.Attributes = slices.Clone(e.Attributes)
	}
	// The pooled buffer must not keep the event's values alive.
	clear(h.attrs)
	h.attrs = h.attrs[:0]
	if cap(h.attrs) > maxPooledAttrs {
		h.attrs = nil
	}
	hashers.Put(h)
	return err
}

// maxPooledAttrs bounds the attribute buffer a pooled hasher keeps.
const maxPooledAttrs = 256

// maxPooledBuf bounds the encoding buffer a pooled hasher keeps: a rare huge
// event should not pin its size in every pool entry.
const maxPooledBuf = 64 << 10

// hashPrefixRoom is the room left before an encoding for the rest of its
// hash input (see wire.PutPrefix).
var hashPrefixRoom [wire.PrefixLen]byte

// hashers are the writers' SHA-256 states and encoding buffers, reused:
// one per event would be allocations on the hot path.
var hashers = sync.Pool{New: func() any { return &chainHasher{buf: make([]byte, 0, 1024)} }}

func (g *Generator) fill(ctx context.Context, e *Event) error {
	if e.Type == "" {
		return ErrEmptyType
	}
	if reservedType(e.Type) {
		return fmt.Errorf("%w: type %q: types starting with %q are reserved for the trail's own records", ErrInvalidEvent, e.Type, reservedTypePrefix)
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

// Clear drops every held event, counting them in Stats.Cleared, and releases
// their memory. Sequence numbers continue where they were: a Seq is never
// reused. The dropped events are sealed first and the last of them becomes
// the anchor, so the chain goes on unbroken.
//
// With a store, Clear first waits until every event held when it was
// called is durable, then drops the durable ones: it drops events from
// memory, never from the trail. Events recorded meanwhile that are not yet
// durable stay held. It waits as long as the store writer needs (after
// Shutdown, not at all).
func (g *Generator) Clear() {
	if g.usable() != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.dur.w != nil && !g.dur.writerDone {
		// Wait for the events held now, not for those that keep coming:
		// under steady load the trail is never all durable at once.
		target := g.held.next
		for g.dur.seq+1 < target && !g.dur.writerDone {
			g.awaitWriter(nil)
		}
		if !g.dur.writerDone {
			// Drop what is durable; events recorded since the call and
			// not yet durable stay held, queued for the store.
			for g.held.first <= g.dur.seq && g.held.first < g.held.next {
				g.dropOldest()
				g.counts.cleared++
			}
			return
		}
	}
	g.sealTo(g.held.next)
	g.seal.anchor = Anchor{Seq: g.held.next - 1, Hash: g.seal.head}
	g.counts.cleared += g.held.next - g.held.first
	g.held.first = g.held.next
	g.seal.sealed = g.held.next
	g.held.ring.reset()
	g.held.arena.reset()
	g.idx.reset(g.held.next)
	// Writers from before the Clear hold Source numbers of the old table
	// only for slots of the old ring, which nothing reads again.
	g.held.sources = newSourceTable()
	g.held.bytes = 0
}
