// Package jsonform is the JSON form of audit events, shared by the auditz
// HTTP handler and the otelaudit CLI so that both speak the same JSON (one
// jq filter reads either).
//
// An event is
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
// Strings are written as they are held, byte for byte, when they are valid
// UTF-8. A byte that is not part of valid UTF-8 is written as the escape
// of a lone low surrogate, \udc80 to \udcff for the bytes 0x80 to 0xff (the
// convention of Python's "surrogateescape"). Valid UTF-8 never yields such
// a code point, so two different byte strings never give the same JSON
// string, where encoding/json would turn both into U+FFFD. JavaScript
// keeps the surrogates (the auditz page shows them as \xHH); Python's
// json.loads(...).encode("utf-8", "surrogateescape") gives the bytes back.
package jsonform

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Event is the JSON form of an otelaudit.Event, for reading it back
// (encoding/json decodes it; the lone surrogates of invalid bytes become
// U+FFFD there). AppendEvent writes it.
type Event struct {
	Seq           uint64      `json:"seq"`
	Type          string      `json:"type"`
	Time          string      `json:"time"`
	TraceID       string      `json:"trace_id,omitempty"`
	SpanID        string      `json:"span_id,omitempty"`
	ParentSpanID  string      `json:"parent_span_id,omitempty"`
	AgentID       string      `json:"agent_id,omitempty"`
	HumanOriginID string      `json:"human_origin_id,omitempty"`
	WorkflowID    string      `json:"workflow_id,omitempty"`
	NodeID        string      `json:"node_id,omitempty"`
	Action        string      `json:"action,omitempty"`
	Resource      string      `json:"resource,omitempty"`
	Outcome       string      `json:"outcome,omitempty"`
	DurationMS    float64     `json:"duration_ms"`
	Attributes    []Attribute `json:"attributes,omitempty"`
	Hash          string      `json:"hash"`
	PrevHash      string      `json:"prev_hash"`
}

// Attribute is one attribute in the JSON form.
type Attribute struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// AppendEvent appends the JSON form of e to b, without a newline, for
// terminals and tools: <, > and & are written as they are.
func AppendEvent(b []byte, e *otelaudit.Event) []byte { return enc{}.event(b, e) }

// AppendEventHTML is AppendEvent with <, > and & escaped (\u003c, ...), as
// encoding/json does by default: for answers a browser may be tricked into
// reading as something else than JSON.
func AppendEventHTML(b []byte, e *otelaudit.Event) []byte { return enc{html: true}.event(b, e) }

// AppendString appends s as a JSON string (see enc.str), without escaping
// <, > and &.
func AppendString(b []byte, s string) []byte { return enc{}.str(b, s) }

// AppendStringHTML is AppendString with <, > and & escaped.
func AppendStringHTML(b []byte, s string) []byte { return enc{html: true}.str(b, s) }

// enc writes the JSON form; html says whether <, > and & are escaped.
type enc struct{ html bool }

func (w enc) event(b []byte, e *otelaudit.Event) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = w.field(b, "type", string(e.Type), true)
	b = w.field(b, "time", e.Time.UTC().Format(time.RFC3339Nano), true)
	if e.TraceID.IsValid() {
		b = hexField(b, "trace_id", e.TraceID[:])
	}
	if e.SpanID.IsValid() {
		b = hexField(b, "span_id", e.SpanID[:])
	}
	if e.ParentSpanID.IsValid() {
		b = hexField(b, "parent_span_id", e.ParentSpanID[:])
	}
	b = w.field(b, "agent_id", e.AgentID, false)
	b = w.field(b, "human_origin_id", e.HumanOriginID, false)
	b = w.field(b, "workflow_id", e.WorkflowID, false)
	b = w.field(b, "node_id", e.NodeID, false)
	b = w.field(b, "action", e.Action, false)
	b = w.field(b, "resource", e.Resource, false)
	b = w.field(b, "outcome", string(e.Outcome), false)
	b = append(b, `,"duration_ms":`...)
	b = appendFloat(b, float64(e.Duration)/float64(time.Millisecond))
	if len(e.Attributes) > 0 {
		b = append(b, `,"attributes":`...)
		b = w.attrs(b, e.Attributes)
	}
	b = hexField(b, "hash", e.Hash[:])
	b = hexField(b, "prev_hash", e.PrevHash[:])
	return append(b, '}')
}

// attrs appends kvs as the JSON list of {"key", "type", "value"}
// objects, in order.
func (w enc) attrs(b []byte, kvs []attribute.KeyValue) []byte {
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

// appendTyped appends `"type":T,"value":V` for v.
func (w enc) typed(b []byte, v *attribute.Value) []byte {
	b = append(b, `"type":"`...)
	b = append(b, typeName(v.Type())...)
	b = append(b, `","value":`...)
	return w.value(b, v)
}

func typeName(t attribute.Type) string {
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

func (w enc) value(b []byte, v *attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return strconv.AppendBool(b, v.AsBool())
	case attribute.INT64:
		return strconv.AppendInt(b, v.AsInt64(), 10)
	case attribute.FLOAT64:
		return appendFloat(b, v.AsFloat64())
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
		return appendList(b, v.AsBoolSlice(), strconv.AppendBool)
	case attribute.INT64SLICE:
		return appendList(b, v.AsInt64Slice(), func(b []byte, x int64) []byte { return strconv.AppendInt(b, x, 10) })
	case attribute.FLOAT64SLICE:
		return appendList(b, v.AsFloat64Slice(), appendFloat)
	case attribute.STRINGSLICE:
		return appendList(b, v.AsStringSlice(), w.str)
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

// appendFloat writes f as encoding/json does, and the floats JSON cannot
// hold as the strings OTel's own Emit uses.
func appendFloat(b []byte, f float64) []byte {
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

func (w enc) field(b []byte, name, s string, always bool) []byte {
	if s == "" && !always {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return w.str(b, s)
}

func hexField(b []byte, name string, id []byte) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, `":"`...)
	n := len(b)
	b = append(b, make([]byte, 2*len(id))...)
	hex.Encode(b[n:], id)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// str appends s as a JSON string: quotes, backslashes and control
// characters escaped, U+2028 and U+2029 escaped (they end lines in some
// JavaScript), <, > and & escaped with html, everything else valid written
// as it is, and every byte not part of valid UTF-8 as the escape of a lone
// low surrogate \udc80-\udcff, so that distinct byte strings stay distinct
// (see the package doc).
func (w enc) str(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && !(w.html && (c == '<' || c == '>' || c == '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', 'd', 'c', hexDigits[c>>4], hexDigits[c&0xf])
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendList appends xs as a JSON array, each element by appendElem.
func appendList[T any](b []byte, xs []T, appendElem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendElem(b, x)
	}
	return append(b, ']')
}
