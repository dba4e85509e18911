// Package redact holds the text rules that the privacy policy (package
// otelaudit) and the span processor both apply, so that each is written
// once: what of a URL is a secret.
package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// URL returns raw without its user info, query string and fragment, which
// carry credentials, tokens and personal data (the semantic conventions
// keep the query in url.full; otelhttp strips only the user info), and
// whether it removed anything. Everything else is kept byte for byte: the
// result is a prefix of raw, or raw with its user info cut out, so nothing
// is re-encoded.
//
// It cuts text rather than parse: a URL that net/url refuses is cut the
// same way. The query and fragment start at the first '?' or '#'. The
// authority starts after a leading "//" or after "scheme://", and ends at
// the next '/'; its user info is what precedes its last '@'. A path
// ("/users/@alice", a URL with neither) has no user info: its '@' are
// kept. In anything else, anything up to a last '@' is taken for user info,
// at the risk of losing what looked like it (mailto:alice@example becomes
// example).
func URL(raw string) (string, bool) {
	s := raw
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	switch start := authority(s); {
	case start >= 0:
		auth := s[start:]
		if end := strings.IndexByte(auth, '/'); end >= 0 {
			auth = auth[:end]
		}
		if at := strings.LastIndexByte(auth, '@'); at >= 0 {
			s = s[:start] + s[start+at+1:]
		}
	case strings.HasPrefix(s, "/"):
	default:
		if at := strings.LastIndexByte(s, '@'); at >= 0 {
			s = s[at+1:]
		}
	}
	return s, len(s) != len(raw)
}

// authority returns where the authority of URL s starts: after a leading
// "//", or after the "//" that follows its scheme; -1 when it has none.
func authority(s string) int {
	if strings.HasPrefix(s, "//") {
		return 2
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 || !strings.HasPrefix(s[i+1:], "//") || !scheme(s[:i]) {
		return -1
	}
	return i + 3
}

// scheme reports whether s is a URL scheme: a letter, then letters,
// digits, '+', '-' or '.' (RFC 3986, section 3.1).
func scheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.'):
		default:
			return false
		}
	}
	return len(s) > 0
}

// IsURL reports whether s is a URL reference whose secrets URL cuts: one
// with a scheme and an authority ("https://", "s3://"), one that starts
// with '/' (a path, or "//host"), or one with a query or fragment after a
// '/' ("api.example/v1?token=...", "\"/v1?token=...\""). Other text
// ("alice@example.com", "approve?") is not taken for one.
func IsURL(s string) bool {
	if strings.HasPrefix(s, "/") || strings.Contains(s, "://") {
		return true
	}
	i := strings.IndexAny(s, "?#")
	return i > 0 && strings.IndexByte(s[:i], '/') >= 0
}

// Text returns s with each of its words (separated by white space, as
// unicode.IsSpace has it) that
// IsURL cut by URL, and whether it removed anything: the URLs and paths
// in a sentence ("GET /search?q=...", "fetch https://...") lose their
// secrets, the rest of the text and its spacing stay as they are.
func Text(s string) (string, bool) {
	if !HasURLSecret(s) {
		return s, false
	}
	var b strings.Builder
	cut := false
	for i := 0; i < len(s); {
		j := i
		for j < len(s) {
			if n := space(s[j:]); n > 0 {
				break
			}
			j++
		}
		w := s[i:j]
		if IsURL(w) {
			if u, c := URL(w); c {
				if !cut {
					b.Grow(len(s))
					b.WriteString(s[:i])
					cut = true
				}
				w = u
			}
		}
		k := j
		for k < len(s) {
			n := space(s[k:])
			if n == 0 {
				break
			}
			k += n
		}
		if cut {
			b.WriteString(w)
			b.WriteString(s[j:k])
		}
		i = k
	}
	if !cut {
		return s, false
	}
	return b.String(), true
}

// space returns the length of the white space (Unicode's, U+00A0 and
// U+3000 included) that s starts with, 0 if it starts with none.
func space(s string) int {
	if c := s[0]; c < utf8.RuneSelf {
		if c == ' ' || c >= '\t' && c <= '\r' {
			return 1
		}
		return 0
	}
	r, n := utf8.DecodeRuneInString(s)
	if unicode.IsSpace(r) {
		return n
	}
	return 0
}

// HasURLSecret reports whether URL would remove anything from s, without
// building the result.
func HasURLSecret(s string) bool {
	return strings.ContainsAny(s, "?#@")
}
