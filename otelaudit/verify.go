package otelaudit

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/internal/tlog"
	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// ChainError is a verification failure at one event.
type ChainError struct {
	// Seq is the first event that fails: the altered event, the first one
	// missing, the first one out of place, or the first one a checkpoint
	// vouches for that the trail no longer has.
	Seq uint64
	// Reason says what is wrong with it.
	Reason string
	// Err, when set, says what kind of failure it is beyond a broken
	// chain: ErrBadSignature, ErrUnsigned.
	Err error
}

func (e *ChainError) Error() string {
	if errors.Is(e.Err, ErrUnsigned) {
		return fmt.Sprintf("otelaudit: not signed from seq %d on: %s", e.Seq, e.Reason)
	}
	return fmt.Sprintf("otelaudit: hash chain broken at seq %d: %s", e.Seq, e.Reason)
}

// Unwrap makes errors.Is(err, ErrChainBroken) hold, and errors.Is(err,
// e.Err): ErrBadSignature or ErrUnsigned.
func (e *ChainError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrChainBroken, e.Err}
	}
	return []error{ErrChainBroken}
}

// Verifier checks a trail event by event, in Seq order, from an Anchor. The
// Generator and the store use it; VerifyChain runs it over a slice.
type Verifier struct {
	head  Anchor
	n     uint64
	h     wire.Hasher
	srcs  map[*Source]Hash
	block []attribute.KeyValue // reused by every decode
	gaps  []Gap
	adopt []Adoption
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

// Gaps returns the SeqGap records verified so far: the Seqs lost to
// crashes, each accounted for by a record in the chain.
func (v *Verifier) Gaps() []Gap { return v.gaps }

// Adoptions returns the HeadAdopted records verified so far.
func (v *Verifier) Adoptions() []Adoption { return v.adopt }

// Next checks the next event, given as its encoding (MarshalBinary form)
// data, the digest src of its Source, and the PrevHash and Hash it carries.
// The encoding must be the canonical one of an event (it is decoded, and
// the decoder accepts one encoding per event); its Seq must follow the one
// before, or jump exactly over the Seqs a SeqGap record says were lost; its
// Hash must follow from its contents and PrevHash. After a failure the
// Verifier is unchanged.
func (v *Verifier) Next(prev, hash, src Hash, data []byte) error {
	want := v.head.Seq + 1
	var e Event
	// The decoded event only lives for this call: its strings may point
	// into data, and its attributes into the reused block.
	v.block = v.block[:0]
	if err := decodeEvent(&e, unsafe.String(unsafe.SliceData(data), len(data)), &v.block); err != nil {
		return &ChainError{Seq: want, Reason: fmt.Sprintf("event does not decode (%v)", err)}
	}
	if n := len(e.Attributes); n > cap(v.block) {
		v.block = make([]attribute.KeyValue, 0, 2*n)
	}
	var gap Gap
	switch seq := e.Seq; {
	case seq < want:
		return &ChainError{Seq: seq, Reason: fmt.Sprintf("out of order: found after seq %d", v.head.Seq)}
	case seq > want:
		var ok bool
		if gap, ok = e.Gap(); !ok || gap.First != want {
			return &ChainError{Seq: want, Reason: fmt.Sprintf("missing: the trail goes from seq %d to seq %d", v.head.Seq, seq)}
		}
	case e.Type == SeqGap:
		return &ChainError{Seq: want, Reason: "a record of lost Seqs where none are missing"}
	}
	var adoption Adoption
	if reservedType(e.Type) && e.Type != SeqGap {
		if err := checkOwn(&e); err != nil {
			return &ChainError{Seq: e.Seq, Reason: err.Error()}
		}
		adoption, _ = e.Adoption()
		if adoption.Seq != 0 && adoption.Head != v.head {
			return &ChainError{Seq: e.Seq, Reason: fmt.Sprintf("adopts the head seq %d (%s), but the event before it is seq %d (%s)", adoption.Head.Seq, short(adoption.Head.Hash), v.head.Seq, short(v.head.Hash))}
		}
	}
	if prev != v.head.Hash {
		return &ChainError{Seq: e.Seq, Reason: fmt.Sprintf("PrevHash %s is not the Hash of seq %d (%s)", short(prev), v.head.Seq, short(v.head.Hash))}
	}
	if got := Hash(v.h.Full(prev, src, data)); got != hash {
		return &ChainError{Seq: e.Seq, Reason: fmt.Sprintf("contents do not match its Hash (recorded %s, computed %s)", short(hash), short(got))}
	}
	switch {
	case gap.Seq != 0:
		v.gaps = append(v.gaps, gap)
	case adoption.Seq != 0:
		v.adopt = append(v.adopt, adoption)
	}
	v.head = Anchor{Seq: e.Seq, Hash: hash}
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
	return v.Next(e.PrevHash, e.Hash, src, data)
}

func short(h Hash) string { return h.String()[:12] }

// VerifyChain checks events, a trail in Seq order as queries return it,
// from anchor: every event's Hash must follow from its fields and its
// predecessor's Hash, with no Seq missing, repeated or out of place. Then
// each checkpoint must agree with the trail (see VerifyCheckpoints), and,
// when anchor is the genesis, its root must be that of the Merkle tree of
// the first Size events; pub, when not nil, must have signed them all. It does not require that pub
// signed the newest event: VerifySigned does, and Store.Verify with a key. The error, wrapping
// ErrChainBroken, is a *ChainError naming the first failing Seq.
func VerifyChain(anchor Anchor, events []Event, cps []Checkpoint, pub ed25519.PublicKey) error {
	v := NewVerifier(anchor)
	want := make(map[uint64]Hash, len(cps))
	for _, c := range cps {
		want[c.Seq] = Hash{}
	}
	// From the genesis the events are the tree's first leaves: each
	// checkpoint's root is checked too.
	var tree *tlog.Tree
	roots := map[uint64]Hash{}
	if anchor == GenesisAnchor {
		tree, _ = tlog.NewTree(0, nil)
		for _, c := range cps {
			roots[c.Size] = Hash{}
		}
		roots[0] = Hash(tlog.EmptyRoot)
	}
	for i := range events {
		if err := v.Event(&events[i]); err != nil {
			return err
		}
		if _, ok := want[events[i].Seq]; ok {
			want[events[i].Seq] = events[i].Hash
		}
		if tree != nil {
			tree.Append(events[i].Hash, nil)
			if _, ok := roots[tree.Size()]; ok {
				roots[tree.Size()] = tree.Root()
			}
		}
	}
	err := VerifyCheckpoints(cps, pub, anchor, v.Head(), func(seq uint64) (Hash, bool) {
		h, ok := want[seq]
		return h, ok
	})
	if err != nil || tree == nil {
		return err
	}
	for _, c := range cps {
		if c.Size == 0 && c.Seq == 0 {
			continue
		}
		if c.Size > tree.Size() {
			return &ChainError{Seq: c.Seq, Reason: fmt.Sprintf("missing: the trail has %d events, and the checkpoint's tree %d", tree.Size(), c.Size)}
		}
		if roots[c.Size] != c.Root {
			return &ChainError{Seq: c.Seq, Reason: fmt.Sprintf("the Merkle tree of the first %d events is not the checkpoint's: the trail was rewritten", c.Size)}
		}
	}
	return nil
}

// Verify seals every event recorded so far and checks the held trail: each
// event's encoding and Source must give its Hash, chained from the anchor
// with no gap, and every kept checkpoint must agree with the trail and carry
// a valid signature by the Generator's key. A failure is a *ChainError
// wrapping ErrChainBroken, naming the first failing Seq.
//
// Held events live in the Generator's own memory, so a failure here means
// memory corruption; Verify over a store (see package store) is where
// tampering shows.
func (g *Generator) Verify() error {
	if g.invalid() {
		return ErrNilGenerator
	}
	// Verification reads the bytes as held, under the lock, a chunk at a
	// time: writers get in between chunks, and the Verifier carries on
	// from where it was (eviction in between moves the anchor past events
	// already verified, never past unverified ones, since those are held).
	var (
		v   *Verifier
		err error
	)
	target := g.Head().Seq + 1
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inChunks(func(bool) bool {
		g.sealUpTo(g.held.next)
		if v == nil || v.Head().Seq < g.seal.anchor.Seq {
			v = NewVerifier(g.seal.anchor)
		}
		end := min(target, v.Head().Seq+1+sealChunk)
		for seq := v.Head().Seq + 1; seq < end; seq++ {
			s := g.slotOf(seq)
			prev, _ := g.hashOf(seq - 1)
			if err = v.Next(prev, *g.held.ring.hashAt(seq), g.held.sources.digest(s.src), g.held.arena.read(s.at)); err != nil {
				return true
			}
		}
		return end >= target
	})
	if err != nil {
		return err
	}
	pub := g.cfg.public()
	// Checkpoints may be newer than target, made while this ran: they are
	// checked against the sealed head, which holds their Seq.
	return VerifyCheckpoints(g.cps.kept, pub, g.seal.anchor, Anchor{Seq: g.seal.sealed - 1, Hash: g.seal.head}, g.hashOf)
}

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

// SignedUpTo returns the newest Seq that pub signed a checkpoint of, among
// cps, counting only valid signatures; false when pub signed none.
func SignedUpTo(cps []Checkpoint, pub ed25519.PublicKey) (uint64, bool) {
	var top uint64
	found := false
	for _, c := range cps {
		if (!found || c.Seq > top) && c.VerifySignature(pub) == nil {
			top, found = c.Seq, true
		}
	}
	return top, found
}

// VerifySigned checks that pub signed a checkpoint of the head of a trail
// that verified from anchor to head, cps included (see VerifyCheckpoints):
// events after the newest checkpoint pub signed (see SignedUpTo) could have
// been written by anyone able to write the trail. The error wraps
// ErrChainBroken and ErrUnsigned and names the first such event, which
// nextAfter gives: the Seq of the first event of the trail after a Seq
// (more than one after it past a SeqGap record).
//
// A trail that holds no events past Seq 0 has nothing to cover. One that
// holds none past a later anchor (all removed, by retention or by anyone)
// must have a checkpoint of the anchor signed by pub, as a trail written
// with the key keeps (the newest commit's): nothing else vouches for the
// anchor, where the next event would chain, and anyone able to write the
// trail could have set it. The error then names the anchor's Seq.
func VerifySigned(cps []Checkpoint, pub ed25519.PublicKey, anchor, head Anchor, nextAfter func(seq uint64) uint64) error {
	if head.Seq == 0 {
		return nil
	}
	signed, ok := SignedUpTo(cps, pub)
	if ok && signed >= head.Seq {
		return nil
	}
	if head.Seq == anchor.Seq {
		return &ChainError{
			Seq:    anchor.Seq,
			Reason: fmt.Sprintf("the trail holds no events, and the key signed no checkpoint of its anchor, seq %d: anyone able to write the trail could have set it", anchor.Seq),
			Err:    ErrUnsigned,
		}
	}
	from := anchor.Seq
	why := "the key signed no checkpoint of the trail"
	if ok && signed > from {
		from = signed
		why = fmt.Sprintf("the newest checkpoint the key signed is of seq %d", signed)
	}
	first := nextAfter(from)
	return &ChainError{
		Seq:    first,
		Reason: fmt.Sprintf("%s; events %d to %d could have been written by anyone able to write the trail", why, first, head.Seq),
		Err:    ErrUnsigned,
	}
}
