package wire

import "encoding/binary"

// The value kinds of an encoded attribute, as otelaudit's encoder writes
// them after the attribute's key: a kind byte, then nothing for empty; one
// byte (0 or 1) for bool; 8 bytes little endian for int64 and float64
// bits; a string for string and bytes; a uvarint count then the elements
// for every slice kind; a uvarint count then key and value pairs for maps.
// Package otelaudit encodes and decodes whole events; these let a reader
// that translates the bytes into another form (exporter/internal/otlpenc) walk the
// attributes in place. A test of otelaudit's encoder checks them against
// its own.
const (
	KindEmpty byte = iota
	KindBool
	KindInt64
	KindFloat64
	KindString
	KindBoolSlice
	KindInt64Slice
	KindFloat64Slice
	KindStringSlice
	KindByteSlice
	KindSlice
	KindMap
)

// MaxDepth bounds the nesting of slice and map values a reader follows,
// as otelaudit's decoder does, so that hostile bytes cannot exhaust the
// stack.
const MaxDepth = 32

// Uvarint reads a uvarint from the front of b and returns it and its size;
// size 0 if b does not start with one.
func Uvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0
	}
	return v, n
}

// String reads a length-prefixed string from the front of b and returns
// it and what follows; ok is false if b is too short for it.
func String(b []byte) (s, rest []byte, ok bool) {
	n, w := Uvarint(b)
	if w == 0 || n > uint64(len(b)-w) {
		return nil, nil, false
	}
	end := w + int(n)
	return b[w:end:end], b[end:], true
}

// Strings reads the strings after the header of an encoded event (Type,
// Outcome, ..., Resource, indexed by the Str constants, without their
// lengths) and returns them and the bytes that follow: the attribute count
// and the attributes. data must have passed Check.
func Strings(data []byte) (strs [NumStrings][]byte, rest []byte, err error) {
	rest = data[HeaderSize:]
	for i := range strs {
		var ok bool
		if strs[i], rest, ok = String(rest); !ok {
			return strs, nil, ErrString
		}
	}
	return strs, rest, nil
}

// HeaderOf checks data as Check does and reads its fixed header.
func HeaderOf(data []byte) (Header, error) {
	var h Header
	switch {
	case len(data) < HeaderSize:
		return h, ErrShort
	case data[offVersion] != EncodingVersion:
		return h, ErrVersion
	}
	h.Seq = binary.LittleEndian.Uint64(data[offSeq:])
	h.Sec = int64(binary.LittleEndian.Uint64(data[offTimeSec:]))
	h.Nsec = binary.LittleEndian.Uint32(data[offTimeNsec:])
	copy(h.TraceID[:], data[offTraceID:offSpanID])
	copy(h.SpanID[:], data[offSpanID:offParent])
	copy(h.Parent[:], data[offParent:offDuration])
	h.Duration = int64(binary.LittleEndian.Uint64(data[offDuration:]))
	return h, nil
}
