package otelaudit

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit-go/internal/wire"
)

// Events larger than the event size cap (WithMaxEventSize) are cut to it
// before they are encoded, and say so: AttrTruncated lists what was cut
// (each field or attribute, its size and what was kept of it), and
// Stats.Cut counts such events. Nothing is refused for its size: an audit
// event with a megabyte attribute is still the record of an action.
//
// The cut is fair and deterministic: every cuttable part (the string
// fields and each attribute's value) keeps up to one threshold, the
// largest that makes the event fit, so small parts are kept whole and only
// the largest are cut. Strings are cut on a UTF-8 boundary, slices by
// their last elements; a slice or map of values becomes the text of its
// first bytes. Keys longer than maxKeySize are cut to it, and when the
// attributes alone are too many to fit, the last ones are dropped.

// DefaultMaxEventSize is the largest encoding of an event a Generator holds
// unless WithMaxEventSize says otherwise: 64 KiB, some hundred times a
// typical audit event.
const DefaultMaxEventSize = 64 << 10

// MinMaxEventSize is the smallest cap WithMaxEventSize takes: room for the
// fields, some attributes and the note of what was cut.
const MinMaxEventSize = 16 << 10

// WithMaxEventSize sets the event size cap: an event whose encoding (see
// Event.MarshalBinary) is larger is cut to it, and says what was cut (see
// AttrTruncated); Stats.Cut counts such events. n <= 0 keeps
// DefaultMaxEventSize; n below MinMaxEventSize is raised to it. The byte
// budget (WithMaxBytes) is raised to at least 4 events of this size.
func WithMaxEventSize(n int) Option {
	return optionFunc(func(c config) config {
		if n > 0 {
			c.maxEvent = max(n, MinMaxEventSize)
		}
		return c
	})
}

// maxKeySize bounds an attribute key: longer keys are cut to it.
const maxKeySize = 256

// noteRoom is the room kept for AttrTruncated: maxNotes entries of at most
// maxNoteKey bytes and some words each.
const noteRoom = maxNotes*(maxNoteKey+48) + 64

// mayExceed reports whether the encoding of e could be larger than half
// of limit, judging by its strings alone: a few additions per attribute.
// When it says no, the encoding is still checked (values of other kinds
// are not counted), after it is made.
func mayExceed(e *Event, limit int) bool {
	n := wire.HeaderSize + 8*wire.NumStrings + len(e.Type) + len(e.Outcome) + len(e.AgentID) + len(e.HumanOriginID) +
		len(e.WorkflowID) + len(e.NodeID) + len(e.Action) + len(e.Resource)
	for i := range e.Attributes {
		kv := &e.Attributes[i]
		n += len(kv.Key) + 20
		if kv.Value.Type() == attribute.STRING {
			n += len(kv.Value.AsString())
		}
	}
	return n > limit/2
}

// encodedSize is the length of appendEvent's output for e, computed
// without encoding it.
func encodedSize(e *Event) int {
	n := wire.HeaderSize
	for _, s := range fieldStrings(e) {
		n += strSize(len(*s))
	}
	n += uvarintSize(uint64(len(e.Attributes)))
	for i := range e.Attributes {
		n += strSize(len(e.Attributes[i].Key)) + valueSize(&e.Attributes[i].Value)
	}
	return n
}

// fieldStrings are e's string fields in encoding order, and their names in
// the JSON form.
func fieldStrings(e *Event) [wire.NumStrings]*string {
	return [wire.NumStrings]*string{(*string)(&e.Type), (*string)(&e.Outcome), &e.AgentID, &e.HumanOriginID,
		&e.WorkflowID, &e.NodeID, &e.Action, &e.Resource}
}

var fieldNames = [wire.NumStrings]string{"type", "outcome", "agent_id", "human_origin_id", "workflow_id", "node_id", "action", "resource"}

