package otelaudit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A checkpoint is defined here (its text, origin and JSON form); it is
// signed and parsed as a note in note.go, signed by a Generator in
// checkpointing.go and tree.go, and held against a trail only by
// VerifyCheckpoints and VerifySigned (verify.go).

// Checkpoint is a signed statement of the trail: a C2SP checkpoint (a
// signed note, see https://c2sp.org/tlog-checkpoint) whose text is the
// trail's origin, the size of its Merkle tree and the tree's root hash:
//
//	otelaudit/0dde34297cbd73ca
//	104
//	mJ4dQXP5Mt2uGJ0F1Ck4F1g5pb8yHCjP1mAJ4vW1PMI=
//
//	— otelaudit/0dde34297cbd73ca Az3grl...
//
// The tree's leaves are the events' Hashes, in the trail's order (see
// LeafHash), so the note vouches for every event in it: a verifier holding
// the public key alone detects a trail whose tail was cut or rewritten
// after the checkpoint, proves that an event is in it (an inclusion
// proof), and that a later checkpoint extends it (a consistency proof).
// Witnesses and tools that read C2SP checkpoints read it as it is (see
// Note).
//
// Seq and Hash name the tree's last leaf, the chain head, and Time says
// when the checkpoint was made. They are not in the note and not signed:
// the tree binds them (the last leaf of a tree of Size leaves is the event
// Seq, of Hash), and a verifier that holds the trail checks them against it.
type Checkpoint struct {
	// Origin names the trail (the first line of the note, and the name
	// of the key in its signature line): see WithOrigin, DefaultOrigin.
	Origin string
	// Size is how many leaves (events) the tree has; Root its RFC 6962
	// root hash.
	Size uint64
	Root Hash
	// Seq and Hash are the chain head: the event that is the tree's last
	// leaf. Not signed.
	Seq  uint64
	Hash Hash
	// Time is when the checkpoint was made. Not signed.
	Time time.Time
	// Signature is the note's signature as its signature line carries it:
	// the key hash (4 bytes) and the ed25519 signature of Text (64); nil
	// when unsigned.
	Signature []byte
}

// DefaultOrigin is the origin of a trail whose Generator was given none
// (see WithOrigin): "otelaudit/" and the first 8 bytes, in hex, of the
// SHA-256 of pub. It names the key, so every trail of one key shares it:
// give each trail its own with WithOrigin.
func DefaultOrigin(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "otelaudit/" + hex.EncodeToString(sum[:8])
}

// MaxOrigin is the longest origin, in bytes: a store keeps a checkpoint's
// origin after a length byte.
const MaxOrigin = 255

// CheckOrigin returns nil for an origin a checkpoint can carry (the note's
// first line, and its key name), else an error wrapping ErrBadOrigin.
func CheckOrigin(origin string) error {
	if origin == "" || len(origin) > MaxOrigin || !utf8.ValidString(origin) || strings.ContainsRune(origin, '+') ||
		strings.IndexFunc(origin, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%w: %q", ErrBadOrigin, origin)
	}
	return nil
}

// Text returns the note text the signature covers: the origin, the tree
// size in decimal and the root hash in base64, one per line.
func (c Checkpoint) Text() string {
	return c.Origin + "\n" + strconv.FormatUint(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
}

// SignedBytes returns what the signature covers: Text.
func (c Checkpoint) SignedBytes() []byte { return []byte(c.Text()) }

// checkpointJSON is the JSON form of a Checkpoint: the note, which alone
// is signed, and beside it the chain head and the time; size, root and
// origin repeat the note for people and jq.
type checkpointJSON struct {
	Seq    uint64    `json:"seq"`
	Hash   Hash      `json:"hash"`
	Time   time.Time `json:"time"`
	Origin string    `json:"origin,omitempty"`
	Size   uint64    `json:"size"`
	Root   Hash      `json:"root"`
	Note   string    `json:"note,omitempty"`
}

// MarshalJSON writes c with its signed note (see Note).
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointJSON{Seq: c.Seq, Hash: c.Hash, Time: c.Time, Origin: c.Origin, Size: c.Size, Root: c.Root, Note: string(c.Note())})
}

// UnmarshalJSON reads what MarshalJSON writes, and refuses any other
// field. The note, when there is one, is what counts: origin, size and
// root must agree with it.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	// Strict: a field that is not a checkpoint's says it is something
	// else (an event has seq, hash and time too).
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j checkpointJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %w", ErrBadNote, err)
	}
	out := Checkpoint{Origin: j.Origin, Size: j.Size, Root: j.Root, Seq: j.Seq, Hash: j.Hash, Time: j.Time}
	if j.Note != "" {
		n, err := ParseNote([]byte(j.Note))
		if err != nil {
			return err
		}
		if (j.Origin != "" && j.Origin != n.Origin) || j.Size != n.Size || j.Root != n.Root {
			return fmt.Errorf("%w: origin, size or root differ from the note's", ErrBadNote)
		}
		out.Origin, out.Size, out.Root, out.Signature = n.Origin, n.Size, n.Root, n.Signature
	}
	*c = out
	return nil
}
