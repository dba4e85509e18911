package otelaudit

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// Receipt is what Require returns once an event is durable: proof, for the
// caller to keep or forward, that the trail holds the event.
//
// Seq and Hash place the event in the hash chain, and Event is the event as
// recorded. With a signing key (WithSigningKey), Checkpoint is a checkpoint
// signed by the key, made when the commit that made the event durable
// succeeded, of the event itself or of a later event of the same commit,
// and Path links the event's Hash to the checkpoint's: one Link per event
// after Seq, up to Checkpoint.Seq. Verify checks all of it with the public
// key alone, without the store and without the other events, of which a
// Link reveals nothing but the length of their encoding.
//
// A receipt's checkpoint is a checkpoint of the trail like any other: kept
// elsewhere and given to `otelaudit verify --checkpoint`, it makes a trail
// that no longer holds the event, or holds another one at its Seq, fail.
//
// The JSON form (encoding/json) holds Seq, Hash, Checkpoint and Path, not
// Event: a receipt kept as JSON proves that the key's trail holds an event
// of that Hash at that Seq; the event's own PrevHash, Hash and fields, as
// the trail returns them (Record, queries, `otelaudit trace --json`), tie
// its contents to that Hash.
type Receipt struct {
	Seq  uint64 `json:"seq"`
	Hash Hash   `json:"hash"`
	// Event is the event as recorded, as Record returns it: Seq, Time and
	// trace context filled in, PrevHash and Hash set.
	Event Event `json:"-"`
	// Checkpoint is signed by the Generator's key, of Seq or of a later
	// event committed with it; the zero Checkpoint without a key.
	Checkpoint Checkpoint `json:"checkpoint,omitzero"`
	// Path links Hash to Checkpoint.Hash: its Links are those of the
	// events Seq+1 to Checkpoint.Seq, in Seq order; empty when the
	// checkpoint is of the event itself.
	Path []Link `json:"path,omitempty"`
}

// Link is one step of a Receipt's Path. An event's Hash (see ChainHash)
// is SHA-256 over its input, whose last 64-byte block holds only the
// PrevHash; Mid is SHA-256's chaining value over every block before that
// one, and Len the length of the event's encoding, which sets the length
// SHA-256 pads for. With the Hash of the event before it, they give the
// event's Hash (one block of SHA-256), and nothing of the event besides.
type Link struct {
	Mid Hash   `json:"mid"`
	Len uint64 `json:"len"`
}

// maxLinkLen bounds the encoding length a Link may claim: far above any
// event, far below where the padded length of SHA-256's input overflows.
const maxLinkLen = 1 << 40

// ErrBadReceipt is wrapped by every error of Receipt.Verify: the receipt
// does not prove what it says. Beside it, ErrBadSignature when its
// checkpoint is unsigned or not signed by the key given.
var ErrBadReceipt = errors.New("otelaudit: receipt does not verify")

// Verify checks that r proves what it says with pub, the public half of
// the signing key of the Generator that issued it: that pub signed
// r.Checkpoint, that r.Path leads from r.Hash at r.Seq to the checkpoint's
// Hash at its Seq, and, when r.Event is set (Require sets it; the JSON
// form does not carry it), that the event hashes to r.Hash at r.Seq. The
// error wraps ErrBadReceipt. A receipt issued without a signing key has
// no checkpoint, and does not verify.
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
	if r.Checkpoint.Seq < r.Seq || r.Checkpoint.Seq-r.Seq != uint64(len(r.Path)) {
		return fmt.Errorf("%w: seq %d: a path of %d links does not lead to the checkpoint of seq %d", ErrBadReceipt, r.Seq, len(r.Path), r.Checkpoint.Seq)
	}
	var w wire.Hasher
	h := r.Hash
	for i, l := range r.Path {
		if l.Len > maxLinkLen {
			return fmt.Errorf("%w: seq %d: link %d claims an encoding of %d bytes", ErrBadReceipt, r.Seq, i, l.Len)
		}
		h = Hash(w.Link(h, l.Mid, int(l.Len)))
	}
	if h != r.Checkpoint.Hash {
		return fmt.Errorf("%w: seq %d: its path leads to a Hash the checkpoint of seq %d does not have", ErrBadReceipt, r.Seq, r.Checkpoint.Seq)
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
