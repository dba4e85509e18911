package otelaudit

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// ReceiptError is the error of a Require that gave no receipt. It wraps
// ErrNoReceipt and Err, and says exactly what became of the event:
//
//   - Seq == 0: the event was not recorded at all, and is counted in
//     Stats.Rejected. So it is for an invalid event, a Generator without
//     a store, shut down, or whose store was refused, a store whose last
//     commit failed, a ctx already done, and a Generator full of events
//     waiting for the store (ErrStoreBehind, ErrFull).
//   - Seq != 0: the event was recorded with that Seq, and is held and
//     counted in Stats.Recorded like any other, but it is not known to be
//     durable: ctx ended before its commit, or its commit failed
//     (ErrStoreFailed). The writer still commits it, in order, once the
//     store takes it (Stats.Durable reaching Seq says so); if the process
//     ends first, the next run's SeqGap record names its Seq. After a
//     Shutdown that ended before it was durable (ErrShutdown), it is not
//     written, and the next run's SeqGap record names its Seq.
type ReceiptError struct {
	// Seq is the event's Seq if it was recorded, 0 if it was not.
	Seq uint64
	// Err is why there is no receipt.
	Err error
}

func (e *ReceiptError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("otelaudit: no receipt, event not recorded: %v", e.Err)
	}
	return fmt.Sprintf("otelaudit: no receipt for seq %d, recorded but not known to be durable: %v", e.Seq, e.Err)
}

// Unwrap makes errors.Is(err, ErrNoReceipt) hold, and errors.Is for the
// reason.
func (e *ReceiptError) Unwrap() []error { return []error{ErrNoReceipt, e.Err} }

// Recorded reports whether the event was recorded (and is held, counted,
// and committed once the store takes it), as opposed to refused.
func (e *ReceiptError) Recorded() bool { return e.Seq != 0 }

// receiptWait is a Require waiting for its event's commit. The writer
// fills it in and closes done; Require reads it after done is closed.
type receiptWait struct {
	ctx  context.Context // Require's; bounds its wait for room too
	seq  uint64          // set under g.mu when the event is numbered
	gone atomic.Bool     // Require stopped waiting: no proof is needed
	done chan struct{}

	prev, hash Hash
	cp         Checkpoint
	index      uint64
	proof      []Hash
	err        error
}

// requireState is the Generator's part for Require and Ready, under g.mu.
type requireState struct {
	// waiting are the Requires whose events are not durable yet, in Seq
	// order.
	waiting []*receiptWait
	// Commit attempts by the writer, numbered from 1: the newest
	// started, succeeded and failed. probe asks the writer for an
	// attempt even with nothing to write (see Ready).
	attempts, okAt, failedAt uint64
	probe                    bool

	// active counts Require calls under way; queued those of them whose
	// events are recorded and wait for a commit (len(waiting)). The
	// writer compares them to gather a commit (see gather).
	active, queued atomic.Int64

	// Set once, before the Generator is shared (see metrics.go).
	duration metric.Float64Histogram
	failures metric.Int64Counter
}

// Require records e as Record does, then waits until it is durable:
// committed to the store with fsync and, with a signing key, covered by a
// checkpoint the key signed. It returns a Receipt that proves it (see
// Receipt.Verify), or an error wrapping ErrNoReceipt that says why not and
// what became of the event (see ReceiptError): then the action the event
// announces must not go ahead.
//
// Require an intent before a high-risk action (charging a card, deleting
// a repository): an event of what is about to happen; act only with its
// receipt, and Record the outcome after it: the trail then shows the intent for every action done,
// and an intent without an outcome for an action interrupted. Since a
// commit is atomic and takes events in Seq order, a receipt also proves
// every event recorded before it durable: the node_start the span
// processor recorded when the tool's span began, for one.
//
// Concurrent Requires share commits and their signature: each waits for
// the commit that takes its event, which the writer starts as soon as it
// is idle, waiting for nothing but the Requires already under way (for at
// most maxGather, 500 µs; a lone Require not at all). Without a store Require
// refuses at once (ErrNoStore). It waits at most until ctx ends; when the
// store fails it returns as soon as a commit fails (ErrStoreFailed), and
// refuses new events at once until a commit succeeds again. See Ready for
// a health check, and the README for the modes a runtime can choose.
func (g *Generator) Require(ctx context.Context, e Event) (Receipt, error) {
	start := time.Now()
	r, err := g.require(ctx, e)
	g.observeRequire(start, err)
	return r, err
}

