package processor_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/processor"
)

func attrValue(attrs []attribute.KeyValue, k attribute.Key) (int64, bool) {
	for _, a := range attrs {
		if a.Key == k {
			return a.Value.AsInt64(), true
		}
	}
	return 0, false
}

// TestSpanLimitsAreNeverSilent: the SDK's default limits (128 events, 128
// attributes) drop data before any processor sees it. The events that
// remain say how much, and Stats counts the span.
func TestSpanLimitsAreNeverSilent(t *testing.T) {
	g := otelaudit.NewGenerator()
	tr := newProvider(t, processor.New(g)) // SDK defaults
	_, sp := tr.Start(context.Background(), "tool", trace.WithAttributes(kv("node.id", "n")))
	for i := range 130 {
		sp.AddEvent("audit.resource_access", trace.WithAttributes(kv("audit.resource", fmt.Sprint("r", i))))
	}
	for i := range 130 {
		sp.SetAttributes(attribute.Int(fmt.Sprint("k", i), i))
	}
	sp.End()

	es := g.Events(0)
	require.Len(t, es, 1+128+1, "node_start, the 128 span events the SDK kept, node_end")
	assert.Equal(t, "r2", es[1].Resource, "the SDK dropped the oldest two")
	_, marked := attrValue(es[0].Attributes, processor.KeySpanDroppedEvents)
	assert.False(t, marked, "nothing was dropped when the span started")
	for _, e := range es[1:] {
		n, ok := attrValue(e.Attributes, processor.KeySpanDroppedEvents)
		assert.True(t, ok, "seq %d", e.Seq)
		assert.Equal(t, int64(2), n)
		n, _ = attrValue(e.Attributes, processor.KeySpanDroppedAttributes)
		assert.Equal(t, int64(3), n, "1 + 130 attributes, 128 kept")
	}
	assert.Equal(t, uint64(1), g.Stats().Truncated)
}

// TestSpanLimitsEverywhere: dropped links, span-event attributes, start
// attributes, and an unaudited span that may have lost its classifying
// key: each is said or counted.
func TestSpanLimitsEverywhere(t *testing.T) {
	limits := sdktrace.NewSpanLimits()
	limits.AttributeCountLimit = 2
	limits.LinkCountLimit = 1
	limits.AttributePerEventCountLimit = 1
	g := otelaudit.NewGenerator()
	tr := newProvider(t, processor.New(g), sdktrace.WithRawSpanLimits(limits))

	link := trace.Link{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})}
	_, sp := tr.Start(context.Background(), "tool", trace.WithLinks(link, link),
		trace.WithAttributes(kv("node.id", "n"), kv("a", "1"), kv("b", "2")))
	sp.AddEvent("audit.trust_denied", trace.WithAttributes(kv("policy", "p"), kv("extra", "x")))
	sp.End()
	es := g.Events(0)
	require.Len(t, es, 3)
	n, _ := attrValue(es[0].Attributes, processor.KeySpanDroppedAttributes)
	assert.Equal(t, int64(1), n, "the start event already says so")
	for _, e := range es[1:] {
		n, _ = attrValue(e.Attributes, processor.KeySpanDroppedLinks)
		assert.Equal(t, int64(1), n)
		n, _ = attrValue(e.Attributes, processor.KeySpanDroppedAttributes)
		assert.Equal(t, int64(1), n)
	}
	n, _ = attrValue(es[1].Attributes, processor.KeyEventDroppedAttributes)
	assert.Equal(t, int64(1), n, "the span event's own")
	_, own := attrValue(es[2].Attributes, processor.KeyEventDroppedAttributes)
	assert.False(t, own)

	// The classifying key came third: the SDK dropped it, the span is not
	// audited, but it is counted.
	_, sp = tr.Start(context.Background(), "lost", trace.WithAttributes(kv("a", "1"), kv("b", "2"), kv("workflow.id", "w")))
	sp.End()
	assert.Len(t, g.Events(0), 3)
	assert.Equal(t, uint64(2), g.Stats().Truncated)
}

// TestRecommendedLimitsKeepEverything: the limits the README recommends
// for an audit deployment drop nothing a runtime sends.
func TestRecommendedLimitsKeepEverything(t *testing.T) {
	limits := sdktrace.NewSpanLimits()
	limits.AttributeCountLimit = -1
	limits.EventCountLimit = -1
	limits.AttributePerEventCountLimit = -1
	g := otelaudit.NewGenerator()
	tr := newProvider(t, processor.New(g), sdktrace.WithRawSpanLimits(limits))
	_, sp := tr.Start(context.Background(), "tool", trace.WithAttributes(kv("node.id", "n")))
	for i := range 300 {
		sp.AddEvent("audit.resource_access", trace.WithAttributes(attribute.Int("i", i)))
		sp.SetAttributes(attribute.Int(fmt.Sprint("k", i), i))
	}
	sp.End()
	assert.Len(t, g.Events(0), 302)
	assert.Zero(t, g.Stats().Truncated)
}
