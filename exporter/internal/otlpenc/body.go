package otlpenc

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// MaxBodyPart bounds each field quoted in a log record's body: the body is
// a line for people, the attributes carry every field whole.
const MaxBodyPart = 256

// AppendBody appends the body of an event's log record (see
// exporter.LogBody): "<type>: <action> on <resource> (<outcome>)", the
// empty parts left out, each part escaped and cut to MaxBodyPart bytes.
func AppendBody(b, typ, action, resource, outcome []byte) []byte {
	b = appendBodyPart(b, typ)
	switch {
	case len(action) > 0 && len(resource) > 0:
		b = append(b, ": "...)
		b = appendBodyPart(b, action)
		b = append(b, " on "...)
		b = appendBodyPart(b, resource)
	case len(action) > 0:
		b = append(b, ": "...)
		b = appendBodyPart(b, action)
	case len(resource) > 0:
		b = append(b, ": "...)
		b = appendBodyPart(b, resource)
	}
	if len(outcome) > 0 {
		b = append(b, " ("...)
		b = appendBodyPart(b, outcome)
		b = append(b, ")"...)
	}
	return b
}

// appendBodyPart appends s escaped, and cut to MaxBodyPart bytes of
// output: control characters, line and paragraph separators, format
// characters and invalid UTF-8 are escaped, so that a field set by a
// caller cannot forge a second line in a line-oriented log store.
func appendBodyPart(b, s []byte) []byte {
	if len(s) <= MaxBodyPart && printableASCII(s) {
		return append(b, s...) // the usual case, nothing to escape or cut
	}
	const hex = "0123456789abcdef"
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		piece := string(s[i : i+size])
		switch {
		case r == utf8.RuneError && size == 1:
			piece = `\x` + hex[s[i]>>4:s[i]>>4+1] + hex[s[i]&0xf:s[i]&0xf+1]
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r):
			// Line breaks, and the format characters (bidirectional
			// overrides among them) that change how a line reads.
			q := strconv.QuoteRuneToASCII(r)
			piece = q[1 : len(q)-1]
		}
		if n+len(piece) > MaxBodyPart {
			return append(b, "…"...)
		}
		b = append(b, piece...)
		n += len(piece)
		i += size
	}
	return b
}

func printableASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
