package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeAuditConfig returns the README's Collector configuration that fans
// audit log records out to a file and to a SIEM, with the machine-specific
// values replaced: each must be there, so that the test fails when the
// README's configuration changes under it.
func readmeAuditConfig(t *testing.T, replace map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	var cfg string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "file_storage/audit") {
			cfg = m[1]
		}
	}
	require.NotEmpty(t, cfg, "no YAML block with file_storage/audit in the README")
	for from, to := range replace {
		require.Contains(t, cfg, from, "the README's audit configuration")
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	return cfg
}

// TestReadmeAuditCollector runs the README's audit Collector configuration:
// a log Stream sends to it; it writes a file and forwards to a SIEM (a
// second Collector, over OTLP/HTTP) through a queue kept in file_storage.
// The SIEM is killed; the Stream still delivers (the audit Collector has
// the records on disk); then the audit Collector is killed too. After
// both restart, every event is in the file and at the SIEM.
func TestReadmeAuditCollector(t *testing.T) {
	siem := startCollector(t)
	dir := t.TempDir()
	audit := newCollectorWithConfig(t, freePort(t), func(c *collector) string {
		c.logs = filepath.Join(dir, "audit.jsonl")
		return readmeAuditConfig(t, map[string]string{
			"/var/lib/otelcol/audit-queue":   filepath.Join(dir, "queue"),
			"/var/log/otelcol/audit.jsonl":   c.logs,
			"localhost:4317":                 c.addr,
			"http://loki.internal:3100/otlp": siem.http,
		})
	})
	audit.start()
	rt := newLogAuditRuntime(t, audit.addr, nil)
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()

	deliver := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			_, err := rt.g.Append(ctx, testEvent(0, i))
			require.NoError(t, err)
		}
		require.NoError(t, rt.g.ForceFlush(ctx))
		require.NoError(t, rt.stream.ForceFlush(ctx), "the audit Collector acknowledges")
	}
	atSIEM := func(n int) func(c *assert.CollectT) {
		return func(c *assert.CollectT) {
			records, _ := siem.logRecords()
			counts := logSeqCounts(t, records)
			for seq := uint64(1); seq <= uint64(n); seq++ {
				if !assert.Positive(c, counts[seq], "seq %d at the SIEM", seq) {
					return
				}
			}
		}
	}

	deliver(0, 200)
	require.EventuallyWithT(t, atSIEM(200), 15*time.Second, 50*time.Millisecond)

	siem.kill()
	deliver(200, 400) // acknowledged with the SIEM down: on disk in the queue
	audit.kill()      // and the audit Collector dies before the SIEM is back
	siem.start()
	audit.start()
	require.EventuallyWithT(t, atSIEM(400), 30*time.Second, 100*time.Millisecond)

	records, torn := audit.logRecords()
	counts := logSeqCounts(t, records)
	for seq := uint64(1); seq <= 400; seq++ {
		assert.Positive(t, counts[seq], "seq %d in the audit file", seq)
	}
	siemRecords, _ := siem.logRecords()
	t.Logf("audit file: %d records (%d torn batches); SIEM: %d records for 400 events; stream failures %d",
		len(records), torn, len(siemRecords), rt.stream.Stats().Failures)
	assert.Zero(t, rt.stream.Stats().Pending)
}
