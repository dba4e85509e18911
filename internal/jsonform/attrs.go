package jsonform

import (
	"math"

	"go.opentelemetry.io/otel/attribute"
)

// Map returns kvs as a JSON object. OTel says the last value of a repeated
// key wins, and so does Map.
func Map(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = Value(kv.Value)
	}
	return m
}

// Value turns an attribute value into something encoding/json writes
// faithfully. Floats JSON cannot hold (NaN, ±Inf) become the strings OTel's
// own Emit uses, because encoding/json would refuse the whole document.
// Byte slices become base64 strings, as encoding/json writes []byte.
func Value(v attribute.Value) any {
	switch v.Type() {
	case attribute.FLOAT64:
		return float(v.AsFloat64())
	case attribute.FLOAT64SLICE:
		fs := v.AsFloat64Slice()
		out := make([]any, len(fs))
		for i, f := range fs {
			out[i] = float(f)
		}
		return out
	case attribute.SLICE:
		vs := v.AsSlice()
		out := make([]any, len(vs))
		for i, x := range vs {
			out[i] = Value(x)
		}
		return out
	case attribute.MAP:
		return Map(v.AsMap())
	case attribute.BOOL, attribute.INT64, attribute.STRING, attribute.BOOLSLICE,
		attribute.INT64SLICE, attribute.STRINGSLICE, attribute.BYTESLICE, attribute.EMPTY:
		return v.AsInterface()
	}
	// A kind newer than this code: OTel's own text form is still truthful.
	return v.Emit()
}

func float(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}
