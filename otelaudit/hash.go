package otelaudit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
)

// Hash is a SHA-256 digest: an event's place in the hash chain.
type Hash [sha256.Size]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros, as it is on an event not yet sealed.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText returns the hash in hex, so that hashes read well in JSON.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads a hash written by MarshalText.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash reads a hash in hex, as String writes it.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return Hash{}, fmt.Errorf("%w: hash %q is not %d hex digits", ErrInvalidEvent, s, 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("%w: hash %q: %w", ErrInvalidEvent, s, err)
	}
	return h, nil
}

// The hash chain. Every event's Hash is
//
//	SHA-256( "otelaudit.event.v1" 0x00 | PrevHash | SourceDigest | encoding )
//
// where PrevHash is the Hash of the event with the previous Seq (GenesisHash
// for Seq 1), SourceDigest is the SHA-256 of the encoding of the event's
// Source (see Source.MarshalBinary; all zeros when the event has none), and
// encoding is the event's MarshalBinary form, which holds every other field,
// Seq included, attributes in their recorded order. The domain prefix keeps
// an event hash from ever being taken for a checkpoint's signed bytes or any
// other SHA-256 input of this project, and names the version of the rule.
const eventDomain = "otelaudit.event.v1\x00"

// GenesisHash is the PrevHash of the first event of every trail: the
// SHA-256 of "otelaudit.genesis.v1". A fixed, documented value, so that a
// verifier needs nothing from the writer to start the chain.
var GenesisHash = Hash(sha256.Sum256([]byte("otelaudit.genesis.v1")))

// Anchor is where verification of a trail starts: the Seq and Hash of the
// last event before the first one present. A fresh trail is anchored at
// Seq 0 and GenesisHash; once events are evicted, cleared or removed by
// retention, the anchor moves to the last of them, so that what remains still
// verifies.
type Anchor struct {
	Seq  uint64
	Hash Hash
}

// GenesisAnchor is the anchor of a trail from which nothing was ever dropped.
var GenesisAnchor = Anchor{Seq: 0, Hash: GenesisHash}

// ChainHash returns the Hash of the event whose encoding (MarshalBinary
// form) is data, whose Source has digest src (zero for none), and whose
// predecessor's Hash is prev. It is the one rule every writer and verifier
// of the chain applies.
func ChainHash(prev, src Hash, data []byte) Hash {
	var c chainHasher
	return c.sum(prev, src, data)
}

// chainHasher computes chain hashes with one reused SHA-256 state, sparing
// the allocation of a new one per event when sealing or verifying many.
type chainHasher struct {
	h hash.Hash
}

func (c *chainHasher) sum(prev, src Hash, data []byte) Hash {
	if c.h == nil {
		c.h = sha256.New()
	} else {
		c.h.Reset()
	}
	var pre [len(eventDomain) + 2*sha256.Size]byte
	n := copy(pre[:], eventDomain)
	n += copy(pre[n:], prev[:])
	copy(pre[n:], src[:])
	c.h.Write(pre[:])
	c.h.Write(data)
	var out Hash
	c.h.Sum(out[:0])
	return out
}

// seqOf reads the Seq of an encoded event (bytes 1..9 of the header).
func seqOf(data []byte) uint64 {
	return binary.LittleEndian.Uint64(data[1:9])
}
