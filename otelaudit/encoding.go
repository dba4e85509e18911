package otelaudit

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// EncodingVersion is the version byte that starts every encoded event. It
// changes whenever the layout below does, so a reader can refuse what it
// does not understand instead of misreading it.
const EncodingVersion = wire.EncodingVersion

// The binary encoding of an Event, version 1. It is the one form an event
// takes inside the Generator (held events are bytes, which the garbage
// collector never has to scan), and it is deterministic: equal events encode
// to equal bytes, attributes in their recorded order. Package internal/wire
// owns the fixed header (version, Seq, time, trace, span and parent span
// IDs, duration: 61 bytes) and the order of the strings after it: Type,
// Outcome, AgentID, HumanOriginID, WorkflowID, NodeID, Action, Resource,
// each a uvarint length and the bytes. Then come a uvarint attribute count
// and per attribute a string key and a value.
//
// A value is a kind byte (the val* constants, fixed here and independent of
// the attribute package's numbering) and its payload: nothing for empty; one
// byte for bool; 8 bytes little endian for int64 and float64 bits; a string
// for string; a uvarint count then the elements for every slice kind and for
// maps (key, value pairs).
const (
	valEmpty byte = iota
	valBool
	valInt64
	valFloat64
	valString
	valBoolSlice
	valInt64Slice
	valFloat64Slice
	valStringSlice
	valByteSlice
	valSlice
	valMap
)

// maxDepth bounds the nesting of slice and map values a decoder follows, so
// a hostile encoding cannot exhaust the stack.
const maxDepth = 32

// MarshalBinary encodes e in the versioned binary form described above. It
// refuses, with ErrInvalidEvent, attribute values nested deeper than a
// decoder follows (32 levels of slices and maps), so that whatever it
// encodes decodes.
func (e Event) MarshalBinary() ([]byte, error) {
	if err := checkDepth(e.Attributes); err != nil {
		return nil, err
	}
	return appendEvent(nil, &e), nil
}

// checkDepth refuses attributes whose slice and map values nest deeper than
// maxDepth. Only SLICE and MAP values are walked: for the usual flat
// attributes it is one type test each.
func checkDepth(attrs []attribute.KeyValue) error {
	for i := range attrs {
		if t := attrs[i].Value.Type(); (t == attribute.SLICE || t == attribute.MAP) && !shallow(&attrs[i].Value, 0) {
			return fmt.Errorf("%w: attribute %q nests values more than %d deep", ErrInvalidEvent, attrs[i].Key, maxDepth)
		}
	}
	return nil
}

func shallow(v *attribute.Value, depth int) bool {
	if depth >= maxDepth {
		return false
	}
	switch v.Type() {
	case attribute.SLICE:
		for _, x := range v.AsSlice() {
			if !shallow(&x, depth+1) {
				return false
			}
		}
	case attribute.MAP:
		for _, kv := range v.AsMap() {
			if !shallow(&kv.Value, depth+1) {
				return false
			}
		}
	}
	return true
}

// UnmarshalBinary decodes data into e. Malformed data is refused with an
// error wrapping ErrMalformed, leaving e unchanged.
func (e *Event) UnmarshalBinary(data []byte) error {
	return decodeEvent(e, string(data), nil)
}

