// Package jsonstr writes strings as JSON strings, for the JSON form of
// events (otelaudit's Event.AppendJSON) and for the other strings of the
// trail that the auditz handler answers with, so that both escape alike.
//
// Strings are written as they are held, byte for byte, when they are valid
// UTF-8. A byte that is not part of valid UTF-8 is written as the escape
// of a lone low surrogate, \udc80 to \udcff for the bytes 0x80 to 0xff (the
// convention of Python's "surrogateescape"). Valid UTF-8 never yields such
// a code point, so two different byte strings never give the same JSON
// string, where encoding/json would turn both into U+FFFD. JavaScript
// keeps the surrogates (the auditz page shows them as \xHH); Python's
// json.loads(...).encode("utf-8", "surrogateescape") gives the bytes back.
package jsonstr

import "unicode/utf8"

// Append appends s as a JSON string, for terminals and tools: <, > and &
// are written as they are.
func Append(b []byte, s string) []byte { return appendString(b, s, false) }

// AppendHTML is Append with <, > and & escaped (\u003c, ...), as
// encoding/json does by default: for answers a browser may be tricked into
// reading as something else than JSON.
func AppendHTML(b []byte, s string) []byte { return appendString(b, s, true) }

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, U+2028 and U+2029 escaped (they end lines in some
// JavaScript), <, > and & escaped with html, everything else valid written
// as it is, and every byte not part of valid UTF-8 as the escape of a lone
// low surrogate \udc80-\udcff, so that distinct byte strings stay distinct
// (see the package doc).
func appendString(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && !(html && (c == '<' || c == '>' || c == '&')) {
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
