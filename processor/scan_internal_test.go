package processor

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// BenchmarkScan measures the one pass over a span's attributes that every
// OnStart and OnEnd makes, on the four attributes of BenchmarkSpanOverhead's
// audited span and on an otelhttp client span's six.
func BenchmarkScan(b *testing.B) {
	for _, bc := range []struct {
		name  string
		calls bool // a call's kind: its semantic-convention keys are located
		attrs []attribute.KeyValue
	}{
		{"node", false, []attribute.KeyValue{
			attribute.String("node.id", "fetch-weather"), attribute.String("gen_ai.agent.id", "agent-7"),
			attribute.String("workflow.id", "wf-trip-planner"), attribute.Int("retry", 1),
		}},
		{"http-client", true, []attribute.KeyValue{
			attribute.String("http.request.method", "GET"), attribute.String("url.full", "http://127.0.0.1:33405/ok?x=1"),
			attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 33405),
			attribute.String("network.protocol.version", "1.1"), attribute.Int("http.response.status_code", 200),
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				var f fields
				f.scan(bc.attrs, nil)
				if bc.calls {
					f.locateCall(bc.attrs, nil)
				}
				if f.drop < 0 {
					b.Fatal()
				}
			}
		})
	}
}
