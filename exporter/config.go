package exporter

import (
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Defaults used when the matching option is not given.
const (
	// DefaultBatchSize is the largest number of spans handed to the
	// underlying SpanExporter in one ExportSpans call. It matches the
	// BatchSpanProcessor's default export batch size, which OTLP receivers
	// and their message size limits are tuned for.
	DefaultBatchSize = 512

	// ScopeName is the instrumentation scope name given to replayed spans
	// and log records whose event does not say which scope it came from.
	ScopeName = "github.com/otelaudit/otelaudit-go/exporter"
)

// config is the resolved set of options. It is unexported so that options
// stay the only way to change it, as in the OTel SDK.
type config struct {
	batchSize int
	resource  *resource.Resource
	scope     instrumentation.Scope
}

func newConfig(opts []Option) config {
	c := config{
		batchSize: DefaultBatchSize,
		resource:  resource.Default(),
		scope:     instrumentation.Scope{Name: ScopeName},
	}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	return c
}

// Option configures an Exporter.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithBatchSize sets the largest number of spans passed to the underlying
// SpanExporter per ExportSpans call (of log records per Export call, for a
// LogExporter). Values below 1 select DefaultBatchSize,
// because a batch must hold at least one span for Replay to make progress.
func WithBatchSize(n int) Option {
	return optionFunc(func(c config) config {
		if n < 1 {
			n = DefaultBatchSize
		}
		c.batchSize = n
		return c
	})
}

// WithResource sets the OTel resource of replayed spans and log records
// whose event carries no resource of its own (Event.Source is nil or has a
// nil resource). The default is resource.Default(). A nil res selects the
// empty resource.
func WithResource(res *resource.Resource) Option {
	return optionFunc(func(c config) config {
		if res == nil {
			res = resource.Empty()
		}
		c.resource = res
		return c
	})
}
