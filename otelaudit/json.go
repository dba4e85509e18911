package otelaudit

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/internal/jsonstr"
)

// AppendJSON appends the JSON form of e to b, without a newline, for
// terminals and tools: <, > and & are written as they are. The auditz
// handler, the otelaudit CLI and evidence bundles all speak this form, so
// one jq filter reads any of them. It is
//
//	{"seq", "type", "time" (RFC 3339, ns, UTC), "trace_id", "span_id",
//	 "parent_span_id", "agent_id", "human_origin_id", "workflow_id",
//	 "node_id", "action", "resource", "outcome", "duration_ms",
//	 "attributes": [{"key", "type", "value"}, ...], "hash", "prev_hash"}
//
// with empty fields left out. Attributes are a list, not an object: every
// attribute is kept, in the order it was recorded, duplicate keys too (of
// two approved_by, neither hides the other). "type" is the attribute's
// kind (string, bool, int64, float64, bytes, string[], bool[], int64[],
// float64[], slice, map, empty), so that 1 and "1" and 1.0 stay apart;
// bytes are base64; floats JSON cannot hold are the strings "NaN",
// "Infinity", "-Infinity"; a slice's elements and a map's entries are
// written as values are ({"type", "value"} for a slice element, {"key",
// "type", "value"} for a map entry). jq's from_entries turns the list into
// an object when duplicates do not matter.
//
// Strings are written byte for byte when they are valid UTF-8; a byte that
// is not is written as the escape of a lone low surrogate, \udc80 to
// \udcff (Python's "surrogateescape"), so that two different byte strings
// never give the same JSON string, where encoding/json would turn both
// into U+FFFD. encoding/json reads the form back, with those surrogates
// as U+FFFD.
func (e *Event) AppendJSON(b []byte) []byte { return jsonEnc{}.event(b, e) }

// AppendJSONHTML is AppendJSON with <, > and & escaped (\u003c, ...), as
// encoding/json does by default: for answers a browser may be tricked into
// reading as something else than JSON.
func (e *Event) AppendJSONHTML(b []byte) []byte { return jsonEnc{html: true}.event(b, e) }

// jsonEnc writes the JSON form; html says whether <, > and & are escaped.
type jsonEnc struct{ html bool }

func (w jsonEnc) event(b []byte, e *Event) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = w.field(b, "type", string(e.Type), true)
	b = w.field(b, "time", e.Time.UTC().Format(time.RFC3339Nano), true)
	if e.TraceID.IsValid() {
		b = appendHexField(b, "trace_id", e.TraceID[:])
	}
	if e.SpanID.IsValid() {
		b = appendHexField(b, "span_id", e.SpanID[:])
	}
	if e.ParentSpanID.IsValid() {
		b = appendHexField(b, "parent_span_id", e.ParentSpanID[:])
	}
	b = w.field(b, "agent_id", e.AgentID, false)
	b = w.field(b, "human_origin_id", e.HumanOriginID, false)
	b = w.field(b, "workflow_id", e.WorkflowID, false)
	b = w.field(b, "node_id", e.NodeID, false)
	b = w.field(b, "action", e.Action, false)
	b = w.field(b, "resource", e.Resource, false)
	b = w.field(b, "outcome", string(e.Outcome), false)
	b = append(b, `,"duration_ms":`...)
	b = appendJSONFloat(b, float64(e.Duration)/float64(time.Millisecond))
	if len(e.Attributes) > 0 {
		b = append(b, `,"attributes":`...)
		b = w.attrs(b, e.Attributes)
	}
	b = appendHexField(b, "hash", e.Hash[:])
	b = appendHexField(b, "prev_hash", e.PrevHash[:])
	return append(b, '}')
}

