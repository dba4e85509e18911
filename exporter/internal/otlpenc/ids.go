package otlpenc

import (
	"encoding/binary"
	"hash/fnv"
)

// Domain tags of the replayed IDs (see exporter.SpanID): part of the
// format, as every replayed ID depends on them.
const (
	spanIDDomain  = "otelaudit/replay-span-id/v1"
	traceIDDomain = "otelaudit/replay-trace-id/v1"
)

// Fallbacks for an all-zero hash, which would be an invalid ID.
var (
	fallbackSpanID  = [8]byte{0x6f, 0x74, 0x65, 0x6c, 0x61, 0x75, 0x64, 0x74}
	fallbackTraceID = [16]byte{0x6f, 0x74, 0x65, 0x6c, 0x61, 0x75, 0x64, 0x74, 0x72, 0x65, 0x70, 0x6c, 0x61, 0x79, 0x00, 0x01}
)

// Identity is what tells one recorded event from another, the input of
// the replayed IDs.
type Identity struct {
	TraceID  [16]byte
	SpanID   [8]byte
	Seq      uint64
	Type     []byte
	UnixNano int64
}

// appendIdentity appends the byte string both derivations hash.
func appendIdentity(b []byte, domain string, id *Identity) []byte {
	b = append(b, domain...)
	b = append(b, 0)
	b = append(b, id.TraceID[:]...)
	b = append(b, id.SpanID[:]...)
	b = binary.BigEndian.AppendUint64(b, id.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(len(id.Type)))
	b = append(b, id.Type...)
	return binary.BigEndian.AppendUint64(b, uint64(id.UnixNano)) //nolint:gosec // bit pattern only
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnv64 continues FNV-1a 64 from h over b.
func fnv64[T []byte | string](h uint64, b T) uint64 {
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= fnvPrime64
	}
	return h
}

// SpanID returns the replayed span ID of the event id names: FNV-1a 64 of
// its identity, big endian, never zero.
func SpanID(id *Identity) [8]byte {
	var fixed [24]byte
	h := fnv64(fnvOffset64, spanIDDomain+"\x00")
	h = fnv64(h, id.TraceID[:])
	h = fnv64(h, id.SpanID[:])
	binary.BigEndian.PutUint64(fixed[:8], id.Seq)
	binary.BigEndian.PutUint64(fixed[8:16], uint64(len(id.Type)))
	h = fnv64(h, fixed[:16])
	h = fnv64(h, id.Type)
	binary.BigEndian.PutUint64(fixed[16:24], uint64(id.UnixNano)) //nolint:gosec // bit pattern only
	h = fnv64(h, fixed[16:24])
	var out [8]byte
	binary.BigEndian.PutUint64(out[:], h)
	if out == ([8]byte{}) {
		return fallbackSpanID
	}
	return out
}

// TraceID returns the replayed trace ID of the event id names: its own
// when valid (non-zero), else FNV-1a 128 of its identity, never zero.
func TraceID(id *Identity) [16]byte {
	if id.TraceID != ([16]byte{}) {
		return id.TraceID
	}
	h := fnv.New128a()
	_, _ = h.Write(appendIdentity(nil, traceIDDomain, id))
	var out [16]byte
	copy(out[:], h.Sum(nil))
	if out == ([16]byte{}) {
		return fallbackTraceID
	}
	return out
}
