package otelaudit

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// BenchmarkPolicyApply: what the default Policy costs an event of the span
// benchmark (node.id, gen_ai.agent.id, workflow.id, an int the default
// level drops), and an HTTP call's (a URL with a query).
func BenchmarkPolicyApply(b *testing.B) {
	for _, bc := range []struct {
		name  string
		attrs []attribute.KeyValue
	}{
		{"node", []attribute.KeyValue{
			attribute.String("node.id", "fetch-weather"), attribute.String("gen_ai.agent.id", "agent-7"),
			attribute.String("workflow.id", "wf-trip-planner"), attribute.Int("retry", 1)}},
		{"kept", []attribute.KeyValue{
			attribute.String("node.id", "fetch-weather"), attribute.String("gen_ai.agent.id", "agent-7"),
			attribute.String("workflow.id", "wf-trip-planner")}},
		{"http", []attribute.KeyValue{
			attribute.String("http.request.method", "GET"), attribute.String("url.full", "https://a.example/x?q=1"),
			attribute.String("server.address", "a.example"), attribute.Int("server.port", 443),
			attribute.String("network.protocol.version", "1.1"), attribute.Int("http.response.status_code", 200)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := compilePolicy(&Policy{}, nil)
			var scratch []attribute.KeyValue
			b.ReportAllocs()
			for b.Loop() {
				e := Event{Type: NodeEnd, Attributes: bc.attrs}
				c.apply(&e, &scratch)
			}
		})
	}
}
