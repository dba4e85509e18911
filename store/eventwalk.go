package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// eventWalk checks stored events one by one in Seq order, as Verify and
// Open's check of the tail both must: the key, the value's layout, the
// number the encoding carries, the chain (an otelaudit.Verifier), the
// event's leaf in the Merkle tree and the tiles that leaf completes, and
// that its Source is stored.
type eventWalk struct {
	v     *otelaudit.Verifier
	tree  *tlog.Tree // grows by a leaf per event
	tiles *tileChecker
	// An event's Source is part of it: its Hash covers the digest,
	// checkSources the stored bytes, and next, that they are stored. A
	// trail has few Sources: those found are remembered, up to a bound.
	srcs  *bolt.Bucket
	found map[otelaudit.Hash]struct{}
}

// newEventWalk starts a walk of the events after from, tree being the
// Merkle tree of the leaves before them.
func newEventWalk(tx *bolt.Tx, from otelaudit.Anchor, tree *tlog.Tree) *eventWalk {
	return &eventWalk{
		v:     otelaudit.NewVerifier(from),
		tree:  tree,
		tiles: &tileChecker{b: tx.Bucket(bucketTiles), rows: map[[2]uint64][]byte{}},
		srcs:  tx.Bucket(bucketSources),
		found: map[otelaudit.Hash]struct{}{},
	}
}

// next checks the event stored under key k with value val, the next in Seq
// order, and returns its Seq and parts.
func (w *eventWalk) next(k, val []byte) (uint64, storedEvent, error) {
	if len(k) != 8 {
		return 0, storedEvent{}, fmt.Errorf("%w: event key of %d bytes", ErrCorrupt, len(k))
	}
	seq := binary.BigEndian.Uint64(k)
	se, err := splitValue(seq, val)
	if err != nil {
		return seq, se, err
	}
	if n, ok := wire.Seq(se.data); ok && n != seq {
		return seq, se, &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("stored under key %d but numbered %d", seq, n)}
	}
	if err := w.v.Next(se.prev, se.hash, se.src, se.data); err != nil {
		return seq, se, err
	}
	if se.leaf != w.tree.Size() {
		return seq, se, &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("stored as leaf %d of the Merkle tree, and it is leaf %d", se.leaf, w.tree.Size())}
	}
	w.tree.Append(se.hash, w.tiles.visit)
	if w.tiles.err != nil {
		return seq, se, &otelaudit.ChainError{Seq: seq, Reason: w.tiles.err.Error()}
	}
	if _, ok := w.found[se.src]; !ok && se.src != (otelaudit.Hash{}) {
		if w.srcs.Get(se.src[:]) == nil {
			return seq, se, &otelaudit.ChainError{Seq: seq, Reason: fmt.Sprintf("its Source (digest %s) is not stored", se.src)}
		}
		if len(w.found) < maxSourcesRemembered {
			w.found[se.src] = struct{}{}
		}
	}
	return seq, se, nil
}

// end checks that the walk ended at head, the store's recorded head.
func (w *eventWalk) end(head otelaudit.Anchor) error {
	got := w.v.Head()
	switch {
	case got == head:
		return nil
	case got.Seq < head.Seq:
		return &otelaudit.ChainError{Seq: got.Seq + 1, Reason: fmt.Sprintf("missing: the trail ends at seq %d, but the store's head is seq %d", got.Seq, head.Seq)}
	}
	return &otelaudit.ChainError{Seq: head.Seq, Reason: "the store's recorded head does not match its newest event"}
}
