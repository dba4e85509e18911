package otelaudit

import (
	"fmt"
	"time"

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
	r, err := st.Resume(pub)
	if err != nil {
		return GenesisAnchor, fmt.Errorf("%w: %w", ErrStoreRefused, err)
	}
	if r.Head.Seq > MaxSeq || r.Reserved < r.Head.Seq || r.Reserved >= MaxSeq {
		return GenesisAnchor, fmt.Errorf("%w: the store's head is seq %d and it reserves up to %d: beyond any real trail", ErrStoreRefused, r.Head.Seq, r.Reserved)
	}
	now := time.Now()
	head := r.Head
	var (
		recs []Record
		h    wire.Hasher
	)
	add := func(e Event) {
		data := appendEvent(nil, &e)
		hash := Hash(h.Full(head.Hash, Hash{}, data))
		recs = append(recs, Record{Seq: e.Seq, PrevHash: head.Hash, Hash: hash, Data: data})
		head = Anchor{Seq: e.Seq, Hash: hash}
	}
	if r.Reserved > head.Seq {
		add(newGapEvent(head.Seq+1, r.Reserved, r.LastCommit, now))
	}
	if r.Adopt {
		add(newAdoptionEvent(head, r.SignedSeq, pub, now))
	}
	b := Batch{Records: recs, Reserved: head.Seq + g.ring.capacity}
	if g.cfg.signer != nil && len(recs) > 0 {
		b.Head = Checkpoint{Seq: head.Seq, Hash: head.Hash, Time: now}.Sign(g.cfg.signer)
		g.signedHead = b.Head
	}
	if err := st.Write(b); err != nil {
		return GenesisAnchor, fmt.Errorf("%w: %w", ErrStoreRefused, err)
	}
	g.reserved = b.Reserved
	return head, nil
}
