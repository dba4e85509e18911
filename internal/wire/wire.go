// Package wire owns the byte layout of an audit event: the fixed header of
// its canonical encoding, the in-place readers that other packages use
// instead of decoding, and the rule that chains events by SHA-256. Package
// otelaudit encodes and decodes whole events with it; package store reads
// index keys and Seqs out of stored bytes with it. Nothing else knows an
// offset.
//
// The encoding, version 1:
//
//	offset  size  field
//	0       1     version (1)
//	1       8     Seq, little endian
//	9       8     Time, Unix seconds, little endian, two's complement
//	17      4     Time, nanoseconds within the second, little endian
//	21      16    TraceID
//	37      8     SpanID
//	45      8     ParentSpanID
//	53      8     Duration in nanoseconds, two's complement
//	61      ...   Type, Outcome, AgentID, HumanOriginID, WorkflowID, NodeID,
//	              Action, Resource: each a uvarint length and the bytes
//	...     ...   uvarint attribute count, then the attributes
//
// (the attributes' own layout is otelaudit's encoder's: nothing outside it
// reads them in place).
package wire

import (
	"encoding/binary"
	"errors"
)

// EncodingVersion is the version byte that starts every encoded event.
const EncodingVersion = 1

// Offsets and sizes of the fixed header.
const (
	offVersion  = 0
	offSeq      = 1
	offTimeSec  = 9
	offTimeNsec = 17
	offTraceID  = 21
	offSpanID   = 37
	offParent   = 45
	offDuration = 53
	// HeaderSize is the size of the fixed header; the strings follow it.
	HeaderSize = 61
)

// The strings after the header, in order.
const (
	StrType = iota
	StrOutcome
	StrAgent
	StrHumanOrigin
	StrWorkflow
	StrNode
	StrAction
	StrResource
	// NumStrings is how many strings follow the header, before the
	// attribute count.
	NumStrings
)

// Header is the fixed part of an encoded event.
type Header struct {
	Seq      uint64
	Sec      int64
	Nsec     uint32
	TraceID  [16]byte
	SpanID   [8]byte
	Parent   [8]byte
	Duration int64
}

// AppendHeader appends h, version byte first, to b.
func AppendHeader(b []byte, h *Header) []byte {
	var a [HeaderSize]byte
	a[offVersion] = EncodingVersion
	binary.LittleEndian.PutUint64(a[offSeq:], h.Seq)
	binary.LittleEndian.PutUint64(a[offTimeSec:], uint64(h.Sec))
	binary.LittleEndian.PutUint32(a[offTimeNsec:], h.Nsec)
	copy(a[offTraceID:offSpanID], h.TraceID[:])
	copy(a[offSpanID:offParent], h.SpanID[:])
	copy(a[offParent:offDuration], h.Parent[:])
	binary.LittleEndian.PutUint64(a[offDuration:], uint64(h.Duration))
	return append(b, a[:]...)
}

// Errors of the in-place readers; callers wrap them with their own
// sentinel.
var (
	ErrShort   = errors.New("shorter than the fixed header")
	ErrVersion = errors.New("unknown encoding version")
	ErrString  = errors.New("truncated string")
)

// Check reports whether data starts like an event of this version: long
// enough for the header, version byte right.
func Check(data string) error {
	switch {
	case len(data) < HeaderSize:
		return ErrShort
	case data[offVersion] != EncodingVersion:
		return ErrVersion
	}
	return nil
}

// ParseHeader reads the fixed header of data, which Check accepted.
func ParseHeader(data string) Header {
	var h Header
	h.Seq = le64(data[offSeq:])
	h.Sec = int64(le64(data[offTimeSec:]))
	h.Nsec = le32(data[offTimeNsec:])
	copy(h.TraceID[:], data[offTraceID:offSpanID])
	copy(h.SpanID[:], data[offSpanID:offParent])
	copy(h.Parent[:], data[offParent:offDuration])
	h.Duration = int64(le64(data[offDuration:]))
	return h
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Seq returns the Seq of an encoded event; false if data is too short or of
// another version.
func Seq(data []byte) (uint64, bool) {
	if len(data) < HeaderSize || data[offVersion] != EncodingVersion {
		return 0, false
	}
	return binary.LittleEndian.Uint64(data[offSeq:]), true
}

// SetSeq writes seq into an encoded event: the Generator numbers an event
// after encoding it, under its lock.
func SetSeq(data []byte, seq uint64) {
	binary.LittleEndian.PutUint64(data[offSeq:], seq)
}

// Keys are the index keys of an event, read in place: its trace ID, and its
// type and agent strings each with its uvarint length in front, which is
// the form the store's index keys take.
type Keys struct {
	TraceID [16]byte
	Type    []byte // uvarint length | type
	Agent   []byte // uvarint length | agent; the agent is empty when len(Agent) == 1
}

// TypeString and AgentString return the strings without their lengths.
func (k *Keys) TypeString() []byte  { return k.Type[uvarintLen(k.Type):] }
func (k *Keys) AgentString() []byte { return k.Agent[uvarintLen(k.Agent):] }

func uvarintLen(b []byte) int {
	_, n := binary.Uvarint(b)
	return max(n, 0)
}

// ReadKeys reads the index keys of an encoded event without decoding the
// rest. The slices point into data.
func ReadKeys(data []byte) (Keys, error) {
	var k Keys
	if len(data) < HeaderSize {
		return k, ErrShort
	}
	if data[offVersion] != EncodingVersion {
		return k, ErrVersion
	}
	copy(k.TraceID[:], data[offTraceID:offSpanID])
	rest := data[HeaderSize:]
	for i := 0; i <= StrAgent; i++ {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return k, ErrString
		}
		field := rest[:w+int(n)]
		switch i {
		case StrType:
			k.Type = field
		case StrAgent:
			k.Agent = field
		}
		rest = rest[w+int(n):]
	}
	return k, nil
}

// Fields are what a reader filters events by, read in place: the time,
// the trace ID and the strings after the header (Type, Outcome, AgentID,
// HumanOriginID, WorkflowID, NodeID, Action, Resource, indexed by the Str
// constants), without their lengths. The slices point into the encoding.
type Fields struct {
	Sec     int64
	Nsec    uint32
	TraceID [16]byte
	Strings [NumStrings][]byte
}

// ReadFields reads the Fields of an encoded event without decoding its
// attributes.
func ReadFields(data []byte) (Fields, error) {
	var f Fields
	if len(data) < HeaderSize {
		return f, ErrShort
	}
	if data[offVersion] != EncodingVersion {
		return f, ErrVersion
	}
	f.Sec = int64(binary.LittleEndian.Uint64(data[offTimeSec:]))
	f.Nsec = binary.LittleEndian.Uint32(data[offTimeNsec:])
	copy(f.TraceID[:], data[offTraceID:offSpanID])
	rest := data[HeaderSize:]
	for i := range f.Strings {
		var n uint64
		var w int
		if len(rest) > 0 && rest[0] < 0x80 {
			n, w = uint64(rest[0]), 1
		} else {
			n, w = binary.Uvarint(rest)
		}
		if w <= 0 || n > uint64(len(rest)-w) {
			return f, ErrString
		}
		f.Strings[i] = rest[w : w+int(n) : w+int(n)]
		rest = rest[w+int(n):]
	}
	return f, nil
}
