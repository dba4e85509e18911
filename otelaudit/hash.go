package otelaudit

import (
	"crypto/sha256"
	"encoding"
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
//	SHA-256( "otelaudit.event.v1" 0x00 | SourceDigest | encoding |
//	         zero bytes up to a multiple of 64 | PrevHash )
//
// where SourceDigest is the SHA-256 of the encoding of the event's Source
// (see Source.MarshalBinary; all zeros when the event has none), encoding
// is the event's MarshalBinary form, which holds every other field, Seq
// included, attributes in their recorded order, and PrevHash is the Hash of
// the event with the previous Seq (GenesisHash for Seq 1). The domain
// prefix keeps an event's input from ever being taken for a checkpoint's
// signed bytes, and names the version of the rule.
//
// The zero bytes put PrevHash alone in the last 64-byte block of SHA-256's
// input: each writer hashes every block before it (the costly part: the
// whole event) on its own goroutine, outside the Generator's lock, and
// keeps SHA-256's intermediate state; sealing, which must go in Seq order,
// then only finishes that state with PrevHash, one block.
const eventDomain = "otelaudit.event.v1\x00"

// contentPrefix is what precedes an event's encoding in its hash input.
const contentPrefix = len(eventDomain) + sha256.Size

// paddedLen is the length of the hash input before PrevHash, for an
// encoding of n bytes.
func paddedLen(n int) int {
	return (contentPrefix + n + sha256.BlockSize - 1) &^ (sha256.BlockSize - 1)
}

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
	return c.full(prev, src, data)
}

// chainHasher computes chain hashes with one reused SHA-256 state, sparing
// an allocation per event. It is not safe for concurrent use.
type chainHasher struct {
	h     hash.Hash
	state [sha256MarshaledSize]byte
	// buf is where a writer encodes its event (see Generator.append).
	buf  []byte
	tail Hash
}

// sha256MarshaledSize is the size of crypto/sha256's marshaled state:
// "sha\x03", the eight 32-bit words of the chaining value, the 64-byte
// block buffer, and the length so far.
const sha256MarshaledSize = 4 + 32 + sha256.BlockSize + 8

var zeroBlock [sha256.BlockSize]byte

func (c *chainHasher) reset() {
	if c.h == nil {
		c.h = sha256.New()
	} else {
		c.h.Reset()
	}
}

// full hashes the whole input in one pass: for verifiers.
func (c *chainHasher) full(prev, src Hash, data []byte) Hash {
	c.reset()
	pre := append(append(c.state[:0], eventDomain...), src[:]...)
	c.h.Write(pre)
	c.h.Write(data)
	c.h.Write(zeroBlock[:paddedLen(len(data))-contentPrefix-len(data)])
	return c.finish(prev)
}

// mid hashes in, which is the event's input up to its encoding
// (contentPrefix bytes, SourceDigest filled in, then the encoding), and the
// zero bytes after it, and returns SHA-256's chaining value at that point:
// all a sealer needs, with PrevHash, to finish the Hash (see link).
func (c *chainHasher) mid(in []byte) Hash {
	c.reset()
	c.h.Write(in)
	c.h.Write(zeroBlock[:paddedLen(len(in)-contentPrefix)-len(in)])
	st, err := c.h.(encoding.BinaryAppender).AppendBinary(c.state[:0])
	if err != nil || len(st) != sha256MarshaledSize {
		panic("otelaudit: crypto/sha256 state is not in the expected form")
	}
	var m Hash
	copy(m[:], st[4:36])
	return m
}

// link finishes the Hash of an event whose encoding is n bytes long and
// whose chaining value before PrevHash is mid (see mid).
func (c *chainHasher) link(prev, mid Hash, n int) Hash {
	c.reset()
	st := c.state[:0]
	st = append(st, "sha\x03"...)
	st = append(st, mid[:]...)
	st = append(st, zeroBlock[:]...)
	st = binary.BigEndian.AppendUint64(st, uint64(paddedLen(n)))
	if err := c.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
		panic("otelaudit: crypto/sha256 refused its own state: " + err.Error())
	}
	return c.finish(prev)
}

// finish writes prev and returns the sum. Both go through fields, not the
// stack: a slice handed to an interface method escapes, and would cost an
// allocation per event.
func (c *chainHasher) finish(prev Hash) Hash {
	c.tail = prev
	c.h.Write(c.tail[:])
	var out Hash
	copy(out[:], c.h.Sum(c.state[:0]))
	return out
}

// seqOf reads the Seq of an encoded event (bytes 1..9 of the header).
func seqOf(data []byte) uint64 {
	return binary.LittleEndian.Uint64(data[1:9])
}
