package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

func TestStats(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "stats", "--db", f.db)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	for _, want := range []string{
		`(?m)^Path: +` + regexp.QuoteMeta(f.db) + `$`,
		`(?m)^Format: +3$`,
		`(?m)^File size: +\d+ bytes \(\d+\.\d KiB\)$`,
		`(?m)^Events: +30 \(seq 1 to 30\)$`,
		`(?m)^Anchor: +seq 0, hash [0-9a-f]{64} \(genesis\)$`,
		`(?m)^Head: +seq 30, hash [0-9a-f]{64}$`,
		`(?m)^Chain: +verified when opened$`,
		`(?m)^Traces: +3$`,
		`(?m)^Sources: +1$`,
		`(?m)^Checkpoints: +6$`,
	} {
		assert.Regexp(t, want, r.stdout)
	}
	// Counts, the largest first, ties by name.
	types := r.stdout[strings.Index(r.stdout, "By type:"):strings.Index(r.stdout, "By agent:")]
	assert.Regexp(t, `TYPE +EVENTS\n +node_end +6\n +node_error +6\n +node_start +6\n +resource_access +6\n +trust_denied +6\n`, types)
	agents := r.stdout[strings.Index(r.stdout, "By agent:"):]
	assert.Regexp(t, `AGENT +EVENTS\n +executor +15\n +planner +15\n$`, agents)
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{
		0:          "0 bytes",
		1023:       "1023 bytes",
		32768:      "32768 bytes (32.0 KiB)",
		5 << 20:    "5242880 bytes (5.0 MiB)",
		3 << 30:    "3221225472 bytes (3.0 GiB)",
		1536 << 30: "1649267441664 bytes (1.5 TiB)",
	} {
		assert.Equal(t, want, byteSize(n))
	}
}

// TestStoreInUse: a store a writer holds open is refused after the store's
// lock wait, with one line, not a hang.
func TestStoreInUse(t *testing.T) {
	f := newFixture(t)
	st, err := store.Open(f.db)
	require.NoError(t, err)
	defer st.Close()
	start := time.Now()
	r := runCLI(t, nil, "stats", "--db", f.db)
	assert.Less(t, time.Since(start), store.DefaultLockTimeout+2*time.Second)
	assert.Equal(t, exitUsage, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "in use by another process")
	assert.Empty(t, r.stdout)
}

// TestRetainedAndEmptyStores: a store whose oldest events retention
// removed verifies from its anchor, and an empty one reads as empty.
func TestRetainedAndEmptyStores(t *testing.T) {
	dir := t.TempDir()
	retained := filepath.Join(dir, "retained.db")
	st, err := store.Open(retained, store.WithRetention(0, 10))
	require.NoError(t, err)
	g := otelaudit.NewGenerator(otelaudit.WithStore(st))
	for i := range fixtureEvents {
		_, err := g.Append(context.Background(), fixtureEvent(i))
		require.NoError(t, err)
		// One write per event, so retention runs as a running store's does.
		require.NoError(t, g.ForceFlush(context.Background()))
	}
	require.NoError(t, g.Shutdown(context.Background()))

	r := runCLI(t, nil, "verify", "--db", retained)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "10 events, seq 21 to 30, chained from anchor seq 20 (hash ")
	assert.Contains(t, r.stdout, "Checkpoints: none")
	r = runCLI(t, nil, "stats", "--db", retained)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `(?m)^Events: +10 \(seq 21 to 30\)$`, r.stdout)
	assert.Regexp(t, `(?m)^Anchor: +seq 20, hash [0-9a-f]{64} \(last event removed by retention\)$`, r.stdout)

	empty := filepath.Join(dir, "empty.db")
	st, err = store.Open(empty)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	r = runCLI(t, nil, "verify", "--db", empty)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "No events, chained from the genesis.")
	r = runCLI(t, nil, "stats", "--db", empty)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `(?m)^Events: +0$`, r.stdout)
	assert.NotContains(t, r.stdout, "By type")
	r = runCLI(t, nil, "checkpoints", "--db", empty)
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stderr, "no checkpoints")
	assert.Empty(t, r.stdout)
	r = runCLI(t, nil, "trace", "--db", empty, fixtureTraces[0].String())
	assert.Equal(t, exitFail, r.code)
	assertOneErrorLine(t, r)
}
