package otelaudit

import (
	"encoding/hex"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// Hash is a SHA-256 digest: an event's place in the hash chain.
type Hash [wire.Size]byte

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

// The hash chain (rule version 2). Every event's Hash is
//
//	SHA-256( "otelaudit.event.v2" 0x00 | SourceDigest |
//	         length of the encoding (8 bytes, big endian) | encoding |
//	         zero bytes up to a multiple of 64 | PrevHash )
//
// where SourceDigest is the SHA-256 of the encoding of the event's Source
// (see Source.MarshalBinary; all zeros when the event has none), encoding
// is the event's MarshalBinary form, which holds every other field, Seq
// included, attributes in their recorded order, and PrevHash is the Hash of
// the event before it in the trail (GenesisHash for Seq 1). The length
// binds where the encoding ends, so that no bytes can be added to it
// without changing the Hash. The zero bytes put PrevHash alone in the last
// 64-byte block of SHA-256's input: each writer hashes every block before
// it (the costly part: the whole event) on its own goroutine, outside the
// Generator's lock, and sealing, which must go in Seq order, only finishes
// that state with PrevHash, one block. Package internal/wire owns the rule.

// GenesisHash is the PrevHash of the first event of every trail: the
// SHA-256 of "otelaudit.genesis.v1". A fixed, documented value, so that a
// verifier needs nothing from the writer to start the chain.
var GenesisHash = Hash(wire.Genesis)

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
	var c wire.Hasher
	return c.Full(prev, src, data)
}

// chainHasher is a writer's reused SHA-256 state (see wire.Hasher) and the
// buffer it encodes its event into (see Generator.append). It is not safe
// for concurrent use.
type chainHasher struct {
	wire.Hasher
	buf []byte
	// attrs is where the policy builds an event's attributes when it
	// changes them; redacted and cut say what the policy and the size cap
	// did to the event, for Stats.
	attrs         []attribute.KeyValue
	redacted, cut bool
}
