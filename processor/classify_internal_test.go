package processor

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
)

// TestScanCountsWhatKeepLeavesOut: scan counts and keep leaves out what
// consumed says; random attribute sets and dropped keys must never find
// the count and the filter apart (keep sizes its result by the count).
func TestScanCountsWhatKeepLeavesOut(t *testing.T) {
	pool := []attribute.KeyValue{
		attribute.String("audit.event.type", "x"), attribute.String("audit.action", "a"),
		attribute.String("audit.resource", "r"), attribute.String("audit.human_origin.id", "h"),
		attribute.String("audit.outcome", "denied"), attribute.String("audit.outcome", "bogus"),
		attribute.String("gen_ai.input.messages", "m"), attribute.String("gen_ai.tool.call.result", "r"),
		attribute.String("node.id", "n"), attribute.String("workflow.id", "w"), attribute.String("enduser.id", "e"),
		attribute.String("secret", "s"), attribute.Int("n", 1),
		attribute.String("url.full", "https://a/b?c"), attribute.String("http.request.method", "GET"),
	}
	drops := []map[attribute.Key]struct{}{nil, {"secret": {}}, {"audit.action": {}, "gen_ai.input.messages": {}, "node.id": {}, "url.full": {}}}
	r := rand.New(rand.NewPCG(7, 9))
	for i := 0; i < 20_000; i++ {
		attrs := make([]attribute.KeyValue, r.IntN(8))
		for j := range attrs {
			attrs[j] = pool[r.IntN(len(pool))]
		}
		drop := drops[r.IntN(len(drops))]
		var f fields
		f.scan(attrs, drop)
		if r.IntN(2) == 0 {
			f.locateCall(attrs, drop)
		}
		kept := keep(attrs, f.drop)
		require.Len(t, kept, len(attrs)-f.drop, "attrs %v drop %v", attrs, drop)
	}
}