func (g *Generator) require(ctx context.Context, e Event) (Receipt, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !g.invalid() {
		g.req.active.Add(1)
		defer g.req.active.Add(-1)
	}
	if err := g.usable(); err != nil {
		if g != nil && g.startErr != nil {
			g.counts.rejected.Add(1)
		}
		return Receipt{}, &ReceiptError{Err: err}
	}
	if g.dur.w == nil {
		g.counts.rejected.Add(1)
		return Receipt{}, &ReceiptError{Err: fmt.Errorf("%w: nothing is durable without one (see WithStore)", ErrNoStore)}
	}
	if err := ctx.Err(); err != nil {
		g.counts.rejected.Add(1)
		return Receipt{}, &ReceiptError{Err: err}
	}
	w := &receiptWait{ctx: ctx, done: make(chan struct{})}
	if err := g.append(ctx, &e, true, w); err != nil {
		return Receipt{}, &ReceiptError{Err: err}
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		w.gone.Store(true)
		select {
		case <-w.done:
			// Committed meanwhile: a receipt beats an error.
		default:
			return Receipt{}, &ReceiptError{Seq: e.Seq, Err: fmt.Errorf("its commit did not end within the context: %w", ctx.Err())}
		}
	}
	if w.err != nil {
		return Receipt{}, &ReceiptError{Seq: e.Seq, Err: w.err}
	}
	// As Record returns it: Time as queries return it, sealed.
	e.Time = time.Unix(e.Time.Unix(), int64(e.Time.Nanosecond()))
	e.PrevHash, e.Hash = w.prev, w.hash
	return Receipt{Seq: e.Seq, Hash: w.hash, Event: e.clone(), Checkpoint: w.cp, Index: w.index, Proof: w.proof}, nil
}

// refuseRequire says why a Require cannot be taken now, with g.mu held:
// its event would wait for a writer that is gone or a store that fails.
func (g *Generator) refuseRequire() error {
	switch {
	case g.dur.writerDone:
		return ErrShutdown
	case g.dur.err != nil:
		return fmt.Errorf("%w: the last commit failed, and the writer is retrying it: %w", ErrStoreFailed, g.dur.err)
	}
	return nil
}

// takeDurable removes from the waiting Requires those whose events are
// durable now, and returns them (in dst). Lock only.
func (g *Generator) takeDurable(dst []*receiptWait) []*receiptWait {
	q := g.req.waiting
	n := 0
	for n < len(q) && q[n].seq <= g.dur.seq {
		n++
	}
	if n == 0 {
		return dst
	}
	dst = append(dst, q[:n]...)
	rest := copy(q, q[n:])
	clear(q[rest:])
	g.req.waiting = q[:rest]
	g.req.queued.Add(int64(-n))
	return dst
}

// takeWaiting removes every waiting Require and returns them. Lock only.
func (g *Generator) takeWaiting() []*receiptWait {
	q := g.req.waiting
	g.req.waiting = nil
	g.req.queued.Add(int64(-len(q)))
	return q
}

// maxGather bounds how long the writer waits for Requires under way to
// record their events before it starts a commit (see gather): a fraction
// of a commit, whose fsyncs take about a millisecond here.
const maxGather = 500 * time.Microsecond

// gather lets the Requires under way record their events before the
// writer takes its next batch, for up to maxGather, so that they share
// this commit rather than wait for the next one.
//
// Without it, concurrent callers fall into step with the writer: a
// commit releases them all, the writer starts the next one before they
// have recorded again, with one event in it, and the others wait for the
// one after: commits alternate between one event and all the others,
// and every caller waits for two. A lone Require is never held: it is
// recorded, and counted, before it wakes the writer. Nor are Record calls:
// only Require calls count.
func (g *Generator) gather() {
	if g.req.active.Load() <= g.req.queued.Load() {
		return
	}
	deadline := time.Now().Add(maxGather)
	for g.req.active.Load() > g.req.queued.Load() && time.Now().Before(deadline) {
		runtime.Gosched()
	}
}

// failRequires ends each Require in ws with err.
func failRequires(ws []*receiptWait, err error) {
	for _, w := range ws {
		w.err = err
		close(w.done)
	}
}

// issueReceipts completes the Requires in ws, whose events the commit of
// recs made durable, head being the commit's signed checkpoint (zero
// without a key) and tc what signing it kept for their proofs, and
// releases them. It runs on the writer, outside the lock, before recs are
// reused.
func (g *Generator) issueReceipts(ws []*receiptWait, recs []SealedEvent, head Checkpoint, tc treeCommit) {
	first := recs[0].Seq
	for _, w := range ws {
		i := w.seq - first
		r := &recs[i]
		w.prev, w.hash = r.PrevHash, r.Hash
		if head.Signature == nil || tc.nodes == nil || w.gone.Load() {
			continue
		}
		// Every record is one leaf, in order: the commit's i-th record is
		// leaf first+i, whatever its Seq.
		w.index = tc.first + i
		p, err := tc.nodes.Inclusion(w.index, head.Size)
		if err != nil {
			// The nodes are the commit's own: this is a bug, and the
			// receipt would not verify. Say so instead of giving it.
			w.err = fmt.Errorf("%w: no inclusion proof for seq %d: %w", ErrStoreFailed, w.seq, err)
			continue
		}
		w.cp = head
		w.proof = make([]Hash, len(p))
		for k := range p {
			w.proof[k] = p[k]
		}
	}
	for _, w := range ws {
		close(w.done)
	}
}
