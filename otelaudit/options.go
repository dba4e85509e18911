package otelaudit

// DefaultCapacity is how many events a Generator holds in memory unless
// WithCapacity says otherwise. At about 300 bytes per event with four
// attributes, indexes included (see BENCHMARKS.md), it bounds the default
// trail to about 30 MB, and memory is taken as events arrive, not up front.
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

type config struct {
	capacity int
	policy   FullPolicy
}

func newConfig(opts []Option) config {
	c := config{capacity: DefaultCapacity, policy: EvictOldest}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
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
