package store

import (
	"crypto/ed25519"
	"fmt"
	"time"
)

// DefaultLockTimeout is how long Open waits for another process to release
// the store's file lock before failing with ErrInUse.
const DefaultLockTimeout = time.Second

type config struct {
	readOnly    bool
	lockTimeout time.Duration
	maxAge      time.Duration
	maxEvents   uint64
	pub         ed25519.PublicKey
	pubErr      error // a WithPublicKey key of the wrong size
	adopt       bool
	now         func() time.Time
	fullVerify  bool
	noTree      bool // benchmarks only: see WithoutTree in export_test.go
	unchecked   bool // benchmarks only: see WithoutReadChecks in export_test.go
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

// WithPublicKey is the public half of the key the trail's writer signs with
// (otelaudit.WithSigningKey). Open then refuses, with an error wrapping
// ErrUnsigned and naming the first event past it, a store whose head that
// key did not sign: events appended by anyone without the key (or by a run
// without it). WithAdoptHead opens it anyway. A Generator attached to the
// store must sign with that key, and every Write must carry a checkpoint of
// its last record. A nil key is no key; Open refuses a key of any size
// but ed25519.PublicKeySize (a private key, a key in another encoding),
// rather than open the store unchecked.
//
// Read-only, the store opens whatever the head, and VerifyError says what
// is wrong with it.
func WithPublicKey(pub ed25519.PublicKey) Option {
	return optionFunc(func(c config) config {
		c.pub, c.pubErr = nil, nil
		switch {
		case pub == nil:
		case len(pub) != ed25519.PublicKeySize:
			c.pubErr = fmt.Errorf("store: WithPublicKey: public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize)
		default:
			c.pub = pub
		}
		return c
	})
}

// WithAdoptHead opens a store whose head the key (WithPublicKey, or the
// signing key of the Generator that resumes the store) did not sign, and
// lets a Generator with that key continue it. The Generator records that
// it did as the first event of its run, an otelaudit.HeadAdopted record
// naming the head adopted and the newest Seq the key had signed, and signs
// it: the adoption is in the trail for every verifier to see. Use it once,
// deliberately: after a run without the key, or to take over a trail
// started without one.
func WithAdoptHead() Option {
	return optionFunc(func(c config) config {
		c.adopt = true
		return c
	})
}

// WithFullVerify makes Open run Verify, every event, index entry,
// checkpoint and bbolt page, instead of its own check of the tail after
// the newest checkpoint it can trust (see the package documentation,
// "What Open checks"): Open then takes as long as Verify (BENCHMARKS.md has
// the rate), and refuses, or with WithReadOnly reports in VerifyError,
// damage anywhere in the file, not only where the next run continues it.
func WithFullVerify() Option {
	return optionFunc(func(c config) config {
		c.fullVerify = true
		return c
	})
}

// WithRetention removes the oldest events once they are older than maxAge
// or once more than maxEvents are stored (zero: no bound of that kind).
// Removal runs with each Write, a bounded number of events at a time, and
// by Prune; the last event removed becomes the anchor, so the rest still
// verifies.
//
// Age is measured from when the store committed an event, by its own
// clock (never earlier than the commit before), not by the event's Time:
// that is whatever the caller said, and one event stamped in the future,
// or in the past, must not hold every older event forever or remove young
// ones.
func WithRetention(maxAge time.Duration, maxEvents int) Option {
	return optionFunc(func(c config) config {
		c.maxAge = max(maxAge, 0)
		c.maxEvents = uint64(max(maxEvents, 0))
		return c
	})
}
