// Package redact holds the text rules that the privacy policy (package
// otelaudit) and the span processor both apply, so that each is written
// once: what of a URL is a secret.
package redact

import "strings"

// URL returns raw without its user info, query string and fragment, which
// carry credentials, tokens and personal data (the semantic conventions
// keep the query in url.full; otelhttp strips only the user info), and
// whether it removed anything. Everything else is kept byte for byte: the
// result is a prefix of raw, or raw with its user info cut out, so nothing
// is re-encoded.
//
// It cuts text rather than parse: a URL that net/url refuses is cut the
// same way. The query and fragment start at the first '?' or '#'; the user
// info is what precedes the last '@' of the authority (between "//" and
// the next '/', '?' or '#'). Without "//", anything up to a last '@' is
// taken for user info too, at the risk of losing what looked like it
// (mailto:alice@example becomes example).
func URL(raw string) (string, bool) {
	s := raw
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	i := strings.Index(s, "//")
	if i < 0 {
		if at := strings.LastIndexByte(s, '@'); at >= 0 {
			s = s[at+1:]
		}
		return s, len(s) != len(raw)
	}
	auth := s[i+2:]
	if end := strings.IndexByte(auth, '/'); end >= 0 {
		auth = auth[:end]
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		s = s[:i+2] + s[i+2+at+1:]
	}
	return s, len(s) != len(raw)
}

// HasURLSecret reports whether URL would remove anything from s, without
// building the result.
func HasURLSecret(s string) bool {
	return strings.ContainsAny(s, "?#@")
}
