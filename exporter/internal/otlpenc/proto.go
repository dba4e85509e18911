package otlpenc

import (
	"math"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field tags of the OTLP messages written here (opentelemetry-proto,
// common/v1, resource/v1, trace/v1, logs/v1 and the collector services),
// as wire-format tag bytes.
const (
	// ExportTraceServiceRequest, ExportLogsServiceRequest.
	tagRequestResource = 0x0a // resource_spans, resource_logs = 1
	// ResourceSpans, ResourceLogs.
	tagResource          = 0x0a // resource = 1
	tagResourceScopes    = 0x12 // scope_spans, scope_logs = 2
	tagResourceSchemaURL = 0x1a // schema_url = 3
	// Resource.
	tagResourceAttrs = 0x0a // attributes = 1
	// ScopeSpans, ScopeLogs.
	tagScope          = 0x0a // scope = 1
	tagScopeItems     = 0x12 // spans, log_records = 2
	tagScopeSchemaURL = 0x1a // schema_url = 3
	// InstrumentationScope.
	tagScopeName    = 0x0a // name = 1
	tagScopeVersion = 0x12 // version = 2
	tagScopeAttrs   = 0x1a // attributes = 3
	// Span.
	tagSpanTraceID  = 0x0a // trace_id = 1
	tagSpanSpanID   = 0x12 // span_id = 2
	tagSpanParent   = 0x22 // parent_span_id = 4
	tagSpanName     = 0x2a // name = 5
	tagSpanKind     = 0x30 // kind = 6
	tagSpanStart    = 0x39 // start_time_unix_nano = 7, fixed64
	tagSpanEnd      = 0x41 // end_time_unix_nano = 8, fixed64
	tagSpanAttrs    = 0x4a // attributes = 9
	tagSpanDropped  = 0x50 // dropped_attributes_count = 10
	tagSpanStatus   = 0x7a // status = 15
	tagSpanFlags0   = 0x85 // flags = 16, fixed32: two tag bytes
	tagSpanFlags1   = 0x01
	tagStatusMsg    = 0x12 // message = 2
	tagStatusCode   = 0x18 // code = 3
	tagKVKey        = 0x0a // KeyValue.key = 1
	tagKVValue      = 0x12 // KeyValue.value = 2
	tagAnyString    = 0x0a // AnyValue.string_value = 1
	tagAnyBool      = 0x10 // bool_value = 2
	tagAnyInt       = 0x18 // int_value = 3
	tagAnyDouble    = 0x21 // double_value = 4, fixed64
	tagAnyArray     = 0x2a // array_value = 5
	tagAnyKVList    = 0x32 // kvlist_value = 6
	tagAnyBytes     = 0x3a // bytes_value = 7
	tagValuesRepeat = 0x0a // ArrayValue.values, KeyValueList.values = 1
)

// openLen starts a length-delimited field whose tag b ends with: one byte
// is kept for the length, and the content starts at the index returned.
func openLen(b []byte) ([]byte, int) {
	return append(b, 0), len(b) + 1
}

// openLenN is openLen keeping n bytes for the length: for content
// expected to be that long, so that closeLen need not move it.
func openLenN(b []byte, n int) ([]byte, int) {
	for range n {
		b = append(b, 0)
	}
	return b, len(b)
}

// closeLen writes the length of the content that started at start into
// the byte openLen kept before it, moving the content on if the length
// takes more.
func closeLen(b []byte, start int) []byte { return closeLenN(b, start, 1) }

// closeLenN is closeLen for kept bytes kept by openLenN: the content
// moves, either way, only if its length takes another number of bytes.
func closeLenN(b []byte, start, kept int) []byte {
	n := len(b) - start
	if n < 0x80 && kept == 1 {
		b[start-1] = byte(n)
		return b
	}
	k := protowire.SizeVarint(uint64(n))
	at := start - kept
	switch {
	case k > kept:
		b = append(b, make([]byte, k-kept)...)
		copy(b[start+k-kept:], b[start:start+n])
	case k < kept:
		copy(b[at+k:], b[start:start+n])
		b = b[:at+k+n]
	}
	protowire.AppendVarint(b[:at], uint64(n))
	return b
}

// appendBytesField appends a bytes field, or a string field whose value
// is known to be valid UTF-8.
func appendBytesField[T []byte | string](b []byte, tag byte, v T) []byte {
	b = append(b, tag)
	b = protowire.AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendStrField appends a string field. Protobuf's strings are UTF-8, and
// receivers (and the SDK's own exporters, which refuse to send the span)
// reject others: an invalid byte sequence is sent as U+FFFD, so that the
// event still arrives, marked where it was cut. The trail keeps the
// bytes as recorded.
func appendStrField[T []byte | string](b []byte, tag byte, v T) []byte {
	if utf8Valid(v) {
		return appendBytesField(b, tag, v)
	}
	return appendBytesField(b, tag, strings.ToValidUTF8(string(v), "\uFFFD"))
}

func utf8Valid[T []byte | string](v T) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			return utf8.ValidString(string(v[i:]))
		}
	}
	return true
}

