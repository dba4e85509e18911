package processor

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// sourceCache hands out one shared *otelaudit.Source per resource and
// instrumentation scope, so an event costs a pointer, not a copy of both.
// A process has few tracers and usually one resource: the last Source used
// answers almost every lookup without a lock.
type sourceCache struct {
	last atomic.Pointer[sourceEntry]
	mu   sync.Mutex
	m    map[sourceKey]*sourceEntry
}

// maxCachedSources bounds the cache: past it, it starts afresh.
const maxCachedSources = 1024

type sourceKey struct {
	res   *resource.Resource
	scope instrumentation.Scope
}

type sourceEntry struct {
	key sourceKey
	src *otelaudit.Source
}

func (c *sourceCache) get(s sdktrace.ReadOnlySpan) *otelaudit.Source {
	k := sourceKey{res: s.Resource(), scope: s.InstrumentationScope()}
	if e := c.last.Load(); e != nil && e.key == k {
		return e.src
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		if c.m == nil || len(c.m) >= maxCachedSources {
			// A process has few tracers; one that makes a tracer per
			// request must not grow this without end. Starting afresh
			// costs a Source per tracer again, nothing more.
			c.m = make(map[sourceKey]*sourceEntry)
		}
		e = &sourceEntry{key: k, src: otelaudit.NewSource(k.res, k.scope)}
		c.m[k] = e
	}
	c.last.Store(e)
	return e.src
}
