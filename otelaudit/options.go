package otelaudit

import (
	"crypto/ed25519"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// DefaultCapacity is how many events a Generator holds in memory unless
// WithCapacity says otherwise. At about 330 bytes per event with four
// attributes, indexes and hash included (see BENCHMARKS.md), it bounds the
// default trail to about 33 MB, and memory is taken as events arrive.
const DefaultCapacity = 100_000

// MaxCapacity is the largest capacity a Generator takes (2^28, about 268
// million events, some 80 GB of them); WithCapacity clamps larger values. It
// keeps the one table sized up front (a pointer per 4,096 events) small.
const MaxCapacity = 1 << 28

// FullPolicy says what Record does when the Generator already holds Capacity
// events.
type FullPolicy int

const (
	// EvictOldest drops the oldest held event to make room, and counts it in
	// Stats.Evicted. Recording never fails for lack of room. The default.
	EvictOldest FullPolicy = iota
	// RejectNew keeps what is held and refuses the new event with ErrFull,
	// counting it in Stats.Rejected. For trails where the first events of an
	// incident matter more than the last.
	RejectNew
)

// String returns the policy's name.
func (p FullPolicy) String() string {
	switch p {
	case EvictOldest:
		return "evict-oldest"
	case RejectNew:
		return "reject-new"
	}
	return "unknown"
}

// DefaultCheckpointEvents and DefaultCheckpointInterval are how often a
// Generator with a signing key signs a checkpoint unless
// WithCheckpointInterval says otherwise: after 10,000 events or 10 seconds
// with new events, whichever comes first.
const (
	DefaultCheckpointEvents   = 10_000
	DefaultCheckpointInterval = 10 * time.Second
)

// DefaultStoreWait is how long Record waits, when the Generator is full of
// events its store has not made durable yet, for the store writer to catch
// up before refusing the event with ErrStoreBehind (see WithStoreWait).
const DefaultStoreWait = 100 * time.Millisecond

type config struct {
	capacity   int
	policy     FullPolicy
	signer     ed25519.PrivateKey
	origin     string
	cpEvents   int
	cpInterval time.Duration
	store      Store
	storeWait  time.Duration
	catchUp    time.Duration // see WithCatchUpInterval; 0: off
	meter      metric.MeterProvider
	// Privacy and size (see policy.go, pseudonym.go, truncate.go,
	// budget.go).
	privacy       Policy
	pseudoKey     []byte // nil: no pseudonyms
	pseudoTargets []string
	maxEvent      int
	maxBytes      int64
}

// public returns the public half of the signing key, nil without one.
func (c *config) public() ed25519.PublicKey {
	if c.signer == nil {
		return nil
	}
	return c.signer.Public().(ed25519.PublicKey)
}

func newConfig(opts []Option) config {
	c := config{
		capacity:   DefaultCapacity,
		policy:     EvictOldest,
		cpEvents:   DefaultCheckpointEvents,
		cpInterval: DefaultCheckpointInterval,
		storeWait:  DefaultStoreWait,
		catchUp:    DefaultCatchUpInterval,
		maxEvent:   DefaultMaxEventSize,
		maxBytes:   DefaultMaxBytes,
	}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	c.maxBytes = max(c.maxBytes, 4*int64(c.maxEvent))
	if c.meter == nil {
		c.meter = otel.GetMeterProvider()
	}
	return c
}

// Option configures a Generator.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithCapacity bounds how many events the Generator holds in memory. A value
// of zero or less keeps DefaultCapacity, as the SDK's own options do with
// invalid sizes; a value above MaxCapacity is MaxCapacity.
func WithCapacity(n int) Option {
	return optionFunc(func(c config) config {
		if n > 0 {
			c.capacity = min(n, MaxCapacity)
		}
		return c
	})
}

// WithFullPolicy chooses what happens at the capacity bound: EvictOldest (the
// default) or RejectNew. An unknown policy keeps the default.
func WithFullPolicy(p FullPolicy) Option {
	return optionFunc(func(c config) config {
		if p == EvictOldest || p == RejectNew {
			c.policy = p
		}
		return c
	})
}

// WithSigningKey makes the Generator sign checkpoints of its trail with key:
// C2SP signed notes of the trail's Merkle tree (see Checkpoint, WithOrigin
// and WithCheckpointInterval), so that a verifier with the public key alone
// can detect a trail rewritten or cut after them, and check proofs that an
// event is in it. With a store, every commit carries a signed checkpoint of
// the tree it leaves, so that the stored trail never has an unsigned tail,
// and the Generator refuses a store whose head the key did not sign (see
// ErrUnsigned). A key of the wrong size is ignored.
func WithSigningKey(key ed25519.PrivateKey) Option {
	return optionFunc(func(c config) config {
		if len(key) == ed25519.PrivateKeySize {
			c.signer = key
		}
		return c
	})
}

// WithOrigin names the trail in its checkpoints: the first line of every
// signed note, and the key name of its signature line (see Checkpoint).
// C2SP asks that it name one log and no other, as a URL without a scheme
// does ("audit.example.com/payments"); the default, DefaultOrigin of the
// signing key, names the key. A store keeps the origin its checkpoints
// carry, and a Generator with another one refuses it. An origin a note
// cannot carry (see CheckOrigin) is ignored.
func WithOrigin(origin string) Option {
	return optionFunc(func(c config) config {
		if CheckOrigin(origin) == nil {
			c.origin = origin
		}
		return c
	})
}

// WithCheckpointInterval sets how often a Generator with a signing key keeps
// a checkpoint as a milestone: once events more have been sealed since the
// last one, or once every has passed with new events. A value of zero or
// less keeps its default (DefaultCheckpointEvents, DefaultCheckpointInterval).
//
// With a store, every commit signs a checkpoint, and the milestone is the
// first commit's past the interval: the store keeps milestones (see
// store.Store.Checkpoints), and a Stream ships them. Without a store,
// checkpoints are signed as events are sealed: by a query, by eviction, or
// on demand by Checkpoint; a time-based one waits for the next of those.
func WithCheckpointInterval(events int, every time.Duration) Option {
	return optionFunc(func(c config) config {
		if events > 0 {
			c.cpEvents = events
		}
		if every > 0 {
			c.cpInterval = every
		}
		return c
	})
}

// WithStore makes every event the Generator accepts durable in s (package
// store provides one on bbolt), and continues the trail where s ends: Seq
// numbering and the hash chain resume from s's head, after the records of
// a crash or an adoption the Generator writes first (see SeqGap,
// HeadAdopted). A background writer hands events to s in group commits, off
// the hot path; with a signing key every commit carries a signed
// checkpoint of its last event. See the Store interface for what it
// promises and ForceFlush and Shutdown for how to wait for it. Once the
// Generator has resumed s it owns it: Shutdown closes it. If it cannot
// resume it (see New), s stays the caller's.
//
// Events not yet durable are never evicted: when the Generator is full of
// them, Record waits for the writer (see WithStoreWait). A nil s is no
// store.
func WithStore(s Store) Option {
	return optionFunc(func(c config) config {
		c.store = s
		return c
	})
}

// WithStoreWait bounds how long Record and Append wait, when every held
// event is still waiting for the store writer, for one to become durable
// before refusing the new event with ErrStoreBehind (counted in
// Stats.Rejected). Zero refuses at once; a negative value keeps
// DefaultStoreWait.
func WithStoreWait(d time.Duration) Option {
	return optionFunc(func(c config) config {
		if d >= 0 {
			c.storeWait = d
		}
		return c
	})
}

// WithMeterProvider sets where the Generator's metrics go (see the README
// for their names); the default is the global MeterProvider
// (otel.GetMeterProvider), a no-op until the program sets one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c config) config {
		if mp != nil {
			c.meter = mp
		}
		return c
	})
}
