package otelaudit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// Store makes a Generator's events durable; see WithStore. Package store
// implements it on bbolt. The Generator calls Write from one goroutine, its
// writer, never concurrently, and Head only when it starts.
type Store interface {
	// Head returns the Seq and Hash of the newest event the store holds
	// (or of the last one it dropped, or GenesisAnchor when it never held
	// any): where a Generator attached to it continues the trail.
	Head() Anchor
	// Write makes records durable, with the checkpoints, atomically: when
	// it returns nil all of them survive a crash, when it fails none of
	// them was written and the Generator retries them. records follow on
	// from the head: the first has Seq Head().Seq+1 and PrevHash its Hash.
	// Every checkpoint is of a Seq up to the last record's. Neither slice,
	// nor the records' Data, may be kept after Write returns.
	Write(records []Record, checkpoints []Checkpoint) error
	// Close releases the store. The Generator calls it from Shutdown.
	Close() error
}

// Record is a sealed event as the Generator hands it to its Store: its
// canonical encoding, its Source and its place in the chain.
type Record struct {
	Seq      uint64
	PrevHash Hash
	Hash     Hash
	// Data is the event's MarshalBinary form.
	Data []byte
	// Source and its Digest (the zero Hash for none), which Hash covers.
	Source       *Source
	SourceDigest Hash
}

// Errors of a Generator with a store, and of a Generator after Shutdown.
var (
	// ErrStoreBehind refuses an event when every held event is still
	// waiting for the store writer and none became durable within the
	// store wait (see WithStoreWait). The event is counted in
	// Stats.Rejected.
	ErrStoreBehind = errors.New("otelaudit: store writer is behind")
	// ErrShutdown refuses events recorded after Shutdown.
	ErrShutdown = errors.New("otelaudit: generator is shut down")
)

// maxWriteBatch bounds the events in one store transaction. The writer
// takes what has arrived since its last commit, up to this, so commits
// group as many events as arrive during one fsync.
const maxWriteBatch = 8192

// writer is the background goroutine of a Generator with a store.
type writer struct {
	wake chan struct{}
	quit chan struct{}
	done chan struct{}
	// idle is set while the writer waits for work: an Append that sees it
	// wakes the writer. While the writer is busy Appends do not signal at
	// all; it looks for new events after every commit.
	idle     atomic.Bool
	closeErr error // set before done is closed
}

