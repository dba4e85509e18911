package store

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Resuming: the state a Generator continues the stored trail from, checked
// against its signing key.

// Resume implements otelaudit.Store: a Generator calls it once, when it is
// created with the store, and continues the trail from what it returns.
//
// With pub, the public half of the Generator's signing key, the head must
// be covered by a checkpoint pub signed: otherwise the newest events could
// be anyone's, and continuing the chain would sign them. Resume then
// refuses with ErrUnsigned, unless the store was opened WithAdoptHead, when
// it asks the Generator to record the adoption. A store opened
// WithPublicKey takes only a Generator signing with that key.
func (s *Store) Resume(pub ed25519.PublicKey) (r otelaudit.Resumption, err error) {
	if err := s.usable(); err != nil {
		return r, err
	}
	if s.cfg.readOnly {
		return r, fmt.Errorf("%w: %s", ErrReadOnly, s.path)
	}
	switch {
	case s.cfg.pub != nil && pub == nil:
		return r, fmt.Errorf("%w: %s was opened with store.WithPublicKey, and a Generator without the signing key would leave an unsigned tail", ErrUnsigned, s.path)
	case s.cfg.pub != nil && !bytes.Equal(pub, s.cfg.pub):
		return r, fmt.Errorf("%w: the Generator signs with another key than %s was opened with (store.WithPublicKey)", ErrUnsigned, s.path)
	}
	s.mu.Lock()
	if s.attached {
		s.mu.Unlock()
		return r, fmt.Errorf("store: %s already has a Generator", s.path)
	}
	s.attached = true
	r = otelaudit.Resumption{Head: s.head, Reserved: s.reserved, LastCommit: s.lastCommit, TreeSize: s.tree.Size(), Origin: s.signed.Origin, Signed: s.signed}
	for _, h := range s.tree.Hashes() {
		r.TreeRange = append(r.TreeRange, h)
	}
	s.mu.Unlock()
	if r.Origin == "" {
		// A store whose newest commit was unsigned keeps the origin of
		// its checkpoints.
		cps, err := s.Checkpoints()
		if err != nil {
			return r, err
		}
		for i := len(cps) - 1; i >= 0 && r.Origin == ""; i-- {
			r.Origin = cps[i].Origin
		}
	}
	// A store emptied past Seq 0 (by retention or by anyone) needs a
	// checkpoint of its anchor: where the run chains its first event.
	if pub == nil || r.Head.Seq == 0 {
		return r, nil
	}
	// The newest commit's signed head, the one a store written with the
	// key has, settles it without reading every checkpoint.
	if r.Signed.Seq >= r.Head.Seq && r.Signed.VerifySignature(pub) == nil {
		return r, nil
	}
	cps, err := s.Checkpoints()
	if err != nil {
		return r, err
	}
	signed, ok := otelaudit.SignedUpTo(cps, pub)
	if ok && signed >= r.Head.Seq {
		return r, nil
	}
	if !s.cfg.adopt {
		newest := "it signed no checkpoint in it"
		if ok {
			newest = fmt.Sprintf("the newest checkpoint it signed is of seq %d", signed)
		}
		return r, fmt.Errorf("%w: %s: the head, seq %d, is not signed by the Generator's key (%s): events after that were written without it; "+
			"open the store with store.WithAdoptHead() to continue it anyway, which the new run records in the trail", ErrUnsigned, s.path, r.Head.Seq, newest)
	}
	r.Adopt = true
	if ok {
		r.SignedSeq = signed
	}
	return r, nil
}