func appendEvent(b []byte, e *Event) []byte {
	b = wire.AppendHeader(b, &wire.Header{
		Seq:      e.Seq,
		Sec:      e.Time.Unix(),
		Nsec:     uint32(e.Time.Nanosecond()),
		TraceID:  e.TraceID,
		SpanID:   e.SpanID,
		Parent:   e.ParentSpanID,
		Duration: int64(e.Duration),
	})
	b = appendString(b, string(e.Type))
	b = appendString(b, string(e.Outcome))
	b = appendString(b, e.AgentID)
	b = appendString(b, e.HumanOriginID)
	b = appendString(b, e.WorkflowID)
	b = appendString(b, e.NodeID)
	b = appendString(b, e.Action)
	b = appendString(b, e.Resource)
	b = appendUvarint(b, uint64(len(e.Attributes)))
	for i := range e.Attributes {
		kv := &e.Attributes[i]
		b = appendString(b, string(kv.Key))
		// Strings are most attributes: spare them the call, and every value
		// the copy of a 56-byte attribute.Value.
		if kv.Value.Type() == attribute.STRING {
			b = appendString(append(b, valString), kv.Value.AsString())
			continue
		}
		b = appendValue(b, &kv.Value)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(appendUvarint(b, uint64(len(s))), s...)
}

// appendUvarint is binary.AppendUvarint with the one-byte case, by far the
// most common for lengths and counts, kept inline.
func appendUvarint(b []byte, x uint64) []byte {
	if x < 0x80 {
		return append(b, byte(x))
	}
	return binary.AppendUvarint(b, x)
}

func appendValue(b []byte, v *attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		b = append(b, valBool, boolByte(v.AsBool()))
	case attribute.INT64:
		b = append(b, valInt64)
		b = binary.LittleEndian.AppendUint64(b, uint64(v.AsInt64()))
	case attribute.FLOAT64:
		b = append(b, valFloat64)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		b = appendString(append(b, valString), v.AsString())
	case attribute.BOOLSLICE:
		s := v.AsBoolSlice()
		b = binary.AppendUvarint(append(b, valBoolSlice), uint64(len(s)))
		for _, x := range s {
			b = append(b, boolByte(x))
		}
	case attribute.INT64SLICE:
		s := v.AsInt64Slice()
		b = binary.AppendUvarint(append(b, valInt64Slice), uint64(len(s)))
		for _, x := range s {
			b = binary.LittleEndian.AppendUint64(b, uint64(x))
		}
	case attribute.FLOAT64SLICE:
		s := v.AsFloat64Slice()
		b = binary.AppendUvarint(append(b, valFloat64Slice), uint64(len(s)))
		for _, x := range s {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		b = binary.AppendUvarint(append(b, valStringSlice), uint64(len(s)))
		for _, x := range s {
			b = appendString(b, x)
		}
	case attribute.BYTESLICE:
		b = appendString(append(b, valByteSlice), string(v.AsByteSlice()))
	case attribute.SLICE:
		s := v.AsSlice()
		b = binary.AppendUvarint(append(b, valSlice), uint64(len(s)))
		for i := range s {
			b = appendValue(b, &s[i])
		}
	case attribute.MAP:
		m := v.AsMap()
		b = binary.AppendUvarint(append(b, valMap), uint64(len(m)))
		for i := range m {
			b = appendString(b, string(m[i].Key))
			b = appendValue(b, &m[i].Value)
		}
	default:
		b = append(b, valEmpty)
	}
	return b
}

func boolByte(x bool) byte {
	if x {
		return 1
	}
	return 0
}

// decoder reads an encoded event from a string, so that every decoded
// string is a substring of it: decoding a record costs one allocation for
// all its strings (the conversion to string), not one per field.
type decoder struct {
	s   string
	off int
	err error
	// block, when not nil, is carved into the attribute slices of the
	// events decoded, so that a query decoding many events allocates their
	// attributes in a few blocks instead of one slice each.
	block *[]attribute.KeyValue
}

// attrs returns a slice of n attributes for the event being decoded, capped
// at n so that an append by its owner never writes into a neighbour's.
func (d *decoder) attrs(n int) []attribute.KeyValue {
	if d.block == nil || cap(*d.block)-len(*d.block) < n {
		return make([]attribute.KeyValue, n)
	}
	b := *d.block
	i := len(b)
	b = b[:i+n]
	*d.block = b
	return b[i : i+n : i+n]
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d of %d", ErrMalformed, what, d.off, len(d.s))
	}
}

func (d *decoder) take(n int, what string) string {
	if d.err != nil {
		return ""
	}
	if n < 0 || n > len(d.s)-d.off {
		d.fail("truncated " + what)
		return ""
	}
	v := d.s[d.off : d.off+n]
	d.off += n
	return v
}