// kick wakes the writer if it is waiting.
func (g *Generator) kick() {
	if w := g.w; w != nil && w.idle.CompareAndSwap(true, false) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// signalDurable wakes everything waiting for the writer: flushes and
// writers waiting for room. Lock only.
func (g *Generator) signalDurable() {
	close(g.durableCh)
	g.durableCh = make(chan struct{})
}

func (g *Generator) startWriter() {
	g.w = &writer{
		wake: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	g.durableCh = make(chan struct{})
	go g.runWriter()
}

// runWriter moves sealed events to the store, a group commit at a time,
// until Shutdown. A failed Write is retried, with backoff, until it
// succeeds or Shutdown gives up: events are never skipped, since the store
// takes them only in order.
func (g *Generator) runWriter() {
	w := g.w
	var (
		recs    []Record
		buf     []byte
		cps     []Checkpoint
		backoff time.Duration
		tick    <-chan time.Time
	)
	if g.cfg.signer != nil {
		t := time.NewTicker(g.cfg.cpInterval)
		defer t.Stop()
		tick = t.C
	}
	defer func() {
		w.closeErr = g.cfg.store.Close()
		g.mu.Lock()
		g.writerDone = true
		g.signalDurable()
		g.mu.Unlock()
		close(w.done)
	}()
	for {
		select {
		case <-w.quit:
			return
		default:
		}
		recs, buf, cps = g.nextBatch(recs[:0], buf[:0], cps[:0])
		if len(recs) == 0 && len(cps) == 0 {
			w.idle.Store(true)
			g.mu.Lock()
			pending := g.next > g.durable+1
			g.mu.Unlock()
			if pending {
				w.idle.Store(false)
				continue
			}
			select {
			case <-w.wake:
			case <-tick:
				g.lockSealed()
				g.maybeCheckpoint()
				g.mu.Unlock()
			case <-w.quit:
				return
			}
			w.idle.Store(false)
			continue
		}
		err := g.cfg.store.Write(recs, cps)
		g.mu.Lock()
		if err != nil {
			g.storeErrors++
			g.storeErr = err
			g.mu.Unlock()
			backoff = min(max(2*backoff, 10*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-w.quit:
				return
			}
			continue
		}
		backoff = 0
		g.storeErr = nil
		if n := len(recs); n > 0 {
			g.durable = recs[n-1].Seq
		}
		g.cpPending = g.cpPending[len(cps):]
		g.signalDurable()
		g.mu.Unlock()
	}
}

// nextBatch seals and copies out the events not yet durable, up to
// maxWriteBatch, and the pending checkpoints they cover.
//
// It holds the lock a chunk at a time (sealing and copying 1,024 events),
// letting writers in between. The range stays held meanwhile: events not
// durable are never evicted, and Clear waits for them.
func (g *Generator) nextBatch(recs []Record, buf []byte, cps []Checkpoint) ([]Record, []byte, []Checkpoint) {
	g.mu.Lock()
	from := g.durable + 1
	target := min(g.next, from+maxWriteBatch)
	for seq := from; seq < target; {
		end := min(target, seq+sealChunk)
		g.sealTo(max(g.sealed, end))
		for ; seq < end; seq++ {
			s := g.slotOf(seq)
			prev, _ := g.hashOf(seq - 1)
			start := len(buf)
			buf = append(buf, g.arena.read(s.at)...)
			recs = append(recs, Record{
				Seq:          seq,
				PrevHash:     prev,
				Hash:         *g.ring.hashAt(seq),
				Data:         buf[start:len(buf):len(buf)],
				Source:       g.sources.get(s.src),
				SourceDigest: g.sources.digest(s.src),
			})
		}
		if seq < target {
			g.mu.Unlock()
			runtime.Gosched()
			g.mu.Lock()
		}
	}
	// Only checkpoints of events in this batch or before it go with it:
	// a stored checkpoint past the stored trail would read as a cut tail.
	for _, c := range g.cpPending {
		if c.Seq >= target {
			break
		}
		cps = append(cps, c)
	}
	g.mu.Unlock()
	// buf may have moved while growing: point the records at where it is.
	off := 0
	for i := range recs {
		n := len(recs[i].Data)
		recs[i].Data = buf[off : off+n : off+n]
		off += n
	}
	return recs, buf, cps
}

// waitForRoom waits, with g.mu held on entry and exit, while the Generator
// is full of events its store has not made durable yet, up to the store
// wait.
func (g *Generator) waitForRoom() error {
	var timer *time.Timer
	for g.next-g.first == g.ring.capacity && g.first > g.durable {
		if g.closed || g.writerDone {
			// No writer will make room: the held events must stay.
			return ErrShutdown
		}
		if g.cfg.storeWait == 0 {
			return fmt.Errorf("%w: %d events wait to be durable", ErrStoreBehind, g.next-1-g.durable)
		}
		if timer == nil {
			timer = time.NewTimer(g.cfg.storeWait)
			defer timer.Stop()
		}
		ch := g.durableCh
		g.mu.Unlock()
		g.kick()
		select {
		case <-ch:
			g.mu.Lock()
		case <-timer.C:
			g.mu.Lock()
			return fmt.Errorf("%w: %d events still wait to be durable after %s", ErrStoreBehind, g.next-1-g.durable, g.cfg.storeWait)
		}
	}
	return nil
}

// ForceFlush returns once every event accepted before the call is durable
// in the Generator's store, or with an error wrapping ctx's when ctx ends
// first, saying how many are not. Without a store it returns nil at once:
// held events are as final as they get.
func (g *Generator) ForceFlush(ctx context.Context) error {
	if g == nil {
		return ErrNilGenerator
	}
	if g.w == nil {
		return nil
	}
	g.mu.Lock()
	target := g.next - 1
	for !g.flushedTo(target) {
		if g.writerDone {
			n := target - g.durable
			g.mu.Unlock()
			return fmt.Errorf("%w: %d events were not made durable", ErrShutdown, n)
		}
		ch, storeErr := g.durableCh, g.storeErr
		g.mu.Unlock()
		g.kick()
		select {
		case <-ch:
		case <-ctx.Done():
			g.mu.Lock()
			n := target - min(target, g.durable)
			g.mu.Unlock()
			if n == 0 {
				return nil
			}
			if storeErr != nil {
				return fmt.Errorf("otelaudit: %d events not durable yet (store: %v): %w", n, storeErr, ctx.Err())
			}
			return fmt.Errorf("otelaudit: %d events not durable yet: %w", n, ctx.Err())
		}
		g.mu.Lock()
	}
	g.mu.Unlock()
	return nil
}

// flushedTo reports whether every event up to target, and every
// checkpoint of them, is in the store. Lock only.
func (g *Generator) flushedTo(target uint64) bool {
	return g.durable >= target && (len(g.cpPending) == 0 || g.cpPending[0].Seq > target)
}

// Shutdown stops the Generator: later Record and Append calls are refused
// with ErrShutdown. With a signing key it signs a last checkpoint of the
// head, so that whatever is cut off the trail after the process ends shows.
// With a store, it then flushes (see ForceFlush), stops the writer and
// closes the store, within ctx; the error says what could not be done in
// time. Held events stay queryable. Calls after the first return nil.
func (g *Generator) Shutdown(ctx context.Context) error {
	if g == nil {
		return ErrNilGenerator
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	reg := g.metrics
	if g.w != nil {
		// Records waiting for room see closed and give up.
		g.signalDurable()
	}
	g.mu.Unlock()
	if reg != nil {
		// Stats stay readable; the metrics stop with the Generator.
		_ = reg.Unregister()
	}
	if g.cfg.signer != nil {
		g.lockSealed()
		if g.sealed-1 > g.cpSeq {
			g.addCheckpoint()
		}
		g.mu.Unlock()
	}
	if g.w == nil {
		return nil
	}
	err := g.ForceFlush(ctx)
	close(g.w.quit)
	// An idle writer exits at once: let it, even if ForceFlush used up
	// ctx, so that the store is closed when Shutdown returns.
	for range 100 {
		select {
		case <-g.w.done:
			return errors.Join(err, g.w.closeErr)
		default:
			runtime.Gosched()
		}
	}
	select {
	case <-g.w.done:
		return errors.Join(err, g.w.closeErr)
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("otelaudit: store writer still busy: %w", ctx.Err()))
	}
}
