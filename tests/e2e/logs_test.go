package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/exporter"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// TestQuickstartStreamsLogsToCollector runs the quickstart with -db, -otlp
// and -logs against a real collector whose logs pipeline ends in the
// Collector's own file exporter, and checks that every event in the store
// arrived exactly once as a log record, every field as the mapping says:
// event name, trace and span IDs of the action, times, severity, body,
// attributes, resource and scope.
func TestQuickstartStreamsLogsToCollector(t *testing.T) {
	col := startCollector(t)
	events, started, finished := runQuickstartToCollector(t, col, "audit events as log records", "-logs")

	records, torn := col.logRecords()
	assert.Zero(t, torn, "nothing was killed: no torn batch")
	require.Len(t, records, len(events), "log records received vs events stored")
	for seq, n := range logSeqCounts(t, records) {
		require.Equal(t, 1, n, "seq %d arrived %d times", seq, n)
	}
	bySeq := make(map[uint64]logRecord, len(records))
	for _, r := range records {
		bySeq[uint64(r.Attrs[string(otelaudit.KeyEventSeq)].(int64))] = r
	}
	severities := map[string]int{}
	for _, e := range events {
		r, ok := bySeq[e.Seq]
		if !assert.True(t, ok, "seq %d (%s) never arrived", e.Seq, e.Type) {
			continue
		}
		assert.Equal(t, otelaudit.NamePrefix+string(e.Type), r.EventName, "seq %d", e.Seq)
		assert.Equal(t, e.TraceID, r.TraceID, "seq %d: trace of the action", e.Seq)
		assert.Equal(t, e.SpanID, r.SpanID, "seq %d: span of the action", e.Seq)
		assert.Equal(t, uint32(trace.FlagsSampled), r.Flags, "seq %d", e.Seq)
		assert.True(t, r.Timestamp.Equal(e.Time), "seq %d: timestamp %s, event time %s", e.Seq, r.Timestamp, e.Time)
		assert.True(t, !r.Observed.Before(started) && !r.Observed.After(finished), "seq %d: observed %s", e.Seq, r.Observed)
		sev := exporter.LogSeverity(e.Outcome)
		assert.Equal(t, int32(sev), r.Severity, "seq %d", e.Seq)
		assert.Equal(t, sev.String(), r.SeverityText, "seq %d", e.Seq)
		severities[r.SeverityText]++
		assert.Equal(t, exporter.LogBody(e), r.Body, "seq %d", e.Seq)
		assert.Equal(t, replayLogAttrs(e), r.Attrs, "seq %d: attributes", e.Seq)
		assert.Equal(t, "quickstart-agents", r.Resource["service.name"], "seq %d: resource", e.Seq)
		assert.Equal(t, e.Source.Scope().Name, r.Scope, "seq %d: scope", e.Seq)
	}
	t.Logf("%d events arrived once each as log records; severities %v", len(events), severities)
	// The quickstart's trail has all three; a check that saw fewer would
	// check less than it says.
	assert.Positive(t, severities[log.SeverityInfo.String()])
	assert.Positive(t, severities[log.SeverityWarn.String()])
	assert.Positive(t, severities[log.SeverityError.String()])
}

// replayLogAttrs is the attribute map of e's log record: the span format's
// and audit.duration_ns.
func replayLogAttrs(e otelaudit.Event) map[string]any {
	m := replayAttrs(e)
	if e.Duration > 0 {
		m[string(otelaudit.KeyDuration)] = int64(e.Duration)
	} else {
		delete(m, string(otelaudit.KeyDuration))
	}
	return m
}

// TestCollectorKilledAndRestartedLogs is TestCollectorKilledAndRestartedTwice
// through the logs pipeline: a log Stream follows the store while the
// collector, writing with its file exporter, is SIGKILLed and restarted
// twice. Every event must arrive at least once as a log record, and every
// record must carry the trace and span IDs of its event.
func TestCollectorKilledAndRestartedLogs(t *testing.T) {
	col := startCollector(t)
	rt := newLogAuditRuntime(t, col.addr, nil)
	var records []logRecord
	killAndRestartTwice(t, col, rt, func() map[uint64]int {
		var torn int
		records, torn = col.logRecords()
		t.Logf("%d log records read back, %d torn batches skipped", len(records), torn)
		return logSeqCounts(t, records)
	})
	for _, r := range records {
		w, wok := r.Attrs["e2e.worker"].(int64)
		i, iok := r.Attrs["e2e.i"].(int64)
		require.True(t, wok && iok, "record without its test attributes: %v", r.Attrs)
		want := testEvent(int(w), int(i))
		require.Equal(t, want.TraceID, r.TraceID, "worker %d event %d", w, i)
		require.Equal(t, want.SpanID, r.SpanID, "worker %d event %d", w, i)
		require.Equal(t, "audit.resource_access", r.EventName)
		require.Equal(t, "INFO", r.SeverityText)
	}
}