func uvarintSize(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func strSize(n int) int { return uvarintSize(uint64(n)) + n }

// valueSize is the length of appendValue's output for v.
func valueSize(v *attribute.Value) int {
	switch v.Type() {
	case attribute.BOOL:
		return 2
	case attribute.INT64, attribute.FLOAT64:
		return 9
	case attribute.STRING:
		return 1 + strSize(len(v.AsString()))
	case attribute.BYTESLICE:
		return 1 + strSize(len(v.AsByteSlice()))
	case attribute.BOOLSLICE:
		k := len(v.AsBoolSlice())
		return 1 + uvarintSize(uint64(k)) + k
	case attribute.INT64SLICE:
		k := len(v.AsInt64Slice())
		return 1 + uvarintSize(uint64(k)) + 8*k
	case attribute.FLOAT64SLICE:
		k := len(v.AsFloat64Slice())
		return 1 + uvarintSize(uint64(k)) + 8*k
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		n := 1 + uvarintSize(uint64(len(s)))
		for _, x := range s {
			n += strSize(len(x))
		}
		return n
	case attribute.SLICE:
		s := v.AsSlice()
		n := 1 + uvarintSize(uint64(len(s)))
		for i := range s {
			n += valueSize(&s[i])
		}
		return n
	case attribute.MAP:
		m := v.AsMap()
		n := 1 + uvarintSize(uint64(len(m)))
		for i := range m {
			n += strSize(len(m[i].Key)) + valueSize(&m[i].Value)
		}
		return n
	}
	return 1
}

// payloadSize is the part of a value's encoding that cutting can shrink;
// 0 for scalars.
func payloadSize(v *attribute.Value) int {
	switch v.Type() {
	case attribute.BOOL, attribute.INT64, attribute.FLOAT64, attribute.EMPTY:
		return 0
	case attribute.STRING:
		return len(v.AsString())
	case attribute.BYTESLICE:
		return len(v.AsByteSlice())
	}
	return valueSize(v) - 1
}

// cutString returns a prefix of s of at most n bytes that does not end
// inside a UTF-8 sequence: if the byte at n continues a rune begun before
// it, the cut moves back to that rune's start.
func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// cutValue returns v cut to a payload of at most n bytes, and that payload.
func cutValue(v attribute.Value, n int) (attribute.Value, int) {
	switch v.Type() {
	case attribute.STRING:
		s := cutString(v.AsString(), n)
		return attribute.StringValue(s), len(s)
	case attribute.BYTESLICE:
		b := v.AsByteSlice()
		b = b[:min(len(b), n)]
		return attribute.ByteSliceValue(b), len(b)
	case attribute.BOOLSLICE:
		s := v.AsBoolSlice()
		s = s[:min(len(s), n)]
		return attribute.BoolSliceValue(s), len(s)
	case attribute.INT64SLICE:
		s := v.AsInt64Slice()
		s = s[:min(len(s), n/8)]
		return attribute.Int64SliceValue(s), 8 * len(s)
	case attribute.FLOAT64SLICE:
		s := v.AsFloat64Slice()
		s = s[:min(len(s), n/8)]
		return attribute.Float64SliceValue(s), 8 * len(s)
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		used := 0
		for i, x := range s {
			need := strSize(len(x))
			if used+need <= n {
				used += need
				continue
			}
			room := n - used - uvarintSize(uint64(n-used))
			if room > 0 {
				s[i] = cutString(x, room)
				used += strSize(len(s[i]))
				i++
			}
			s = s[:i]
			break
		}
		return attribute.StringSliceValue(s), used
	}
	// Slices and maps of values: their text, cut.
	s := cutString(v.Emit(), n)
	return attribute.StringValue(s), len(s)
}

// truncate cuts e, whose encoding is size bytes, to at most limit bytes,
// and adds AttrTruncated saying what it cut. e's attribute slice is not
// written to: a new one is made.
func truncate(e *Event, size, limit int) {
	var notes noteList
	attrs := slices.Clone(e.Attributes)
	// Keys first: a hostile key is no key anyone queries by.
	for i := range attrs {
		if k := string(attrs[i].Key); len(k) > maxKeySize {
			attrs[i].Key = attribute.Key(cutString(k, maxKeySize))
			notes.add(fmt.Sprintf("%s (key): %d bytes, cut to %d", shortKey(k), len(k), len(attrs[i].Key)))
		}
	}
	budget := limit - noteRoom - wire.HeaderSize - 8*uvarintSize(uint64(limit))
	// What no cut can shrink: each attribute's key, kind and lengths, and
	// its scalar payload. When that alone takes more than three quarters
	// of the budget, the last attributes go.
	fixed := func(kv *attribute.KeyValue) int {
		return strSize(len(kv.Key)) + valueSize(&kv.Value) - payloadSize(&kv.Value)
	}
	total := uvarintSize(uint64(len(attrs)))
	for i := range attrs {
		total += fixed(&attrs[i])
	}
	if total > budget*3/4 {
		n := len(attrs)
		for len(attrs) > 0 && total > budget*3/4 {
			total -= fixed(&attrs[len(attrs)-1])
			attrs = attrs[:len(attrs)-1]
		}
		notes.add(fmt.Sprintf("attributes: %d of %d dropped", n-len(attrs), n))
	}
	budget -= total
	// The cuttable parts: the string fields, then each attribute's value.
	fields := fieldStrings(e)
	sizes := make([]int, 0, len(fields)+len(attrs))
	for _, s := range fields {
		sizes = append(sizes, len(*s))
	}
	for i := range attrs {
		sizes = append(sizes, payloadSize(&attrs[i].Value))
	}
	t := threshold(sizes, budget)
	for i, s := range fields {
		if len(*s) > t {
			orig := len(*s)
			*s = cutString(*s, t)
			notes.add(fmt.Sprintf("%s: %d bytes, cut to %d", fieldNames[i], orig, len(*s)))
		}
	}
	for i := range attrs {
		if sizes[len(fields)+i] > t {
			orig := sizes[len(fields)+i]
			v, kept := cutValue(attrs[i].Value, t)
			attrs[i].Value = v
			notes.add(fmt.Sprintf("%s: %d bytes, cut to %d", shortKey(string(attrs[i].Key)), orig, kept))
		}
	}
	if notes.n == 0 {
		// The size came from lengths' prefixes alone: say so rather than
		// nothing.
		notes.add(fmt.Sprintf("event: %d bytes", size))
	}
	e.Attributes = append(attrs, attribute.StringSlice(AttrTruncated, notes.list()))
	if encodedSize(e) > limit {
		// Not reachable with the budget above; should it ever be, the
		// event still fits and says it was cut.
		for _, s := range fields {
			*s = cutString(*s, 1024)
		}
		e.Attributes = []attribute.KeyValue{attribute.StringSlice(AttrTruncated, []string{fmt.Sprintf("event: %d bytes, attributes dropped", size)})}
	}
}

// threshold returns the largest t such that the sizes, each cut to t, sum
// to at most budget (a t at least the largest size when they fit as they
// are).
func threshold(sizes []int, budget int) int {
	sorted := slices.Clone(sizes)
	slices.Sort(sorted)
	left := max(budget, 0)
	for i, s := range sorted {
		rest := len(sorted) - i
		if s*rest > left {
			return left / rest
		}
		left -= s
	}
	if len(sorted) == 0 {
		return 0
	}
	return sorted[len(sorted)-1]
}
