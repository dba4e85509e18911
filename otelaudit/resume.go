package otelaudit

import (
	"fmt"
	"time"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// resume continues the trail of the Generator's store, before any event is
// recorded: it asks the store where the trail ends, and commits, in one
// Write, the run's own first records (a SeqGap record after a crash, a
// HeadAdopted record when told to adopt an unsigned head), a signed
// checkpoint of them, and the reservation of the Seqs the run may hand out
// before its first commit. Only then does numbering start, after all of
// it: a Seq is never handed out unreserved. It returns the new head.
func (g *Generator) resume() (Anchor, error) {
	st, pub := g.cfg.store, g.cfg.public()
	now := time.Now()
	r, err := st.Resume(pub)
	if err != nil {
		return GenesisAnchor, fmt.Errorf("%w: %w", ErrStoreRefused, err)
	}
	if r.Head.Seq > MaxSeq || r.Reserved < r.Head.Seq || r.Reserved >= MaxSeq {
		return GenesisAnchor, fmt.Errorf("%w: the store's head is seq %d and it reserves up to %d: beyond any real trail", ErrStoreRefused, r.Head.Seq, r.Reserved)
	}
	if g.cfg.signer != nil {
		if r.Origin != "" && r.Origin != g.cps.origin {
			return GenesisAnchor, fmt.Errorf("%w: the store's checkpoints name the trail %q, and this Generator signs as %q (give it otelaudit.WithOrigin(%q))", ErrStoreRefused, r.Origin, g.cps.origin, r.Origin)
		}
		hs := make([][tlog.Size]byte, len(r.TreeRange))
		for i, h := range r.TreeRange {
			hs[i] = h
		}
		t, err := tlog.NewTree(r.TreeSize, hs)
		if err != nil {
			return GenesisAnchor, fmt.Errorf("%w: the store's tree: %w", ErrStoreRefused, err)
		}
		g.cps.ctree = commitTree{tree: t, milestoneSeq: r.Head.Seq, milestoneTime: now}
	}
	head := r.Head
	var (
		recs []SealedEvent
		h    wire.Hasher
	)
	add := func(e Event) {
		data := appendEvent(nil, &e)
		hash := Hash(h.Full(head.Hash, Hash{}, data))
		recs = append(recs, SealedEvent{Seq: e.Seq, PrevHash: head.Hash, Hash: hash, Data: data})
		head = Anchor{Seq: e.Seq, Hash: hash}
	}
	if r.Reserved > head.Seq {
		add(newGapEvent(head.Seq+1, r.Reserved, r.LastCommit, now))
	}
	if r.Adopt {
		add(newAdoptionEvent(head, r.SignedSeq, pub, now))
	}
	b := Batch{Events: recs, Reserved: head.Seq + g.held.ring.capacity}
	switch {
	case g.cfg.signer != nil && len(recs) > 0:
		g.signBatch(&b, false, false)
		g.dur.signedHead = b.Head
	case g.cfg.signer != nil && g.isResumedHead(r.Signed, r.Head):
		g.dur.signedHead = r.Signed
	}
	if err := st.Write(b); err != nil {
		return GenesisAnchor, fmt.Errorf("%w: %w", ErrStoreRefused, err)
	}
	for _, c := range b.Checkpoints {
		g.keepCheckpoint(c)
	}
	g.dur.reserved = b.Reserved
	return head, nil
}

// isResumedHead reports whether c, a store's signed head, is a checkpoint
// the Generator's key signed of the tree it resumed, whose last leaf is
// head: then it is the Generator's newest checkpoint until its first
// commit. A store's word alone is not enough: its file could have been
// written by anyone.
func (g *Generator) isResumedHead(c Checkpoint, head Anchor) bool {
	return c.Signature != nil && c.Origin == g.cps.origin && c.Seq == head.Seq && c.Hash == head.Hash &&
		c.Size == g.cps.ctree.tree.Size() && c.Root == Hash(g.cps.ctree.tree.Root()) &&
		c.VerifySignature(g.cfg.public()) == nil
}