// attrs appends kvs as the JSON list of {"key", "type", "value"}
// objects, in order.
func (w jsonEnc) attrs(b []byte, kvs []attribute.KeyValue) []byte {
	b = append(b, '[')
	for i := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = w.str(b, string(kvs[i].Key))
		b = w.typed(append(b, ','), &kvs[i].Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// typed appends `"type":T,"value":V` for v.
func (w jsonEnc) typed(b []byte, v *attribute.Value) []byte {
	b = append(b, `"type":"`...)
	b = append(b, jsonTypeName(v.Type())...)
	b = append(b, `","value":`...)
	return w.value(b, v)
}

func jsonTypeName(t attribute.Type) string {
	switch t {
	case attribute.BOOL:
		return "bool"
	case attribute.INT64:
		return "int64"
	case attribute.FLOAT64:
		return "float64"
	case attribute.STRING:
		return "string"
	case attribute.BOOLSLICE:
		return "bool[]"
	case attribute.INT64SLICE:
		return "int64[]"
	case attribute.FLOAT64SLICE:
		return "float64[]"
	case attribute.STRINGSLICE:
		return "string[]"
	case attribute.BYTESLICE:
		return "bytes"
	case attribute.SLICE:
		return "slice"
	case attribute.MAP:
		return "map"
	case attribute.EMPTY:
		return "empty"
	}
	return "unknown"
}

func (w jsonEnc) value(b []byte, v *attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return strconv.AppendBool(b, v.AsBool())
	case attribute.INT64:
		return strconv.AppendInt(b, v.AsInt64(), 10)
	case attribute.FLOAT64:
		return appendJSONFloat(b, v.AsFloat64())
	case attribute.STRING:
		return w.str(b, v.AsString())
	case attribute.BYTESLICE:
		src := v.AsByteSlice()
		b = append(b, '"')
		n := len(b)
		b = append(b, make([]byte, base64.StdEncoding.EncodedLen(len(src)))...)
		base64.StdEncoding.Encode(b[n:], src)
		return append(b, '"')
	case attribute.BOOLSLICE:
		return appendJSONList(b, v.AsBoolSlice(), strconv.AppendBool)
	case attribute.INT64SLICE:
		return appendJSONList(b, v.AsInt64Slice(), func(b []byte, x int64) []byte { return strconv.AppendInt(b, x, 10) })
	case attribute.FLOAT64SLICE:
		return appendJSONList(b, v.AsFloat64Slice(), appendJSONFloat)
	case attribute.STRINGSLICE:
		return appendJSONList(b, v.AsStringSlice(), w.str)
	case attribute.SLICE:
		b = append(b, '[')
		for i, x := range v.AsSlice() {
			if i > 0 {
				b = append(b, ',')
			}
			b = w.typed(append(b, '{'), &x)
			b = append(b, '}')
		}
		return append(b, ']')
	case attribute.MAP:
		return w.attrs(b, v.AsMap())
	case attribute.EMPTY:
		return append(b, "null"...)
	}
	// A kind newer than this code: OTel's own text form is still truthful.
	return w.str(b, v.Emit())
}

// appendJSONFloat writes f as encoding/json does, and the floats JSON cannot
// hold as the strings OTel's own Emit uses.
func appendJSONFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64)
}

func (w jsonEnc) field(b []byte, name, s string, always bool) []byte {
	if s == "" && !always {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return w.str(b, s)
}

func appendHexField(b []byte, name string, id []byte) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":"`...)
	n := len(b)
	b = append(b, make([]byte, 2*len(id))...)
	hex.Encode(b[n:], id)
	return append(b, '"')
}

// str appends s as a JSON string (package internal/jsonstr).
func (w jsonEnc) str(b []byte, s string) []byte {
	if w.html {
		return jsonstr.AppendHTML(b, s)
	}
	return jsonstr.Append(b, s)
}

// appendJSONList appends xs as a JSON array, each element by appendElem.
func appendJSONList[T any](b []byte, xs []T, appendElem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendElem(b, x)
	}
	return append(b, ']')
}
