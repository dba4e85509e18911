package otlpenc

import (
	"encoding/binary"
	"fmt"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// valueReader reads encoded attribute values (see wire's Kind constants)
// and writes them as OTLP AnyValue content.
type valueReader struct {
	b   []byte
	err error
}

func (r *valueReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", otelaudit.ErrMalformed, what)
	}
	r.b = nil
}

func (r *valueReader) take(n int, what string) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.fail("truncated " + what)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *valueReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := wire.Uvarint(r.b)
	if n == 0 {
		r.fail("bad " + what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads an element count, refusing one the bytes left cannot hold
// at min bytes an element.
func (r *valueReader) count(min int, what string) int {
	n := r.uvarint(what)
	if r.err == nil && (n > uint64(len(r.b)) || n*uint64(min) > uint64(len(r.b))) {
		r.fail(what + " larger than the data")
		return 0
	}
	return int(n)
}

func (r *valueReader) str(what string) []byte {
	if r.err != nil {
		return nil
	}
	s, rest, ok := wire.String(r.b)
	if !ok {
		r.fail("truncated " + what)
		return nil
	}
	r.b = rest
	return s
}

func (r *valueReader) u64(what string) uint64 {
	v := r.take(8, what)
	if len(v) < 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(v)
}

func (r *valueReader) boolean() uint64 {
	v := r.take(1, "bool")
	if len(v) == 1 && v[0] > 1 {
		r.fail("bool neither 0 nor 1")
	}
	if len(v) == 1 {
		return uint64(v[0])
	}
	return 0
}

// value reads one encoded value and appends its AnyValue content to b.
func (r *valueReader) value(b []byte, depth int) []byte {
	if depth > wire.MaxDepth {
		r.fail("values nested too deep")
		return b
	}
	k := r.take(1, "value kind")
	if len(k) == 0 {
		return b
	}
	switch k[0] {
	case wire.KindEmpty:
	case wire.KindBool, wire.KindInt64, wire.KindFloat64, wire.KindString, wire.KindByteSlice:
		b = r.scalar(b, k[0])
	case wire.KindBoolSlice, wire.KindInt64Slice, wire.KindFloat64Slice, wire.KindStringSlice, wire.KindSlice:
		elem, size := sliceElem(k[0])
		n := r.count(size, "slice")
		var s int
		b, s = openLen(append(b, tagAnyArray))
		for range n {
			var e int
			b, e = openLen(append(b, tagValuesRepeat))
			if elem == wire.KindSlice {
				b = r.value(b, depth+1)
			} else {
				b = r.scalar(b, elem)
			}
			b = closeLen(b, e)
		}
		b = closeLen(b, s)
	case wire.KindMap:
		n := r.count(2, "map")
		var s int
		b, s = openLen(append(b, tagAnyKVList))
		for range n {
			b = r.keyValue(b, tagValuesRepeat, depth+1)
		}
		b = closeLen(b, s)
	default:
		r.fail(fmt.Sprintf("unknown value kind %d", k[0]))
	}
	return b
}

// scalar reads one value of kind k, which is neither a slice nor a map,
// and appends its AnyValue content to b. The elements of a typed slice
// are read by it too, so a kind is written the same in either place.
func (r *valueReader) scalar(b []byte, k byte) []byte {
	switch k {
	case wire.KindBool:
		return appendVarintField(b, tagAnyBool, r.boolean())
	case wire.KindInt64:
		return appendVarintField(b, tagAnyInt, r.u64("int64"))
	case wire.KindFloat64:
		return appendFixed64Field(b, tagAnyDouble, r.u64("float64"))
	case wire.KindString:
		return appendStrField(b, tagAnyString, r.str("string"))
	case wire.KindByteSlice:
		return appendBytesField(b, tagAnyBytes, r.str("bytes"))
	}
	r.fail(fmt.Sprintf("unknown value kind %d", k))
	return b
}

// sliceElem returns the kind of the elements of a slice of kind k
// (KindSlice for a slice of values, each with its own kind), and the
// fewest bytes one takes in the encoding.
func sliceElem(k byte) (elem byte, size int) {
	switch k {
	case wire.KindBoolSlice:
		return wire.KindBool, 1
	case wire.KindInt64Slice:
		return wire.KindInt64, 8
	case wire.KindFloat64Slice:
		return wire.KindFloat64, 8
	case wire.KindStringSlice:
		return wire.KindString, 1
	}
	return wire.KindSlice, 1
}

// keyValue reads a key and a value and appends them as a KeyValue field.
func (r *valueReader) keyValue(b []byte, tag byte, depth int) []byte {
	key := r.str("key")
	b, start := openLen(append(b, tag))
	b = appendStrField(b, tagKVKey, key)
	b, vs := openLen(append(b, tagKVValue))
	b = r.value(b, depth)
	return closeLen(closeLen(b, vs), start)
}

// skipValue reads one encoded value and discards it.
func (r *valueReader) skipValue(scratch []byte) []byte {
	return r.value(scratch[:0], 0)
}
