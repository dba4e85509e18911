package otelaudit

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"sort"
	"time"
)

// Checkpoints are built, signed and checked here, and nowhere else: the
// Generator signs them (periodically, on demand, at Shutdown, and with a
// store for every commit: see signCommit), and VerifyCheckpoints and
// VerifySigned are the one place they are held against a trail.

// Checkpoint is a statement of the chain head: the trail had, at Time, the
// event Seq whose Hash is Hash, and therefore every event before it as
// chained. Signed with an ed25519 key (see WithSigningKey), it lets a
// verifier holding only the public key detect a trail whose tail was cut or
// rewritten after the checkpoint was made: the rewritten trail no longer has
// that Hash at that Seq, and a cut one no longer reaches Seq.
type Checkpoint struct {
	Seq  uint64    `json:"seq"`
	Hash Hash      `json:"hash"`
	Time time.Time `json:"time"`
	// Signature is the ed25519 signature of SignedBytes; nil when unsigned.
	Signature []byte `json:"signature,omitempty"`
}

// checkpointDomain separates what a checkpoint key signs from anything else
// the same key might sign.
const checkpointDomain = "otelaudit.checkpoint.v1\x00"

// SignedBytes returns what a checkpoint's signature covers:
//
//	"otelaudit.checkpoint.v1" 0x00 | Seq (8 bytes, big endian) | Hash |
//	Time as Unix nanoseconds (8 bytes, big endian, two's complement)
func (c Checkpoint) SignedBytes() []byte {
	b := make([]byte, 0, len(checkpointDomain)+8+len(c.Hash)+8)
	b = append(b, checkpointDomain...)
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	b = append(b, c.Hash[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(c.Time.UnixNano()))
}

// Sign returns c signed with key.
func (c Checkpoint) Sign(key ed25519.PrivateKey) Checkpoint {
	c.Time = time.Unix(0, c.Time.UnixNano())
	c.Signature = ed25519.Sign(key, c.SignedBytes())
	return c
}

// VerifySignature checks c's signature with pub, refusing an unsigned
// checkpoint, with an error wrapping ErrChainBroken and ErrBadSignature.
func (c Checkpoint) VerifySignature(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("otelaudit: public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	if len(c.Signature) == 0 {
		return &ChainError{Seq: c.Seq, Reason: "checkpoint is not signed", Err: ErrBadSignature}
	}
	if !ed25519.Verify(pub, c.SignedBytes(), c.Signature) {
		return &ChainError{Seq: c.Seq, Reason: "checkpoint signature does not verify with the public key given", Err: ErrBadSignature}
	}
	return nil
}

// maxCheckpoints is how many checkpoints a Generator keeps in memory; the
// store keeps them all.
const maxCheckpoints = 1024

// Checkpoint seals every event recorded so far and returns the chain head
// as a checkpoint, signed when the Generator has a signing key (see
// WithSigningKey): the newest one made, if it is of the head, else a new
// one, which the Generator keeps (see Checkpoints) and hands to its store.
func (g *Generator) Checkpoint() Checkpoint {
	if g.invalid() {
		return Checkpoint{}
	}
	g.lockSealed()
	defer g.mu.Unlock()
	if g.cfg.signer == nil {
		return Checkpoint{Seq: g.sealed - 1, Hash: g.head, Time: time.Now()}
	}
	if c, ok := g.lastCheckpoint(); ok && c.Seq == g.sealed-1 {
		return c
	}
	return g.addCheckpoint()
}

// Checkpoints returns the signed checkpoints made so far, oldest first: the
// newest 1,024 of those signed every WithCheckpointInterval, on demand and at
// Shutdown (the store keeps them all), and, with a store, last, the newest
// commit's when it is newer than them.
func (g *Generator) Checkpoints() []Checkpoint {
	if g.invalid() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Checkpoint, len(g.checkpoints), len(g.checkpoints)+1)
	copy(out, g.checkpoints)
	if n := len(out); g.signedHead.Signature != nil && (n == 0 || out[n-1].Seq < g.signedHead.Seq) {
		out = append(out, g.signedHead)
	}
	for i := range out {
		out[i].Signature = append([]byte(nil), out[i].Signature...)
	}
	return out
}

// lastCheckpoint returns the newest checkpoint made, the newest commit's
// included. Lock only.
func (g *Generator) lastCheckpoint() (Checkpoint, bool) {
	n := len(g.checkpoints)
	switch {
	case n > 0 && g.checkpoints[n-1].Seq >= g.signedHead.Seq:
		return g.checkpoints[n-1], true
	case g.signedHead.Signature != nil:
		return g.signedHead, true
	}
	return Checkpoint{}, false
}

// maybeCheckpoint signs a checkpoint of the head when the configured number
// of events, or the configured time, has passed since the last one. Lock
// only.
func (g *Generator) maybeCheckpoint() {
	head := g.sealed - 1
	if head == g.cpSeq || head == 0 {
		return
	}
	if head-g.cpSeq >= uint64(g.cfg.cpEvents) || time.Since(g.cpTime) >= g.cfg.cpInterval {
		g.addCheckpoint()
	}
}

// addCheckpoint signs the head, keeps it and queues it for the store. Lock
// only; the head must be sealed.
func (g *Generator) addCheckpoint() Checkpoint {
	c := Checkpoint{Seq: g.sealed - 1, Hash: g.head, Time: time.Now()}.Sign(g.cfg.signer)
	g.cpTime, g.cpSeq = c.Time, c.Seq
	if len(g.checkpoints) == maxCheckpoints {
		g.checkpoints = append(g.checkpoints[:0], g.checkpoints[1:]...)
	}
	g.checkpoints = append(g.checkpoints, c)
	if g.cfg.store != nil {
		g.cpPending = append(g.cpPending, c)
	}
	return c
}

// signCommit returns the checkpoint a store commit ending with last
// carries: one already made of last, or a new one, signed outside the
// Generator's lock, by the writer. With it, a store written with a key
// never has an unsigned tail, whatever the checkpoint interval.
func (g *Generator) signCommit(last Record, cps []Checkpoint) Checkpoint {
	if n := len(cps); n > 0 && cps[n-1].Seq == last.Seq {
		return cps[n-1]
	}
	return Checkpoint{Seq: last.Seq, Hash: last.Hash, Time: time.Now()}.Sign(g.cfg.signer)
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
