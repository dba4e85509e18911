package otlpenc

import (
	"fmt"

	"github.com/otelaudit/otelaudit-go/internal/wire"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// A span and a log record carry an event alike but for the message around
// it: the same checks of the bytes, the same audit fields in the same
// order, the event's own attributes after them. What is written here is
// written once for both, with the field tag of the message it goes in.

// readEvent reads in place the event encoded in data: its header into h,
// its strings into strs, and returns its attributes (count first). Bytes
// that are not an encoded event, or an event without a type, are refused
// with an error wrapping otelaudit.ErrMalformed. h and strs are the caller's, so
// that the strings are not copied once more on the way.
func readEvent(data []byte, h *wire.Header, strs *[wire.NumStrings][]byte) ([]byte, error) {
	var err error
	if *h, err = wire.HeaderOf(data); err != nil {
		return nil, fmt.Errorf("%w: %v", otelaudit.ErrMalformed, err)
	}
	var rest []byte
	if *strs, rest, err = wire.Strings(data); err != nil {
		return nil, fmt.Errorf("%w: event %d: %v", otelaudit.ErrMalformed, h.Seq, err)
	}
	if h.Nsec >= 1e9 {
		return nil, fmt.Errorf("%w: event %d: nanoseconds %d out of range", otelaudit.ErrMalformed, h.Seq, h.Nsec)
	}
	if len(strs[wire.StrType]) == 0 {
		return nil, fmt.Errorf("%w: event %d has an empty type", otelaudit.ErrMalformed, h.Seq)
	}
	return rest, nil
}

// appendAuditFields appends, as attribute fields tag, the audit fields of
// the replayed span format: the type, the sequence number, then each
// optional string that is not empty.
func appendAuditFields(b []byte, tag byte, h *wire.Header, strs *[wire.NumStrings][]byte) []byte {
	b = appendKV(b, tag, string(otelaudit.KeyEventType), strs[wire.StrType])
	b = appendIntKV(b, tag, string(otelaudit.KeyEventSeq), h.Seq)
	for _, o := range optionalKeys {
		if v := strs[o.str]; len(v) > 0 {
			b = appendKV(b, tag, o.key, v)
		}
	}
	return b
}

// appendAttrs appends, as attribute fields tag, the event's own attributes
// encoded in attrs (count first), in their order. It leaves out those
// with an empty key or a key reserved says the format owns, and returns
// how many it left out.
func appendAttrs(b []byte, tag byte, attrs []byte, reserved func([]byte) bool) ([]byte, uint64, error) {
	r := valueReader{b: attrs}
	n := r.count(2, "attribute count")
	dropped := uint64(0)
	for range n {
		key := r.str("attribute key")
		if len(key) == 0 || reserved(key) {
			var scratch [64]byte
			r.skipValue(scratch[:0])
			dropped++
			continue
		}
		var kv, vs int
		b, kv = openLen(append(b, tag))
		b = appendStrField(b, tagKVKey, key)
		b, vs = openLen(append(b, tagKVValue))
		b = r.value(b, 0)
		b = closeLen(closeLen(b, vs), kv)
	}
	switch {
	case r.err != nil:
		return b, dropped, r.err
	case len(r.b) != 0:
		return b, dropped, fmt.Errorf("%w: %d trailing bytes", otelaudit.ErrMalformed, len(r.b))
	}
	return b, dropped, nil
}

// appendKV appends an attribute field tag of a string value.
func appendKV(b []byte, tag byte, key string, v []byte) []byte {
	b, kv := openLen(append(b, tag))
	b = appendBytesField(b, tagKVKey, key)
	b, vs := openLen(append(b, tagKVValue))
	b = appendStrField(b, tagAnyString, v)
	return closeLen(closeLen(b, vs), kv)
}

// appendIntKV appends an attribute field tag of an int value.
func appendIntKV(b []byte, tag byte, key string, v uint64) []byte {
	b, kv := openLen(append(b, tag))
	b = appendBytesField(b, tagKVKey, key)
	b, vs := openLen(append(b, tagKVValue))
	b = appendVarintField(b, tagAnyInt, v)
	return closeLen(closeLen(b, vs), kv)
}
