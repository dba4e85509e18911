package otelaudit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/otelaudit/otelaudit-go/internal/retry"
)

// Store makes a Generator's events durable; see WithStore. Package store
// implements it on bbolt. The Generator calls Resume once, when it is
// created, then Write from one goroutine, its writer, never concurrently,
// and Close from Shutdown.
type Store interface {
	// Resume says where the trail continues (see Resumption). pub is the
	// public half of the Generator's signing key, nil without one: with
	// it, a store refuses, with an error wrapping ErrUnsigned, a head that
	// pub did not sign, unless it was opened to adopt it. Any error
	// refuses the store: the Generator then refuses every event with it.
	Resume(pub ed25519.PublicKey) (Resumption, error)
	// Write makes a batch durable, atomically: when it returns nil all of
	// it survives a crash, when it fails none of it was written and the
	// Generator retries it. Records follow on from the head: the first
	// has Seq Head.Seq+1 and PrevHash its Hash, or is a SeqGap record
	// that jumps exactly over the Seqs reserved past the head. Nothing in
	// b, nor the records' Data, may be kept after Write returns.
	Write(b Batch) error
	// Close releases the store. The Generator calls it from Shutdown.
	Close() error
}

// Resumption is where a store's trail continues.
type Resumption struct {
	// Head is the newest stored event (or the last one dropped, or
	// GenesisAnchor when it never held any).
	Head Anchor
	// Reserved is the highest Seq the run before may have handed out
	// (see Batch.Reserved): Head.Seq after a clean Shutdown, more after a
	// crash, which the new run records as a SeqGap event.
	Reserved uint64
	// LastCommit is when the run before last committed; zero if unknown.
	LastCommit time.Time
	// Adopt says that the head is not signed by the key Resume was given,
	// and that the store was opened to continue it anyway: the new run
	// records that it did as a HeadAdopted event. SignedSeq is the newest
	// Seq the key had signed (0: none).
	Adopt     bool
	SignedSeq uint64
	// TreeSize is how many events (leaves) the trail's Merkle tree has,
	// every event the store ever held, and TreeRange the roots of the
	// perfect subtrees covering them, left to right (at most 64): where a
	// signing Generator's tree continues (see LeafHash).
	TreeSize  uint64
	TreeRange []Hash
	// Origin is the origin of the store's checkpoints, empty when it has
	// none: a Generator signing under another one refuses the store.
	Origin string
	// Signed is the store's signed head: the checkpoint of its newest
	// signed commit (zero when none). A Generator signing with the same
	// key and origin takes it as its newest checkpoint until it commits
	// (see Generator.Checkpoint), when it is of the tree TreeSize and
	// TreeRange describe.
	Signed Checkpoint
}

// Batch is one group commit: what the Generator's writer hands its Store
// in one Write.
type Batch struct {
	// Records are the sealed events, in Seq order.
	Records []Record
	// Checkpoints are checkpoints to keep as milestones (see
	// WithCheckpointInterval), each of the tree up to one of the records
	// or before them: the store checks each against its tree.
	Checkpoints []Checkpoint
	// Head, with a signing key, is the signed checkpoint of the tree with
	// the records appended, its chain head the last record (zero without
	// a key or without records): the store checks it against its own
	// tree, and keeps the newest as its signed head, so that a store
	// written with a key has no unsigned tail after any commit.
	Head Checkpoint
	// Reserved is the highest Seq the Generator may hand out before its
	// next Write commits: the store keeps it, durably, with the records,
	// so that a run after a crash numbers past every Seq this one may
	// have handed out, and never reuses one. The Generator reserves the
	// last record's Seq plus its capacity (events not yet durable are
	// never evicted, so no more can be outstanding), and, once shut down
	// with everything durable, exactly the last Seq: nothing is lost.
	Reserved uint64
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
	// ErrStoreRefused is wrapped, beside the store's own error, when a
	// Generator cannot continue the trail of its store (see WithStore):
	// New returns it, and a Generator made by NewGenerator refuses every
	// event with it.
	ErrStoreRefused = errors.New("otelaudit: cannot continue the store's trail")
)

