package store

import "time"

// DefaultLockTimeout is how long Open waits for another process to release
// the store's file lock before failing with ErrInUse.
const DefaultLockTimeout = time.Second

type config struct {
	readOnly    bool
	lockTimeout time.Duration
	maxAge      time.Duration
	maxEvents   uint64
	now         func() time.Time
}

func newConfig(opts []Option) config {
	c := config{lockTimeout: DefaultLockTimeout, now: time.Now}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	return c
}

// Option configures Open.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithReadOnly opens the store for reading only: the file must exist, it is
// never changed, and other readers may share it (not a writer). A store
// whose chain does not verify opens anyway; Open's caller finds the failure
// in VerifyError and Verify.
func WithReadOnly() Option {
	return optionFunc(func(c config) config {
		c.readOnly = true
		return c
	})
}

// WithLockTimeout bounds how long Open waits for the file lock held by
// another process; zero or less keeps DefaultLockTimeout.
func WithLockTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config {
		if d > 0 {
			c.lockTimeout = d
		}
		return c
	})
}

// WithRetention removes the oldest events once they are older than maxAge
// or once more than maxEvents are stored (zero: no bound of that kind).
// Removal runs with each Write, a bounded number of events at a time, and
// by Prune; the last event removed becomes the anchor, so the rest still
// verifies. Age is by event Time, oldest Seq first: removal stops at the
// first event young enough, even if an older-stamped one follows it.
func WithRetention(maxAge time.Duration, maxEvents int) Option {
	return optionFunc(func(c config) config {
		c.maxAge = max(maxAge, 0)
		c.maxEvents = uint64(max(maxEvents, 0))
		return c
	})
}
