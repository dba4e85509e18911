package otlpenc

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// ErrMalformed is returned for bytes that are not an encoded event.
var ErrMalformed = errors.New("malformed event encoding")

// valueReader reads encoded attribute values (see wire's Kind constants)
// and writes them as OTLP AnyValue content.
type valueReader struct {
	b   []byte
	err error
}

func (r *valueReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformed, what)
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
	case wire.KindBool:
		b = appendVarintField(b, tagAnyBool, r.boolean())
	case wire.KindInt64:
		b = appendVarintField(b, tagAnyInt, r.u64("int64"))
	case wire.KindFloat64:
		b = appendFixed64Field(b, tagAnyDouble, r.u64("float64"))
	case wire.KindString:
		b = appendStrField(b, tagAnyString, r.str("string"))
	case wire.KindByteSlice:
		b = appendBytesField(b, tagAnyBytes, r.str("bytes"))
	case wire.KindBoolSlice, wire.KindInt64Slice, wire.KindFloat64Slice, wire.KindStringSlice, wire.KindSlice:
		elem := 1
		if k[0] == wire.KindInt64Slice || k[0] == wire.KindFloat64Slice {
			elem = 8
		}
		n := r.count(elem, "slice")
		var s int
		b, s = openLen(append(b, tagAnyArray))
		for range n {
			var e int
			b, e = openLen(append(b, tagValuesRepeat))
			switch k[0] {
			case wire.KindBoolSlice:
				b = appendVarintField(b, tagAnyBool, r.boolean())
			case wire.KindInt64Slice:
				b = appendVarintField(b, tagAnyInt, r.u64("int64"))
			case wire.KindFloat64Slice:
				b = appendFixed64Field(b, tagAnyDouble, r.u64("float64"))
			case wire.KindStringSlice:
				b = appendStrField(b, tagAnyString, r.str("string"))
			default:
				b = r.value(b, depth+1)
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