// maxWriteBatch bounds the events in one store transaction. The writer
// takes what has arrived since its last commit, up to this, so commits
// group as many events as arrive during one fsync. Under load, a larger
// commit shares its fixed costs (the fsyncs, and the index pages that
// every commit rewrites when traces are scattered) among more events; it
// copies at most this many encodings out of the ring (some 20 MB at
// 300 bytes an event).
const maxWriteBatch = 65536

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
		recs     []Record
		buf      []byte
		reserved uint64
		backoff  time.Duration
		tick     <-chan time.Time
	)
	if g.cfg.signer != nil {
		t := time.NewTicker(g.cfg.cpInterval)
		defer t.Stop()
		tick = t.C
	}
	var ready []*receiptWait
	defer func() {
		w.closeErr = g.cfg.store.Close()
		g.mu.Lock()
		g.writerDone = true
		g.signalDurable()
		left := g.takeWaiting()
		g.mu.Unlock()
		failRequires(left, fmt.Errorf("%w: Shutdown ended before the event was durable; it is not written, and the next run's %s record names its Seq", ErrShutdown, SeqGap))
		close(w.done)
	}()
	for {
		select {
		case <-w.quit:
			return
		default:
		}
		g.gather()
		recs, buf, reserved = g.nextBatch(recs[:0], buf[:0])
		g.mu.Lock()
		release := reserved != g.reserved
		// Checkpoint's requests up to asked: with records, their commit's
		// checkpoint is the milestone; without, the newest commit's is,
		// which a commit of its own keeps (unless it is kept already).
		asked := g.msAsked
		milestone := asked > g.msDone
		keep := g.milestoneToKeep(asked, len(recs) > 0)
		kept := g.signedHead
		// A probe (see Ready) is an attempt even with nothing to write.
		work := len(recs) > 0 || release || g.req.probe || keep
		if work {
			g.req.probe = false
			g.req.attempts++
		}
		attempt := g.req.attempts
		g.mu.Unlock()
		if !work {
			w.idle.Store(true)
			g.mu.Lock()
			pending := g.next > g.durable+1 || g.closed && g.reserved != g.next-1 || g.req.probe || g.msAsked > g.msDone
			g.mu.Unlock()
			if pending {
				w.idle.Store(false)
				continue
			}
			select {
			case <-w.wake:
			case <-tick:
				// The next commit's checkpoint is kept as a milestone.
				if time.Since(g.ctree.milestoneTime) >= g.cfg.cpInterval {
					g.ctree.due = true
				}
			case <-w.quit:
				return
			}
			w.idle.Store(false)
			continue
		}
		b := Batch{Records: recs, Reserved: reserved}
		var tc treeCommit
		if g.cfg.signer != nil && len(recs) > 0 {
			tc = g.signBatch(&b, g.req.queued.Load() > 0, milestone)
		}
		if keep {
			b.Checkpoints = []Checkpoint{kept}
		}
		err := g.cfg.store.Write(b)
		if err != nil {
			g.undo(tc)
		}
		g.mu.Lock()
		if err != nil {
			g.storeErrors++
			g.storeErr = err
			g.req.failedAt = attempt
			// Requires waiting fail now: their events wait behind this
			// commit, and the store said no.
			failed := g.takeWaiting()
			g.signalDurable()
			g.mu.Unlock()
			failRequires(failed, fmt.Errorf("%w: %w", ErrStoreFailed, err))
			backoff = retry.Backoff{Min: 10 * time.Millisecond, Max: time.Second}.Next(backoff)
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
		g.reserved = reserved
		if b.Head.Signature != nil {
			g.signedHead = b.Head
		}
		for _, c := range b.Checkpoints {
			g.keepCheckpoint(c)
		}
		if milestone && (len(recs) > 0 || keep) {
			g.msDone = max(g.msDone, asked)
		}
		g.req.okAt = attempt
		ready = g.takeDurable(ready[:0])
		g.signalDurable()
		g.mu.Unlock()
		if len(ready) > 0 {
			g.issueReceipts(ready, recs, b.Head, tc)
			clear(ready)
		}
	}
}

// milestoneToKeep reports whether the writer must commit the newest
// commit's signed checkpoint as a milestone on its own, for Checkpoint's
// requests up to asked, when it has no records to commit (with records,
// their commit's checkpoint is the milestone: see signBatch). A request
// with no signed checkpoint to keep, or whose checkpoint is kept already,
// is done at once. Lock only; on the writer.
func (g *Generator) milestoneToKeep(asked uint64, records bool) bool {
	if asked <= g.msDone || records {
		return false
	}
	n := len(g.checkpoints)
	if g.signedHead.Signature == nil || n > 0 && g.checkpoints[n-1].Size == g.signedHead.Size {
		g.msDone = asked
		g.signalDurable() // for ForceFlush
		return false
	}
	return true
}

// nextBatch seals and copies out the events not yet durable, up to
// maxWriteBatch, and says what the batch reserves (see Batch.Reserved).
//
// It holds the lock a chunk at a time (sealing and copying 1,024 events),
// letting writers in between. The range stays held meanwhile: events not
// durable are never evicted, and Clear waits for them.
func (g *Generator) nextBatch(recs []Record, buf []byte) ([]Record, []byte, uint64) {
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
	// With at most capacity events held and none not yet durable ever
	// evicted, no Seq past the batch's last plus the capacity can be
	// handed out before the next commit. Once shut down, no Seq is handed
	// out again: a batch that takes every event releases what is left.
	reserved := target - 1 + g.ring.capacity
	if g.closed && target == g.next {
		reserved = target - 1
	}
	g.mu.Unlock()
	// buf may have moved while growing: point the records at where it is.
	off := 0
	for i := range recs {
		n := len(recs[i].Data)
		recs[i].Data = buf[off : off+n : off+n]
		off += n
	}
	return recs, buf, reserved
}

