package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickstart runs the quickstart as the README does and checks what a
// newcomer is told: the trail of the trip-planner trace with its denial and
// failure, the stats, and one replayed span per event in that trace.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out, "trip-planner", false))
	text := out.String()

	assert.Contains(t, text, `Audit trail of workflow "trip-planner"`)
	for _, want := range []string{"workflow_start", "node_start", "trust_verification", "resource_access", "node_end", "trust_denied", "node_error", "workflow_error"} {
		assert.Contains(t, text, want)
	}
	assert.Contains(t, text, "47 recorded, 47 held")
	assert.Contains(t, text, "0 evicted, 0 rejected")

	var spans, sameTrace int
	var traceID string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var s struct {
			Name        string
			SpanContext struct{ TraceID string }
		}
		require.NoError(t, json.Unmarshal([]byte(line), &s), line)
		assert.True(t, strings.HasPrefix(s.Name, "audit."), s.Name)
		if traceID == "" {
			traceID = s.SpanContext.TraceID
		}
		if s.SpanContext.TraceID == traceID {
			sameTrace++
		}
		spans++
	}
	assert.Equal(t, 13, spans, "one replayed span per event of the trace")
	assert.Equal(t, spans, sameTrace, "every replayed span keeps the trace ID")
	assert.Contains(t, text, "trace "+traceID)
}

func TestQuickstartUnknownWorkflow(t *testing.T) {
	err := run(&bytes.Buffer{}, "nope", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "trip-planner")
}
