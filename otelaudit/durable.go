package otelaudit

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/otelaudit/otelaudit-go/internal/retry"
)

// maxWriteBatch bounds the events in one store transaction. The writer
// takes what has arrived since its last commit, up to this, so commits
// group as many events as arrive during one fsync. Under load, a larger
// commit shares its fixed costs (the fsyncs, and the index pages that
// every commit rewrites when traces are scattered) among more events; it
// copies at most this many encodings out of the ring (some 20 MB at
// 300 bytes an event).
const maxWriteBatch = 65536

// durability is how far the store writer got. Invariants, under the
// Generator's lock but w, set once before the Generator is shared:
//   - with a store (w != nil), seq is the newest durable Seq, and
//     first <= seq+1: only durable events are ever dropped, the held ones
//     past seq are the writer's queue;
//   - next-1 <= seq+capacity <= reserved while the writer runs: reserved is
//     the highest Seq the store holds reserved (see Batch.Reserved);
//   - changed is closed, and replaced, whenever seq moves, a commit fails
//     or the writer stops (writerDone): what waits for the writer waits
//     on it (see signal);
//   - err is the last commit's failure, nil once one succeeds; failures
//     counts them all;
//   - signedHead is the newest signed checkpoint the store holds as its
//     head: every durable event up to its Seq is covered by the key.
type durability struct {
	w          *writer
	seq        uint64
	changed    chan struct{}
	writerDone bool
	err        error
	failures   uint64
	reserved   uint64
	signedHead Checkpoint
}

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
	if w := g.dur.w; w != nil && w.idle.CompareAndSwap(true, false) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// signal wakes everything waiting for the writer: flushes and writers
// waiting for room. Under the Generator's lock.
func (d *durability) signal() {
	close(d.changed)
	d.changed = make(chan struct{})
}

func (g *Generator) startWriter() {
	g.dur.w = &writer{
		wake: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	g.dur.changed = make(chan struct{})
	go g.runWriter()
}

// runWriter moves sealed events to the store, a group commit at a time,
// until Shutdown. A failed Write is retried, with backoff, until it
// succeeds or Shutdown gives up: events are never skipped, since the store
// takes them only in order.
func (g *Generator) runWriter() {
	w := g.dur.w
	var (
		recs     []SealedEvent
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
		g.dur.writerDone = true
		g.dur.signal()
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
		release := reserved != g.dur.reserved
		// Checkpoint's requests up to asked: with records, their commit's
		// checkpoint is the milestone; without, the newest commit's is,
		// which a commit of its own keeps (unless it is kept already).
		asked := g.cps.msAsked
		milestone := asked > g.cps.msDone
		keep := g.milestoneToKeep(asked, len(recs) > 0)
		kept := g.dur.signedHead
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
			pending := g.held.next > g.dur.seq+1 || g.closed && g.dur.reserved != g.held.next-1 || g.req.probe || g.cps.msAsked > g.cps.msDone
			g.mu.Unlock()
			if pending {
				w.idle.Store(false)
				continue
			}
			select {
			case <-w.wake:
			case <-tick:
				// The next commit's checkpoint is kept as a milestone.
				if time.Since(g.cps.ctree.milestoneTime) >= g.cfg.cpInterval {
					g.cps.ctree.due = true
				}
			case <-w.quit:
				return
			}
			w.idle.Store(false)
			continue
		}
		b := Batch{Events: recs, Reserved: reserved}
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
			g.dur.failures++
			g.dur.err = err
			g.req.failedAt = attempt
			// Requires waiting fail now: their events wait behind this
			// commit, and the store said no.
			failed := g.takeWaiting()
			g.dur.signal()
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
		g.dur.err = nil
		if n := len(recs); n > 0 {
			g.dur.seq = recs[n-1].Seq
		}
		g.dur.reserved = reserved
		if b.Head.Signature != nil {
			g.dur.signedHead = b.Head
		}
		for _, c := range b.Checkpoints {
			g.keepCheckpoint(c)
		}
		if milestone && (len(recs) > 0 || keep) {
			g.cps.msDone = max(g.cps.msDone, asked)
		}
		g.req.okAt = attempt
		ready = g.takeDurable(ready[:0])
		g.dur.signal()
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
	if asked <= g.cps.msDone || records {
		return false
	}
	n := len(g.cps.kept)
	if g.dur.signedHead.Signature == nil || n > 0 && g.cps.kept[n-1].Size == g.dur.signedHead.Size {
		g.cps.msDone = asked
		g.dur.signal() // for ForceFlush
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
func (g *Generator) nextBatch(recs []SealedEvent, buf []byte) ([]SealedEvent, []byte, uint64) {
	g.mu.Lock()
	from := g.dur.seq + 1
	target := min(g.held.next, from+maxWriteBatch)
	seq := from
	g.inChunks(func(bool) bool {
		if seq >= target {
			return true
		}
		end := min(target, seq+sealChunk)
		g.sealTo(max(g.seal.sealed, end))
		for ; seq < end; seq++ {
			s := g.slotOf(seq)
			prev, _ := g.hashOf(seq - 1)
			start := len(buf)
			buf = append(buf, g.held.arena.read(s.at)...)
			recs = append(recs, SealedEvent{
				Seq:          seq,
				PrevHash:     prev,
				Hash:         *g.held.ring.hashAt(seq),
				Data:         buf[start:len(buf):len(buf)],
				Source:       g.held.sources.get(s.src),
				SourceDigest: g.held.sources.digest(s.src),
			})
		}
		return seq >= target
	})
	// With at most capacity events held and none not yet durable ever
	// evicted, no Seq past the batch's last plus the capacity can be
	// handed out before the next commit. Once shut down, no Seq is handed
	// out again: a batch that takes every event releases what is left.
	reserved := target - 1 + g.held.ring.capacity
	if g.closed && target == g.held.next {
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
		wait   context.Context // the store wait, and a Require's ctx
		cancel context.CancelFunc
	)
	for g.full(need) && g.held.first > g.dur.seq {
		if g.closed || g.dur.writerDone {
			// No writer will make room: the held events must stay.
			return ErrShutdown
		}
		if g.cfg.storeWait == 0 {
			return fmt.Errorf("%w: %d events wait to be durable", ErrStoreBehind, g.held.next-1-g.dur.seq)
		}
		if wait == nil {
			base := context.Background()
			if w != nil {
				base = w.ctx
			}
			wait, cancel = context.WithTimeout(base, g.cfg.storeWait)
			defer cancel()
		}
		if !g.awaitWriter(wait.Done()) {
			if w != nil && w.ctx.Err() != nil {
				return fmt.Errorf("%w: %d events still wait to be durable: %w", ErrStoreBehind, g.held.next-1-g.dur.seq, w.ctx.Err())
			}
			return fmt.Errorf("%w: %d events still wait to be durable after %s", ErrStoreBehind, g.held.next-1-g.dur.seq, g.cfg.storeWait)
		}
	}
	return nil
}

// awaitWriter lets go of g.mu, wakes the store writer and waits until the
// writer moves (dur.changed closes: the durable Seq or a milestone moved,
// a commit failed, or the writer stopped) or done closes; it takes g.mu
// again before it returns, and reports whether the writer moved. Every
// wait for the writer goes through here, so none can miss the kick that
// a writer with nothing queued needs. Lock held on entry and on return.
func (g *Generator) awaitWriter(done <-chan struct{}) bool {
	ch := g.dur.changed
	g.mu.Unlock()
	g.kick()
	select {
	case <-ch:
		g.mu.Lock()
		return true
	case <-done:
		g.mu.Lock()
		return false
	}
}
