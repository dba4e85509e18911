package otelaudit_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// The heap a Generator at its defaults may take, as the README states it:
// the live heap after a collection, and the most the heap ever held
// (garbage included) while events arrived.
const (
	documentedLiveHeap = 96 << 20
	documentedPeakHeap = 192 << 20
	// and the whole test process's peak resident set, runtime and test
	// binary included.
	documentedPeakRSS = 256 << 20
)

// TestMemoryIsBoundedInBytes records, each in a child process of its own
// so that nothing else is on the heap, 20,000 events with a 1 MiB
// attribute and 1,000,000 events with distinct instrumentation scopes
// into a Generator at its defaults, and checks the heap against the
// README's figures, and that Stats counts every cut event. Without the
// race detector only (it multiplies memory and time); .ci/run runs it so.
func TestMemoryIsBoundedInBytes(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("measures the heap: run without -race and -short (.ci/run does)")
	}
	for _, workload := range []string{"big-attributes", "distinct-scopes"} {
		t.Run(workload, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryChild$", "-test.v")
			cmd.Env = append(os.Environ(), "OTELAUDIT_MEMORY_CHILD="+workload)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			m := map[string]uint64{}
			for _, line := range strings.Split(string(out), "\n") {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "memory: "); ok {
					for _, f := range strings.Fields(rest) {
						k, v, _ := strings.Cut(f, "=")
						n, err := strconv.ParseUint(v, 10, 64)
						require.NoError(t, err)
						m[k] = n
					}
				}
			}
			require.NotEmpty(t, m, "the child reports: %s", out)
			t.Logf("%s: %v", workload, m)
			assert.Less(t, m["live"], uint64(documentedLiveHeap), "live heap")
			assert.Less(t, m["peak"], uint64(documentedPeakHeap), "peak heap")
			if m["rss"] > 0 {
				assert.Less(t, m["rss"], uint64(documentedPeakRSS), "peak RSS")
			}
			assert.LessOrEqual(t, m["bytes"], uint64(otelaudit.DefaultMaxBytes))
			assert.Equal(t, m["recorded"], m["len"]+m["evicted"])
			if workload == "big-attributes" {
				assert.Equal(t, uint64(20_000), m["cut"], "every event was cut, and counted")
				assert.Positive(t, m["evictedForBytes"])
			} else {
				assert.Equal(t, uint64(1_000_000), m["recorded"])
				assert.LessOrEqual(t, m["sources"], m["len"], "the source table holds no more Sources than events")
			}
		})
	}
}

// TestMemoryChild is the child process of TestMemoryIsBoundedInBytes.
func TestMemoryChild(t *testing.T) {
	workload := os.Getenv("OTELAUDIT_MEMORY_CHILD")
	if workload == "" {
		t.Skip("the child process of TestMemoryIsBoundedInBytes")
	}
	g := otelaudit.NewGenerator()
	ctx := context.Background()
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	var n, every int
	var event func(i int) otelaudit.Event
	switch workload {
	case "big-attributes":
		// One megabyte under a key the default level keeps, and a
		// megabyte Resource besides: both are cut.
		mib := strings.Repeat("0123456789abcdef", 1<<16)
		n, every = 20_000, 500
		event = func(i int) otelaudit.Event {
			return otelaudit.Event{Type: otelaudit.ResourceAccess, TraceID: trace.TraceID{byte(i), byte(i >> 8), 1},
				AgentID: "agent", Resource: mib, Attributes: []attribute.KeyValue{
					attribute.String("gen_ai.tool.call.id", mib), attribute.Int("audit.i", i)}}
		}
	case "distinct-scopes":
		res := resource.NewSchemaless(attribute.String("service.name", "svc"))
		n, every = 1_000_000, 50_000
		event = func(i int) otelaudit.Event {
			return otelaudit.Event{Type: otelaudit.NodeEnd, TraceID: trace.TraceID{byte(i), byte(i >> 8), byte(i >> 16)},
				AgentID: "agent", Source: otelaudit.NewSource(res, instrumentation.Scope{Name: "scope-" + strconv.Itoa(i), Version: "1.0.0"})}
		}
	default:
		t.Fatalf("unknown workload %q", workload)
	}
	for i := range n {
		if _, err := g.Append(ctx, event(i)); err != nil {
			t.Fatal(err)
		}
		if i%every == 0 {
			sample()
		}
	}
	_ = g.Query(otelaudit.Query{AgentID: "agent", Limit: 1}) // indexes built, as a query builds them
	sample()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := g.Stats()
	sources := 0
	seen := map[*otelaudit.Source]bool{}
	for _, e := range g.Events(0) {
		if e.Source != nil && !seen[e.Source] {
			seen[e.Source] = true
			sources++
		}
	}
	fmt.Printf("memory: live=%d peak=%d rss=%d recorded=%d len=%d evicted=%d evictedForBytes=%d cut=%d bytes=%d sources=%d\n",
		ms.HeapAlloc, peak, peakRSS(), s.Recorded, s.Len, s.Evicted, s.EvictedForBytes, s.Cut, s.Bytes, sources)
	runtime.KeepAlive(g)
}

// peakRSS is the process's peak resident set (VmHWM), 0 where /proc does
// not say.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
