package otelaudit

import (
	"crypto/ed25519"
	"fmt"
)

// Receipt is what Require returns once an event is durable: proof, for the
// caller to keep or forward, that the trail holds the event.
//
// Seq and Hash place the event in the hash chain, and Event is the event as
// recorded. With a signing key (WithSigningKey), Checkpoint is the signed
// checkpoint of the commit that made the event durable (a C2SP note of the
// trail's Merkle tree), Index the event's leaf in that tree, and Proof the
// RFC 6962 inclusion proof of the event's Hash at Index: about log2 of the
// trail's size in hashes, which reveal nothing of the other events. Verify
// checks all of it with the public key alone, without the store.
//
// A receipt's checkpoint is a checkpoint of the trail like any other: kept
// elsewhere and given to `otelaudit verify --checkpoint` or `otelaudit
// consistency --from`, it makes a trail that no longer holds the event,
// or holds another one at its place, fail.
//
// The JSON form (encoding/json) holds Seq, Hash, Checkpoint (with its
// signed note), Index and Proof, not Event: a receipt kept as JSON proves
// that the key's trail holds an event of that Hash; the event's own
// PrevHash, Hash and fields, as the trail returns them (Record, queries,
// `otelaudit trace --json`, an evidence bundle), tie its contents to that
// Hash.
type Receipt struct {
	Seq  uint64 `json:"seq"`
	Hash Hash   `json:"hash"`
	// Event is the event as recorded, as Record returns it: Seq, Time and
	// trace context filled in, PrevHash and Hash set.
	Event Event `json:"-"`
	// Checkpoint is signed by the Generator's key, of the tree the
	// event's commit left; the zero Checkpoint without a key.
	Checkpoint Checkpoint `json:"checkpoint,omitzero"`
	// Index is the event's leaf index in the tree, and Proof the
	// inclusion proof of its leaf in the tree of Checkpoint.Size leaves.
	Index uint64 `json:"leaf_index"`
	Proof []Hash `json:"inclusion_proof,omitempty"`
}

// Verify checks that r proves what it says with pub, the public half of
// the signing key of the Generator that issued it: that pub signed
// r.Checkpoint's note, that r.Proof proves r.Hash the leaf r.Index of its
// tree, and, when r.Event is set (Require sets it; the JSON form does not
// carry it), that the event hashes to r.Hash and is r.Seq. The error wraps
// ErrBadReceipt. A receipt issued without a signing key has no
// checkpoint, and does not verify.
func (r Receipt) Verify(pub ed25519.PublicKey) error {
	if r.Seq == 0 {
		return fmt.Errorf("%w: no event (seq 0)", ErrBadReceipt)
	}
	if r.Event.Type != "" {
		if err := r.verifyEvent(); err != nil {
			return err
		}
	}
	if len(r.Checkpoint.Signature) == 0 {
		return fmt.Errorf("%w: seq %d: no signed checkpoint (the Generator that issued it had no signing key)", ErrBadReceipt, r.Seq)
	}
	if err := r.Checkpoint.VerifySignature(pub); err != nil {
		return fmt.Errorf("%w: seq %d: %w", ErrBadReceipt, r.Seq, err)
	}
	if err := VerifyInclusion(r.Index, r.Checkpoint.Size, r.Hash, r.Proof, r.Checkpoint.Root); err != nil {
		return fmt.Errorf("%w: seq %d: not in the tree of the checkpoint: %w", ErrBadReceipt, r.Seq, err)
	}
	return nil
}

// verifyEvent checks that r.Event is the event r speaks of.
func (r Receipt) verifyEvent() error {
	e := &r.Event
	if e.Seq != r.Seq || e.Hash != r.Hash {
		return fmt.Errorf("%w: seq %d: the event is seq %d, of Hash %s", ErrBadReceipt, r.Seq, e.Seq, short(e.Hash))
	}
	data, err := e.MarshalBinary()
	if err != nil {
		return fmt.Errorf("%w: seq %d: %w", ErrBadReceipt, r.Seq, err)
	}
	if ChainHash(e.PrevHash, e.Source.Digest(), data) != r.Hash {
		return fmt.Errorf("%w: seq %d: the event does not hash to the receipt's Hash: its fields were changed", ErrBadReceipt, r.Seq)
	}
	return nil
}