func appendVarintField(b []byte, tag byte, v uint64) []byte {
	return protowire.AppendVarint(append(b, tag), v)
}

func appendFixed64Field(b []byte, tag byte, v uint64) []byte {
	return protowire.AppendFixed64(append(b, tag), v)
}

// appendKeyValue appends a KeyValue field (under tag) of key and v, as the
// OTel SDK's OTLP exporters translate an attribute.
func appendKeyValue(b []byte, tag byte, key string, v *attribute.Value) []byte {
	b, start := openLen(append(b, tag))
	b = appendStrField(b, tagKVKey, key)
	b, vs := openLen(append(b, tagKVValue))
	b = appendAttrValue(b, v)
	return closeLen(closeLen(b, vs), start)
}

// appendAttrValue appends the AnyValue content of v. valueReader.value
// writes the same content from an event's encoded bytes: the two read
// different sources (an attribute.Value the SDK built, the wire encoding
// in place), so each walks its own kinds.
func appendAttrValue(b []byte, v *attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		b = appendVarintField(b, tagAnyBool, boolVarint(v.AsBool()))
	case attribute.INT64:
		b = appendVarintField(b, tagAnyInt, uint64(v.AsInt64())) //nolint:gosec // two's complement, as protobuf's int64
	case attribute.FLOAT64:
		b = appendFixed64Field(b, tagAnyDouble, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		b = appendStrField(b, tagAnyString, v.AsString())
	case attribute.BYTESLICE:
		b = appendBytesField(b, tagAnyBytes, v.AsByteSlice())
	case attribute.BOOLSLICE:
		b = appendArray(b, v.AsBoolSlice(), func(b []byte, x bool) []byte {
			return appendVarintField(b, tagAnyBool, boolVarint(x))
		})
	case attribute.INT64SLICE:
		b = appendArray(b, v.AsInt64Slice(), func(b []byte, x int64) []byte {
			return appendVarintField(b, tagAnyInt, uint64(x)) //nolint:gosec // two's complement
		})
	case attribute.FLOAT64SLICE:
		b = appendArray(b, v.AsFloat64Slice(), func(b []byte, x float64) []byte {
			return appendFixed64Field(b, tagAnyDouble, math.Float64bits(x))
		})
	case attribute.STRINGSLICE:
		b = appendArray(b, v.AsStringSlice(), func(b []byte, x string) []byte {
			return appendStrField(b, tagAnyString, x)
		})
	case attribute.SLICE:
		b = appendArray(b, v.AsSlice(), func(b []byte, x attribute.Value) []byte {
			return appendAttrValue(b, &x)
		})
	case attribute.MAP:
		var s int
		b, s = openLen(append(b, tagAnyKVList))
		for _, kv := range v.AsMap() {
			b = appendKeyValue(b, tagValuesRepeat, string(kv.Key), &kv.Value)
		}
		b = closeLen(b, s)
	case attribute.EMPTY:
	default:
		b = appendBytesField(b, tagAnyString, "INVALID")
	}
	return b
}

// appendArray appends an ArrayValue of xs, each element's AnyValue
// content written by elem.
func appendArray[T any](b []byte, xs []T, elem func([]byte, T) []byte) []byte {
	b, s := openLen(append(b, tagAnyArray))
	for _, x := range xs {
		var e int
		b, e = openLen(append(b, tagValuesRepeat))
		b = closeLen(elem(b, x), e)
	}
	return closeLen(b, s)
}

func boolVarint(x bool) uint64 {
	if x {
		return 1
	}
	return 0
}

func appendVarint(b []byte, x uint64) []byte { return protowire.AppendVarint(b, x) }
