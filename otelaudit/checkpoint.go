package otelaudit

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"time"
)

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