// waitForRoom waits, with g.mu held on entry and exit, while the Generator
// is full (for an event of need bytes, see full) of events its store has
// not made durable yet, up to the store wait, and for a Require (w) no
// longer than its ctx.
func (g *Generator) waitForRoom(need int64, w *receiptWait) error {
	var (
		timer *time.Timer
		stop  <-chan struct{}
	)
	if w != nil {
		stop = w.ctx.Done()
	}
	for g.full(need) && g.first > g.durable {
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
		case <-stop:
			g.mu.Lock()
			return fmt.Errorf("%w: %d events still wait to be durable: %w", ErrStoreBehind, g.next-1-g.durable, w.ctx.Err())
		}
	}
	return nil
}

// ForceFlush returns once every event accepted before the call is durable
// in the Generator's store, with the milestones Checkpoint asked for
// before it, or with an error wrapping ctx's when ctx ends first, saying
// how many are not. Without a store it returns nil at once: held events
// are as final as they get.
func (g *Generator) ForceFlush(ctx context.Context) error {
	if err := g.usable(); err != nil {
		return err
	}
	if g.w == nil {
		return nil
	}
	g.mu.Lock()
	target, ms := g.next-1, g.msAsked
	for !g.flushedTo(target, ms) {
		if g.writerDone {
			err := g.notFlushed(target, ms)
			g.mu.Unlock()
			return fmt.Errorf("%w: %w", ErrShutdown, err)
		}
		ch := g.durableCh
		g.mu.Unlock()
		g.kick()
		select {
		case <-ch:
		case <-ctx.Done():
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.flushedTo(target, ms) {
				return nil
			}
			err := g.notFlushed(target, ms)
			if g.storeErr != nil {
				return fmt.Errorf("%w (store: %v): %w", err, g.storeErr, ctx.Err())
			}
			return fmt.Errorf("%w: %w", err, ctx.Err())
		}
		g.mu.Lock()
	}
	g.mu.Unlock()
	return nil
}

// flushedTo reports whether every event up to target is in the store
// (with a key, signed: every commit is), with the milestones asked for up
// to ms, and, once shut down, whether the Seqs reserved past them are
// released. Lock only.
func (g *Generator) flushedTo(target, ms uint64) bool {
	return g.durable >= target && g.msDone >= ms && (!g.closed || g.reserved == g.next-1)
}

// notFlushed says what flushedTo(target, ms) found missing. Lock only.
func (g *Generator) notFlushed(target, ms uint64) error {
	if n := target - min(target, g.durable); n > 0 {
		return fmt.Errorf("otelaudit: %d events not durable yet", n)
	}
	if g.msDone < ms {
		return errors.New("otelaudit: the milestone checkpoint asked for is not in the store")
	}
	return errors.New("otelaudit: the Seqs reserved past the last event are not released")
}

// Shutdown stops the Generator: later Record and Append calls are refused
// with ErrShutdown. With a signing key and no store it signs a last
// checkpoint of the head, so that whatever is cut off the trail after the
// process ends shows (with a store, every commit signs its last event).
// With a store, it then flushes (see ForceFlush), releases the Seqs it
// reserved past the last event (see Batch.Reserved), stops the writer and
// closes the store, within ctx; the error says what could not be done in
// time, and a next run then records the Seqs it may have lost. Held events
// stay queryable. Calls after the first return nil.
func (g *Generator) Shutdown(ctx context.Context) error {
	if g.invalid() {
		return ErrNilGenerator
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	following := g.fol.done
	if g.startErr != nil {
		// The store was never the Generator's: its caller closes it.
		g.mu.Unlock()
		if g.metrics != nil {
			_ = g.metrics.Unregister()
		}
		return g.stopFollower(ctx, following)
	}
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
	// The follower ends within a chunk; queries still catch up on their
	// own (held events stay queryable).
	ferr := g.stopFollower(ctx, following)
	if g.cfg.signer != nil && g.w == nil {
		// With a store every commit signs its last event, the last one
		// included: a checkpoint here would say the same thing twice.
		g.lockSealed()
		if g.sealed-1 > g.cpSeq {
			g.addCheckpoint()
		}
		g.mu.Unlock()
	}
	if g.w == nil {
		return ferr
	}
	err := errors.Join(ferr, g.ForceFlush(ctx))
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