func (d *decoder) u64(what string) uint64 {
	v := d.take(8, what)
	if len(v) < 8 {
		return 0
	}
	return uint64(v[0]) | uint64(v[1])<<8 | uint64(v[2])<<16 | uint64(v[3])<<24 |
		uint64(v[4])<<32 | uint64(v[5])<<40 | uint64(v[6])<<48 | uint64(v[7])<<56
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.off >= len(d.s) {
			d.fail("truncated " + what)
			return 0
		}
		c := d.s[d.off]
		d.off++
		if c < 0x80 {
			// A last byte of 0 after others pads the number: the encoding
			// is canonical, so there is one way to write each value.
			if i == binary.MaxVarintLen64-1 && c > 1 || i > 0 && c == 0 {
				break
			}
			return x | uint64(c)<<s
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	d.fail("overlong or padded " + what)
	return 0
}

// count reads a length or element count, refusing one larger than the bytes
// left could hold (each element takes at least min bytes), so a hostile
// count cannot make the decoder allocate gigabytes.
func (d *decoder) count(min int, what string) int {
	n := d.uvarint(what)
	if d.err != nil {
		return 0
	}
	// n <= left first, so that n*min cannot overflow.
	if left := uint64(len(d.s) - d.off); n > left || n*uint64(min) > left {
		d.fail(what + " larger than the data")
		return 0
	}
	return int(n)
}

// boolean reads a bool: exactly 0 or 1.
func (d *decoder) boolean() bool {
	b := d.take(1, "bool")
	if b != "\x00" && b != "\x01" && d.err == nil {
		d.off--
		d.fail("bool neither 0 nor 1")
	}
	return b == "\x01"
}

func (d *decoder) str(what string) string {
	// Most strings are shorter than 128 bytes: one length byte.
	if d.err == nil && d.off < len(d.s) {
		if n := int(d.s[d.off]); n < 0x80 && n < len(d.s)-d.off {
			v := d.s[d.off+1 : d.off+1+n]
			d.off += 1 + n
			return v
		}
	}
	return d.take(d.count(1, what), what)
}

// decodeEvent decodes the event encoded in s into e, which it leaves alone
// on error. Its strings are substrings of s. block, if not nil, is where its
// attributes are carved from (see decoder.attrs).
func decodeEvent(e *Event, s string, block *[]attribute.KeyValue) error {
	switch err := wire.Check(s); {
	case len(s) == 0:
		return fmt.Errorf("%w: empty", ErrMalformed)
	case err == wire.ErrVersion:
		return fmt.Errorf("%w: version %d, this build reads %d", ErrMalformed, s[0], EncodingVersion)
	case err != nil:
		return fmt.Errorf("%w: %d bytes, %v", ErrMalformed, len(s), err)
	}
	h := wire.ParseHeader(s)
	d := decoder{s: s, off: wire.HeaderSize, block: block}
	r := Event{
		Seq:          h.Seq,
		TraceID:      h.TraceID,
		SpanID:       h.SpanID,
		ParentSpanID: h.Parent,
		Duration:     time.Duration(h.Duration),
	}
	sec, nsec := h.Sec, h.Nsec
	r.Type = EventType(d.str("type"))
	r.Outcome = Outcome(d.str("outcome"))
	r.AgentID = d.str("agent id")
	r.HumanOriginID = d.str("human origin id")
	r.WorkflowID = d.str("workflow id")
	r.NodeID = d.str("node id")
	r.Action = d.str("action")
	r.Resource = d.str("resource")
	if n := d.count(2, "attribute count"); n > 0 {
		r.Attributes = d.attrs(n)
		for i := range r.Attributes {
			r.Attributes[i].Key = attribute.Key(d.str("attribute key"))
			r.Attributes[i].Value = d.value(0)
		}
	}
	switch {
	case d.err != nil:
		return d.err
	case nsec >= 1e9:
		return fmt.Errorf("%w: nanoseconds %d out of range", ErrMalformed, nsec)
	case d.off != len(s):
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(s)-d.off)
	}
	r.Time = time.Unix(sec, int64(nsec))
	*e = r
	return nil
}

func (d *decoder) value(depth int) attribute.Value {
	if depth > maxDepth {
		d.fail("values nested too deep")
		return attribute.Value{}
	}
	k := d.take(1, "value kind")
	if len(k) == 0 {
		return attribute.Value{}
	}
	switch k[0] {
	case valEmpty:
		return attribute.Value{}
	case valBool:
		return attribute.BoolValue(d.boolean())
	case valInt64:
		return attribute.Int64Value(int64(d.u64("int64")))
	case valFloat64:
		return attribute.Float64Value(math.Float64frombits(d.u64("float64")))
	case valString:
		return attribute.StringValue(d.str("string"))
	case valBoolSlice:
		s := make([]bool, d.count(1, "bool slice"))
		for i := range s {
			s[i] = d.boolean()
		}
		return attribute.BoolSliceValue(s)
	case valInt64Slice:
		s := make([]int64, d.count(8, "int64 slice"))
		for i := range s {
			s[i] = int64(d.u64("int64"))
		}
		return attribute.Int64SliceValue(s)
	case valFloat64Slice:
		s := make([]float64, d.count(8, "float64 slice"))
		for i := range s {
			s[i] = math.Float64frombits(d.u64("float64"))
		}
		return attribute.Float64SliceValue(s)
	case valStringSlice:
		s := make([]string, d.count(1, "string slice"))
		for i := range s {
			s[i] = d.str("string")
		}
		return attribute.StringSliceValue(s)
	case valByteSlice:
		return attribute.ByteSliceValue([]byte(d.str("bytes")))
	case valSlice:
		s := make([]attribute.Value, d.count(1, "slice"))
		for i := range s {
			s[i] = d.value(depth + 1)
		}
		return attribute.SliceValue(s...)
	case valMap:
		m := make([]attribute.KeyValue, d.count(2, "map"))
		for i := range m {
			m[i].Key = attribute.Key(d.str("map key"))
			// MapValue sorts its keys: any other order is not canonical.
			if i > 0 && m[i].Key < m[i-1].Key {
				d.fail("map keys out of order")
			}
			m[i].Value = d.value(depth + 1)
		}
		return attribute.MapValue(m...)
	}
	d.off--
	d.fail(fmt.Sprintf("unknown value kind %d", k[0]))
	return attribute.Value{}
}

// attrCount reads the attribute count of an encoded event, skipping the
// rest; 0 if it cannot.
func attrCount(s string) int {
	d := decoder{s: s, off: wire.HeaderSize}
	for range wire.NumStrings {
		d.str("string")
	}
	return d.count(2, "attribute count")
}
