package otelaudit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
)

// ErrChainBroken is wrapped by every verification failure: an event whose
// contents do not match its Hash, a missing, inserted or reordered event, or
// a checkpoint the trail does not honour. Test with errors.Is; errors.As
// with a *ChainError gives the first failing Seq.
var ErrChainBroken = errors.New("otelaudit: hash chain does not verify")

// ErrBadSignature is wrapped, beside ErrChainBroken, when a checkpoint is
// unsigned or its signature does not verify with the public key given: the
// wrong key, or a forged checkpoint, rather than a changed event.
var ErrBadSignature = errors.New("otelaudit: checkpoint signature does not verify")

// ChainError is a verification failure at one event.
type ChainError struct {
	// Seq is the first event that fails: the altered event, the first one
	// missing, the first one out of place, or the first one a checkpoint
	// vouches for that the trail no longer has.
	Seq uint64
	// Reason says what is wrong with it.
	Reason string
	// Err, when set, says what kind of failure it is beyond a broken
	// chain: ErrBadSignature.
	Err error
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("otelaudit: hash chain broken at seq %d: %s", e.Seq, e.Reason)
}

// Unwrap makes errors.Is(err, ErrChainBroken) hold, and errors.Is(err,
// e.Err).
func (e *ChainError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrChainBroken, e.Err}
	}
	return []error{ErrChainBroken}
}

// Verifier checks a trail event by event, in Seq order, from an Anchor. The
// Generator and the store use it; VerifyChain runs it over a slice.
type Verifier struct {
	head Anchor
	n    uint64
	h    chainHasher
	srcs map[*Source]Hash
}

// NewVerifier returns a Verifier whose first event must be anchor.Seq+1
// with PrevHash anchor.Hash.
func NewVerifier(anchor Anchor) *Verifier {
	return &Verifier{head: anchor}
}

// Head returns the last event verified (the anchor before any).
func (v *Verifier) Head() Anchor { return v.head }

// Count returns how many events verified.
func (v *Verifier) Count() uint64 { return v.n }

// Record checks the next event, given as its encoding (MarshalBinary form)
// data, the digest src of its Source, and the PrevHash and Hash it carries.
// After a failure the Verifier is unchanged.
func (v *Verifier) Record(prev, hash, src Hash, data []byte) error {
	want := v.head.Seq + 1
	if len(data) < headerSize || data[0] != EncodingVersion {
		return &ChainError{Seq: want, Reason: "event does not decode (malformed encoding)"}
	}
	switch seq := seqOf(data); {
	case seq < want:
		return &ChainError{Seq: seq, Reason: fmt.Sprintf("out of order: found after seq %d", v.head.Seq)}
	case seq > want:
		return &ChainError{Seq: want, Reason: fmt.Sprintf("missing: the trail goes from seq %d to seq %d", v.head.Seq, seq)}
	}
	if prev != v.head.Hash {
		return &ChainError{Seq: want, Reason: fmt.Sprintf("PrevHash %s is not the Hash of seq %d (%s)", short(prev), v.head.Seq, short(v.head.Hash))}
	}
	if got := v.h.full(prev, src, data); got != hash {
		return &ChainError{Seq: want, Reason: fmt.Sprintf("contents do not match its Hash (recorded %s, computed %s)", short(hash), short(got))}
	}
	v.head = Anchor{Seq: want, Hash: hash}
	v.n++
	return nil
}

// Event checks the next event as returned by a query: its fields, Source
// included, must give its Hash.
func (v *Verifier) Event(e *Event) error {
	data, err := e.MarshalBinary()
	if err != nil {
		return &ChainError{Seq: e.Seq, Reason: err.Error()}
	}
	var src Hash
	if e.Source != nil {
		var ok bool
		if src, ok = v.srcs[e.Source]; !ok {
			src = e.Source.Digest()
			if v.srcs == nil {
				v.srcs = make(map[*Source]Hash)
			}
			v.srcs[e.Source] = src
		}
	}
	return v.Record(e.PrevHash, e.Hash, src, data)
}

func short(h Hash) string { return h.String()[:12] }

// VerifyCheckpoints checks checkpoints against a trail that verified from
// anchor to head, hashAt giving the Hash of any Seq in (anchor.Seq,
// head.Seq]. With pub set, every checkpoint must carry a valid signature by
// its private key. A checkpoint older than the anchor vouches for events
// dropped by retention and is skipped; one past the head means the tail
// was cut.
func VerifyCheckpoints(cps []Checkpoint, pub ed25519.PublicKey, anchor, head Anchor, hashAt func(seq uint64) (Hash, bool)) error {
	cps = append([]Checkpoint(nil), cps...)
	sort.Slice(cps, func(i, j int) bool { return cps[i].Seq < cps[j].Seq })
	for _, c := range cps {
		if pub != nil {
			if err := c.VerifySignature(pub); err != nil {
				return err
			}
		}
		when := c.Time.UTC().Format("2006-01-02T15:04:05Z07:00")
		switch {
		case c.Seq < anchor.Seq:
			continue
		case c.Seq > head.Seq:
			return &ChainError{Seq: head.Seq + 1, Reason: fmt.Sprintf("missing: the trail ends at seq %d, but the checkpoint of %s covers up to seq %d", head.Seq, when, c.Seq)}
		case c.Seq == anchor.Seq:
			if c.Hash != anchor.Hash {
				return &ChainError{Seq: c.Seq, Reason: fmt.Sprintf("the anchor's Hash differs from the checkpoint of %s", when)}
			}
		default:
			h, ok := hashAt(c.Seq)
			if !ok {
				return &ChainError{Seq: c.Seq, Reason: "missing, though the trail reaches past it"}
			}
			if h != c.Hash {
				return &ChainError{Seq: c.Seq, Reason: fmt.Sprintf("Hash differs from the checkpoint of %s: the trail was rewritten", when)}
			}
		}
	}
	return nil
}

// VerifyChain checks events, a trail in Seq order as queries return it,
// from anchor: every event's Hash must follow from its fields and its
// predecessor's Hash, with no Seq missing, repeated or out of place. Then
// each checkpoint must agree with the trail (see VerifyCheckpoints); pub,
// when not nil, must have signed them all. The error, wrapping
// ErrChainBroken, is a *ChainError naming the first failing Seq.
func VerifyChain(anchor Anchor, events []Event, cps []Checkpoint, pub ed25519.PublicKey) error {
	v := NewVerifier(anchor)
	want := make(map[uint64]Hash, len(cps))
	for _, c := range cps {
		want[c.Seq] = Hash{}
	}
	for i := range events {
		if err := v.Event(&events[i]); err != nil {
			return err
		}
		if _, ok := want[events[i].Seq]; ok {
			want[events[i].Seq] = events[i].Hash
		}
	}
	return VerifyCheckpoints(cps, pub, anchor, v.Head(), func(seq uint64) (Hash, bool) {
		h, ok := want[seq]
		return h, ok
	})
}
