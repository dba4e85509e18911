package wire

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// The hash chain, rule version 2. Every event's Hash is
//
//	SHA-256( "otelaudit.event.v2" 0x00 | SourceDigest (32) |
//	         length of the encoding (8, big endian) | encoding |
//	         zero bytes up to a multiple of 64 | PrevHash (32) )
//
// The domain keeps an event's input from ever being taken for anything
// else the same key or hash vouches for, and names the rule. The length
// binds the encoding's end: without it, an encoding with zero bytes
// appended would pad to the same input and keep its Hash.
//
// The zero bytes put PrevHash alone in SHA-256's last 64-byte block, so
// that the costly part, every block before it, can be hashed before the
// event's place in the chain is known: each writer hashes its own event and
// keeps SHA-256's chaining value (Mid), and sealing, which must go in Seq
// order, only finishes it with PrevHash, one block (Link).
const eventDomain = "otelaudit.event.v2\x00"

// Size is the size of a hash.
const Size = sha256.Size

// PrefixLen is the length of the hash input before the encoding: the
// domain, the SourceDigest and the encoding's length.
const PrefixLen = len(eventDomain) + Size + 8

// Genesis is the PrevHash of the first event of every trail: SHA-256 of
// "otelaudit.genesis.v1".
var Genesis = [Size]byte(sha256.Sum256([]byte("otelaudit.genesis.v1")))

// PutPrefix fills the first PrefixLen bytes of in: the domain, src, and n,
// the length of the encoding that follows.
func PutPrefix(in []byte, src [Size]byte, n int) {
	copy(in, eventDomain)
	copy(in[len(eventDomain):], src[:])
	binary.BigEndian.PutUint64(in[len(eventDomain)+Size:], uint64(n))
}

// PaddedLen is the length of the hash input before PrevHash, for an
// encoding of n bytes.
func PaddedLen(n int) int {
	return (PrefixLen + n + sha256.BlockSize - 1) &^ (sha256.BlockSize - 1)
}

// marshaledSize is the size of crypto/sha256's marshaled state: "sha\x03",
// the eight 32-bit words of the chaining value, the 64-byte block buffer,
// and the length so far.
const marshaledSize = 4 + 32 + sha256.BlockSize + 8

var zeroBlock [sha256.BlockSize]byte

// Hasher computes chain hashes with one reused SHA-256 state, sparing an
// allocation per event. It is not safe for concurrent use.
type Hasher struct {
	h     hash.Hash
	state [marshaledSize]byte
	tail  [Size]byte
}

func (c *Hasher) reset() {
	if c.h == nil {
		c.h = sha256.New()
	} else {
		c.h.Reset()
	}
}

// Full returns the Hash of the event whose encoding is data, whose Source
// has digest src (zero for none) and whose predecessor's Hash is prev: the
// whole input in one pass, for verifiers.
func (c *Hasher) Full(prev, src [Size]byte, data []byte) [Size]byte {
	c.reset()
	pre := c.state[:PrefixLen]
	PutPrefix(pre, src, len(data))
	c.h.Write(pre)
	c.h.Write(data)
	c.h.Write(zeroBlock[:PaddedLen(len(data))-PrefixLen-len(data)])
	return c.finish(prev)
}

// Mid hashes in, which is the event's input up to the end of its encoding
// (PrefixLen bytes filled by PutPrefix, then the encoding), and the zero
// bytes after it, and returns SHA-256's chaining value at that point: all
// Link needs, with PrevHash, to finish the Hash.
func (c *Hasher) Mid(in []byte) [Size]byte {
	c.reset()
	c.h.Write(in)
	c.h.Write(zeroBlock[:PaddedLen(len(in)-PrefixLen)-len(in)])
	return c.chaining()
}

// chaining returns SHA-256's chaining value: the hash state after the
// blocks written so far, which must be whole blocks.
func (c *Hasher) chaining() [Size]byte {
	st, err := c.h.(encoding.BinaryAppender).AppendBinary(c.state[:0])
	if err != nil || len(st) != marshaledSize {
		panic("wire: crypto/sha256 state is not in the expected form")
	}
	return [Size]byte(st[4:36])
}

// Link finishes the Hash of an event whose encoding is n bytes long and
// whose chaining value before PrevHash is mid (see Mid).
func (c *Hasher) Link(prev, mid [Size]byte, n int) [Size]byte {
	c.reset()
	st := c.state[:0]
	st = append(st, "sha\x03"...)
	st = append(st, mid[:]...)
	st = append(st, zeroBlock[:]...)
	st = binary.BigEndian.AppendUint64(st, uint64(PaddedLen(n)))
	if err := c.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
		panic("wire: crypto/sha256 refused its own state: " + err.Error())
	}
	return c.finish(prev)
}

// finish writes prev and returns the sum. Both go through fields, not the
// stack: a slice handed to an interface method escapes, and would cost an
// allocation per event.
func (c *Hasher) finish(prev [Size]byte) [Size]byte {
	c.tail = prev
	c.h.Write(c.tail[:])
	return [Size]byte(c.h.Sum(c.state[:0]))
}
