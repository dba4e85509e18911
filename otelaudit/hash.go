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
//	Hash    = SHA-256( "otelaudit.chain.v1" 0x00 | PrevHash | Content )
//	Content = SHA-256( "otelaudit.event.v1" 0x00 | SourceDigest | encoding )
//
// where PrevHash is the Hash of the event with the previous Seq (GenesisHash
// for Seq 1), SourceDigest is the SHA-256 of the encoding of the event's
// Source (see Source.MarshalBinary; all zeros when the event has none), and
// encoding is the event's MarshalBinary form, which holds every other field,
// Seq included, attributes in their recorded order. The domain prefixes
// keep the two kinds of input, and a checkpoint's signed bytes, from ever
// being taken for one another, and name the version of the rule.
//
// Two steps, because they can run apart: Content, the costly part (every
// byte of the event), needs no other event, so each writer computes it on
// its own goroutine, outside the Generator's lock; only the link, 83 bytes,
// has to be hashed in Seq order.
const (
	eventDomain = "otelaudit.event.v1\x00"
	chainDomain = "otelaudit.chain.v1\x00"
)

// contentPrefix is what precedes an event's encoding in its Content input.
const contentPrefix = len(eventDomain) + sha256.Size

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
	var c contentHasher
	return link(prev, c.sum(src, data))
}

// link returns the Hash of an event of the given Content after prev.
func link(prev, content Hash) Hash {
	var b [len(chainDomain) + 2*sha256.Size]byte
	n := copy(b[:], chainDomain)
	n += copy(b[n:], prev[:])
	copy(b[n:], content[:])
	return sha256.Sum256(b[:])
}

// contentHasher computes Content with one reused SHA-256 state, sparing the
// allocation of a new one per event when verifying many.
type contentHasher struct {
	h hash.Hash
}

func (c *contentHasher) sum(src Hash, data []byte) Hash {
	if c.h == nil {
		c.h = sha256.New()
	} else {
		c.h.Reset()
	}
	var pre [contentPrefix]byte
	n := copy(pre[:], eventDomain)
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
