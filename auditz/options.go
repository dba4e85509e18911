package auditz

import "net/http"

// DefaultMaxLimit is the most events, or problem traces, one response
// carries unless WithMaxLimit says otherwise. A thousand events is a large
// trace that still renders as a readable timeline and encodes in a few
// milliseconds.
const DefaultMaxLimit = 1000

// DefaultLimit is how many events or problem traces a request that gives no
// limit gets: one screen's worth.
const DefaultLimit = 100

// DefaultScanWindow is how many of the newest events the problem list, and
// the event list when it is filtered by none of type, agent and user, look
// at. Those filters have no index to use, so the window is what bounds
// their cost.
const DefaultScanWindow = 10_000

// DefaultMaxResponseBytes is the most bytes of JSON one answer with
// events holds unless WithMaxResponseBytes says otherwise: 4 MiB, some
// thousands of ordinary events, and room for dozens of events at the
// Generator's default size cap even when every byte of them needs an
// escape.
const DefaultMaxResponseBytes = 4 << 20

// minMaxResponseBytes is the least WithMaxResponseBytes takes.
const minMaxResponseBytes = 64 << 10

type config struct {
	auth       func(*http.Request) bool
	maxLimit   int
	scanWindow int
	maxBytes   int
	evidence   Prover // see WithEvidence
}

func newConfig(opts []Option) config {
	c := config{maxLimit: DefaultMaxLimit, scanWindow: DefaultScanWindow, maxBytes: DefaultMaxResponseBytes}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	if c.scanWindow < c.maxLimit {
		// A window smaller than a response could never fill it.
		c.scanWindow = c.maxLimit
	}
	return c
}

// Option configures the handler NewHandler returns.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithAuth makes the handler ask allow about every request before answering
// it; a request allow refuses gets 403 Forbidden and nothing else. Use it to
// check a token, a client certificate or the caller's address when the admin
// port is not private enough. A nil allow lets every request through, as
// does not giving the option.
func WithAuth(allow func(*http.Request) bool) Option {
	return optionFunc(func(c config) config {
		c.auth = allow
		return c
	})
}

// WithMaxLimit sets the most events (or problem traces) one response
// carries; a request's limit above it is lowered to it, and a trace with
// more events is cut to its oldest n, with "truncated" set. n <= 0 keeps
// DefaultMaxLimit.
func WithMaxLimit(n int) Option {
	return optionFunc(func(c config) config {
		if n > 0 {
			c.maxLimit = n
		}
		return c
	})
}

// WithScanWindow sets how many of the newest events the problem list, and
// the event list when filtered by none of type, agent and user, look at. It is
// never less than the max limit. n <= 0 keeps DefaultScanWindow.
func WithScanWindow(n int) Option {
	return optionFunc(func(c config) config {
		if n > 0 {
			c.scanWindow = n
		}
		return c
	})
}

// WithMaxResponseBytes caps the JSON one answer with events builds
// (/api/trace, /api/events): the events that would pass the cap are left
// out, and the answer says "capped": true. n <= 0 keeps
// DefaultMaxResponseBytes; below 64 KiB it is 64 KiB. The cap bounds the
// memory one request takes, whatever the limit and the events' sizes.
func WithMaxResponseBytes(n int) Option {
	return optionFunc(func(c config) config {
		if n > 0 {
			c.maxBytes = max(n, minMaxResponseBytes)
		}
		return c
	})
}
