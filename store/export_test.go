package store

import "time"

// WithClock makes retention read now from fn; tests only.
func WithClock(fn func() time.Time) Option {
	return optionFunc(func(c config) config {
		c.now = fn
		return c
	})
}
