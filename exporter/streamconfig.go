package exporter

import (
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Defaults of a Stream, used when the matching option is not given.
const (
	// DefaultPollInterval is how often an idle Stream looks for new events:
	// the most it adds to an event's way to the exporter.
	DefaultPollInterval = 100 * time.Millisecond
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait before retrying
	// a failed export; it doubles from the first to the second, with
	// jitter.
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	// DefaultExportTimeout bounds one export call, as the
	// BatchSpanProcessor's default does.
	DefaultExportTimeout = 30 * time.Second
)

type streamConfig struct {
	batchSize     int
	pollInterval  time.Duration
	minBackoff    time.Duration
	maxBackoff    time.Duration
	exportTimeout time.Duration
	cursor        CursorStore
	cursorName    string
	startAfter    uint64
	meterProvider metric.MeterProvider
	exporter      []Option
	noCheckpoints bool
}

func newStreamConfig(opts []StreamOption) streamConfig {
	c := streamConfig{
		batchSize:     DefaultBatchSize,
		pollInterval:  DefaultPollInterval,
		minBackoff:    DefaultMinBackoff,
		maxBackoff:    DefaultMaxBackoff,
		exportTimeout: DefaultExportTimeout,
	}
	for _, o := range opts {
		if o != nil {
			c = o.applyStream(c)
		}
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	c.exporter = append([]Option{WithBatchSize(c.batchSize)}, c.exporter...)
	return c
}

// StreamOption configures a Stream.
type StreamOption interface {
	applyStream(streamConfig) streamConfig
}

type streamOptionFunc func(streamConfig) streamConfig

func (f streamOptionFunc) applyStream(c streamConfig) streamConfig { return f(c) }

// WithStreamBatchSize sets how many events a Stream reads and exports at a
// time (one ExportSpans or Export call); below 1 keeps DefaultBatchSize.
func WithStreamBatchSize(n int) StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		if n > 0 {
			c.batchSize = n
		}
		return c
	})
}

// WithPollInterval sets how often an idle Stream looks for new events;
// zero or less keeps DefaultPollInterval.
func WithPollInterval(d time.Duration) StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		if d > 0 {
			c.pollInterval = d
		}
		return c
	})
}

// WithBackoff bounds the wait before a failed export is retried: it starts
// at lo and doubles up to hi, each wait jittered to between half and all
// of it. Values of zero or less keep the defaults.
func WithBackoff(lo, hi time.Duration) StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		if lo > 0 {
			c.minBackoff = lo
		}
		if hi > 0 {
			c.maxBackoff = hi
		}
		c.maxBackoff = max(c.maxBackoff, c.minBackoff)
		return c
	})
}

// WithExportTimeout bounds each export call; zero or less keeps
// DefaultExportTimeout.
func WithExportTimeout(d time.Duration) StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		if d > 0 {
			c.exportTimeout = d
		}
		return c
	})
}

// WithCursor saves, under name in cs, the Seq of the newest event exported
// after every successful export, and starts the Stream after the Seq saved
// there: a restarted process resumes where the last one stopped. With a
// *store.Store as both Trail and CursorStore, nothing accepted is lost
// across restarts and outages (unless the store's retention removes events
// before they are exported: those are counted in StreamStats.Dropped).
func WithCursor(cs CursorStore, name string) StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		if cs != nil && name != "" {
			c.cursor, c.cursorName = cs, name
		}
		return c
	})
}

// WithStartAfter starts the Stream after Seq seq (the default is the
// trail's first event). A saved cursor further on wins.
func WithStartAfter(seq uint64) StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		c.startAfter = seq
		return c
	})
}

// WithMeterProvider sets where the Stream's metrics go; the default is the
// global MeterProvider (otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		if mp != nil {
			c.meterProvider = mp
		}
		return c
	})
}

// WithReplayOptions passes Exporter options (WithResource, say) to the
// replay a Stream does, as spans or as log records.
func WithReplayOptions(opts ...Option) StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		c.exporter = append(c.exporter, opts...)
		return c
	})
}

// WithoutCheckpoints stops a Stream that follows a store from shipping the
// store's milestone checkpoints beside the events (see CheckpointType).
func WithoutCheckpoints() StreamOption {
	return streamOptionFunc(func(c streamConfig) streamConfig {
		c.noCheckpoints = true
		return c
	})
}
