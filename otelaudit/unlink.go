package otelaudit

// Eviction takes the oldest event out of the indexes, but not at once: the
// writer that evicts it only queues it, and the follower or the next query
// unlinks it (see follow.go, Generator.lockCurrent). Unlinking reads the
// event's keys from its encoding, whose cache lines went cold long ago:
// done by the evicting writer it would lengthen every critical section of
// a full Generator, the span processor's steady state.
//
// An evicted event stays in its chains until it is unlinked, so that
// nothing walks the chains meanwhile but what unlinks first, and nothing
// links a new event before every queued one is unlinked:
//   - its links stay valid: its slot is reused by an event of Seq
//     capacity later, whose writer fills in only where its encoding lives,
//     and which is linked only after the queue is empty;
//   - its encoding stays in the arena: chunks are released only up to the
//     oldest queued event (see dropOldest, unlinkPending);
//   - being older than every held event, and unlinked in Seq order, each
//     is the head of its chains when its turn comes (see unlinkOldest).
//
// Queries unlink everything queued before they read (lockCurrent, and
// walker.resume after letting writers in). The queue is bounded: an
// eviction that finds it full unlinks the oldest queued event itself, so
// that a Generator whose follower is off pays one unlink per eviction at
// most, and the queue never grows past its bound.

// maxPendingUnlinks bounds the evicted events waiting to be unlinked
// (24 bytes each): tens of milliseconds of events at full speed, what a
// follower that waits for a core on a busy machine may leave. The queue
// starts at minPendingUnlinks and grows as needed.
const (
	maxPendingUnlinks = 1 << 15
	minPendingUnlinks = 256
)

// pendingUnlink is an evicted event still in its chains: its Seq (its
// slot's place in the ring) and where its encoding lives.
type pendingUnlink struct {
	seq uint64
	at  loc
}

// unlinkQueue is a FIFO ring of pendingUnlink, allocated on first use and
// grown by doubling; its length is a power of two.
type unlinkQueue struct {
	buf     []pendingUnlink
	head, n int
}

// full reports whether the queue holds maxPendingUnlinks events.
func (q *unlinkQueue) full() bool { return q.n == maxPendingUnlinks }

func (q *unlinkQueue) push(seq uint64, at loc) {
	if q.n == len(q.buf) {
		buf := make([]pendingUnlink, max(minPendingUnlinks, 2*len(q.buf)))
		for i := range q.n {
			buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = pendingUnlink{seq, at}
	q.n++
}

func (q *unlinkQueue) pop() pendingUnlink {
	p := q.buf[q.head]
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return p
}

// oldest returns the Seq of the oldest queued event; the queue is not
// empty.
func (q *unlinkQueue) oldest() uint64 { return q.buf[q.head].seq }

func (q *unlinkQueue) reset() { q.head, q.n = 0, 0 }

// unlinkPending unlinks the k oldest queued events, and releases the arena
// chunks no held or queued event needs any more. Lock only.
func (g *Generator) unlinkPending(k int) {
	if k <= 0 {
		return
	}
	for range k {
		p := g.idx.unlinks.pop()
		g.unlinkOldest(g.held.ring.at(p.seq), g.held.arena.read(p.at))
	}
	g.releaseArena()
}

// releaseArena releases the arena chunks of events evicted and unlinked.
// Lock only.
func (g *Generator) releaseArena() {
	if g.idx.unlinks.n > 0 {
		g.held.arena.release(g.idx.unlinks.oldest() - 1)
	} else {
		g.held.arena.release(g.held.first - 1)
	}
}
