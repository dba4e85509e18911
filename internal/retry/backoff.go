// Package retry holds the one backoff policy of the module: how long to
// wait before trying again a write or an export that failed. The Generator's
// store writer and the exporter's Stream both go by it, each with its own
// bounds.
package retry

import (
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff: each wait is twice the one before,
// at least Min and at most Max. With Jitter, each wait is drawn between
// half and all of that, so that many processes cut off by one outage do not
// retry in step; without it the waits are exact. The zero Backoff never
// waits.
type Backoff struct {
	Min, Max time.Duration
	Jitter   bool
}

// Next returns the wait after prev, the wait before (0 after a success).
func (b Backoff) Next(prev time.Duration) time.Duration {
	d := max(min(max(2*prev, b.Min), b.Max), 0)
	if !b.Jitter {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
