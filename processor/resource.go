package processor

import (
	"net"
	"strings"

	"github.com/otelaudit/otelaudit-go/internal/redact"
)

// urlResource is the Resource of an HTTP call: scheme, host, port and path
// of the URL, never its user info, query string or fragment, which carry
// credentials, tokens and personal data (semconv keeps the query in
// url.full; otelhttp strips only the user info). The Generator's Policy
// cuts url.full itself by the same rule (package redact).
func urlResource(raw string) string {
	u, _ := redact.URL(raw)
	return u
}

// composeURL is the Resource of an HTTP call without url.full (server
// spans, older instrumentations): scheme://host:port/path, leaving out
// what is unknown.
func composeURL(scheme, host, port, path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if host == "" {
		return path
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	if scheme == "" {
		return "//" + host + path
	}
	return scheme + "://" + host + path
}

// locator is the Resource of a database or messaging call, in URL form:
// system://host:port/namespace/collection, or system:namespace/collection
// where there is no server (SQLite, an embedded broker); fallback stands
// for an unknown system.
func locator(system, fallback, host, port, namespace, collection string) string {
	if system == "" {
		system = fallback
	}
	rest := namespace
	switch {
	case rest == "":
		rest = collection
	case collection != "":
		rest += "/" + collection
	}
	if host == "" {
		if rest == "" {
			return system
		}
		return system + ":" + rest
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	if rest == "" {
		return system + "://" + host
	}
	return system + "://" + host + "/" + rest
}

// cutWord splits a db.query.summary ("SELECT orders") into its operation
// and its first target.
func cutWord(s string) (first, second string) {
	first, rest, _ := strings.Cut(strings.TrimSpace(s), " ")
	second, _, _ = strings.Cut(strings.TrimSpace(rest), " ")
	return first, second
}
