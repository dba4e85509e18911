package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// fixtureBase is the Time of the fixture's first event; event i is i
// seconds later.
var fixtureBase = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

const fixtureEvents = 30

var fixtureTraces = [3]trace.TraceID{
	{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x37},
	{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
}

var fixtureAgents = [2]string{"planner", "executor"}

var fixtureTypes = []otelaudit.EventType{otelaudit.NodeStart, otelaudit.NodeEnd, otelaudit.ResourceAccess, otelaudit.TrustDenied, otelaudit.NodeError}

// fixtureEvent is event i (Seq i+1) of the fixture trail: trace i%3,
// agent i%2, type i%5.
func fixtureEvent(i int) otelaudit.Event {
	e := otelaudit.Event{
		Type:       fixtureTypes[i%len(fixtureTypes)],
		Time:       fixtureBase.Add(time.Duration(i) * time.Second),
		TraceID:    fixtureTraces[i%3],
		SpanID:     trace.SpanID{0x51, byte(i + 1)},
		AgentID:    fixtureAgents[i%2],
		WorkflowID: "support-triage",
		NodeID:     fmt.Sprintf("node-%d", i%4),
		Action:     "fetch",
		Resource:   "https://api.example.com/orders/" + fmt.Sprint(i),
		Attributes: []attribute.KeyValue{attribute.Int("i", i), attribute.String("tool", "http")},
	}
	switch e.Type {
	case otelaudit.NodeEnd:
		e.Outcome, e.Duration = otelaudit.Success, 1500*time.Microsecond
	case otelaudit.TrustDenied:
		e.Outcome = otelaudit.Denied
	case otelaudit.NodeError:
		e.Outcome = otelaudit.Error
	}
	if i%2 == 0 {
		e.Source = otelaudit.NewSource(resource.NewSchemaless(attribute.String("service.name", "agent-runtime")),
			instrumentation.Scope{Name: "example.com/runtime", Version: "1.0.0"})
	}
	return e
}

// fixture is a store written the way a user's program writes one, with
// the key pair that signed its checkpoints.
type fixture struct {
	dir, db, priv, pub string
}

// newFixture records fixtureEvents events through a Generator with a store
// and a signing key, checkpointing every 5 events, and shuts it down,
// which flushes and closes the store.
func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{dir: dir, db: filepath.Join(dir, "audit.db"), priv: filepath.Join(dir, "sign.pem"), pub: filepath.Join(dir, "sign.pub.pem")}
	_, err := keyfile.Generate(f.priv, f.pub)
	require.NoError(t, err)
	priv, err := keyfile.ReadPrivate(f.priv)
	require.NoError(t, err)
	st, err := store.Open(f.db)
	require.NoError(t, err)
	g := otelaudit.NewGenerator(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithCheckpointInterval(5, time.Hour),
		otelaudit.WithPolicy(otelaudit.Policy{Keep: []string{"i", "tool"}}))
	ctx := context.Background()
	for i := range fixtureEvents {
		_, err := g.Append(ctx, fixtureEvent(i))
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, g.Shutdown(ctx))
	return f
}

// fixtureNow is the clock of in-process runs: an hour after the fixture's
// first event, so that "--since 1h" means fixtureBase.
var fixtureNow = fixtureBase.Add(time.Hour)

type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process with an empty environment but
// for vars, given as name=value pairs, and the fixture clock.
func runCLI(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runEnv(args, &env{
		stdout: &out,
		stderr: &errOut,
		getenv: func(k string) string { return vars[k] },
		now:    func() time.Time { return fixtureNow },
	})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// assertOneErrorLine checks the error contract: exactly one line on stderr,
// prefixed, and nothing that looks like a crash anywhere.
func assertOneErrorLine(t *testing.T, r result) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	assert.Len(t, lines, 1, "stderr: %q", r.stderr)
	assert.True(t, strings.HasPrefix(r.stderr, "otelaudit: "), "stderr: %q", r.stderr)
	assert.True(t, strings.HasSuffix(r.stderr, "\n"), "stderr ends its line: %q", r.stderr)
	for _, s := range []string{r.stdout, r.stderr} {
		assert.NotContains(t, s, "goroutine")
		assert.NotContains(t, s, "panic")
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	text := filepath.Join(f.dir, "notes.txt")
	require.NoError(t, os.WriteFile(text, []byte(strings.Repeat("not a database\n", 1000)), 0o600))
	small := filepath.Join(f.dir, "small.txt")
	require.NoError(t, os.WriteFile(small, []byte("hello\n"), 0o600))
	emptyFile := filepath.Join(f.dir, "empty.db")
	require.NoError(t, os.WriteFile(emptyFile, nil, 0o600))
	other := otherAppDB(t, f.dir)
	id := fixtureTraces[0].String()

	tests := []struct {
		name string
		args []string
		want string // in the error line
	}{
		{"unknown command", []string{"tracez", "--db", f.db}, `unknown command "tracez"`},
		{"unknown flag", []string{"trace", id, "--db", f.db, "--colour"}, "flag provided but not defined: -colour"},
		{"unknown flag before the argument", []string{"events", "--nope", "--db", f.db}, "-nope"},
		{"missing --db", []string{"trace", id}, "--db is required"},
		{"missing --db, events", []string{"events"}, "--db is required"},
		{"malformed trace id", []string{"trace", "--db", f.db, "xyz"}, `invalid trace ID "xyz"`},
		{"all-zero trace id", []string{"trace", "--db", f.db, strings.Repeat("0", 32)}, "invalid trace ID"},
		{"no trace id", []string{"trace", "--db", f.db}, "want one trace ID"},
		{"two trace ids", []string{"trace", "--db", f.db, id, id}, "want one trace ID"},
		{"--limit abc", []string{"events", "--db", f.db, "--limit", "abc"}, `invalid value "abc" for flag -limit`},
		{"--limit -1", []string{"events", "--db", f.db, "--limit", "-1"}, "--limit -1"},
		{"bad --since", []string{"events", "--db", f.db, "--since", "yesterday"}, `invalid value "yesterday" for flag -since`},
		{"negative --since", []string{"events", "--db", f.db, "--since", "-5m"}, "negative duration"},
		{"bad --until", []string{"events", "--db", f.db, "--until", "2026-13-01T00:00:00Z"}, "-until"},
		{"--since after --until", []string{"events", "--db", f.db, "--since", "1m", "--until", "2h"}, "is not before --until"},
		{"stray argument", []string{"stats", "--db", f.db, "extra"}, `unexpected argument "extra"`},
		{"missing file", []string{"stats", "--db", filepath.Join(f.dir, "nope.db")}, "no such file or directory"},
		{"directory", []string{"stats", "--db", f.dir}, "is a directory"},
		{"text file", []string{"trace", id, "--db", text}, "not an otelaudit store"},
		{"small text file", []string{"stats", "--db", small}, "not an otelaudit store"},
		{"empty file", []string{"stats", "--db", emptyFile}, "not an otelaudit store"},
		{"bbolt file of another app", []string{"verify", "--db", other}, "not an otelaudit store"},
		{"missing pubkey file", []string{"verify", "--db", f.db, "--pubkey", filepath.Join(f.dir, "nope.pem")}, "--pubkey"},
		{"private key as pubkey", []string{"verify", "--db", f.db, "--pubkey", f.priv}, "not an ed25519 key file"},
		{"checkpoint file of events", []string{"verify", "--db", f.db, "--checkpoint", eventsJSONFile(t, f)}, "not a checkpoint"},
		{"replay without trace", []string{"replay", "--db", f.db}, "--trace is required"},
		{"replay to nowhere", []string{"replay", "--db", f.db, "--trace", id, "--to", "kafka"}, `--to "kafka"`},
		{"replay bad timeout", []string{"replay", "--db", f.db, "--trace", id, "--timeout", "soon"}, "-timeout"},
		{"keygen without files", []string{"keygen", "--private", filepath.Join(f.dir, "k")}, "both required"},
		{"help for unknown command", []string{"help", "nope"}, `unknown command "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			t.Log(r.stderr)
			assert.Equal(t, exitUsage, r.code, "stderr: %s", r.stderr)
			assertOneErrorLine(t, r)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
			// The store names the file once; so must every message.
			assert.LessOrEqual(t, strings.Count(r.stderr, f.dir), 1, "path repeated: %s", r.stderr)
		})
	}
}

func TestDBFromEnvironment(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, map[string]string{envDB: f.db}, "trace", fixtureTraces[0].String())
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "SEQ")

	r = runCLI(t, map[string]string{envDB: filepath.Join(f.dir, "nope.db")}, "stats", "--db", f.db)
	assert.Equal(t, exitOK, r.code, "--db wins over the environment: %s", r.stderr)
}

// TestRun goes through run itself, the process's environment included.
func TestRun(t *testing.T) {
	f := newFixture(t)
	t.Setenv(envDB, f.db)
	var out, errOut bytes.Buffer
	code := run([]string{"stats"}, &out, &errOut)
	assert.Equal(t, exitOK, code, errOut.String())
	assert.Contains(t, out.String(), "Events:")
	assert.Empty(t, errOut.String())
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"--help"}} {
		r := runCLI(t, nil, args...)
		assert.Equal(t, exitOK, r.code, "%q", args)
		assert.Empty(t, r.stderr)
		for _, c := range commands {
			assert.Contains(t, r.stdout, "\n  "+c.name, "%q lists %s", args, c.name)
		}
		assert.Contains(t, r.stdout, envDB)
	}
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {"help", c.name}} {
			r := runCLI(t, nil, args...)
			assert.Equal(t, exitOK, r.code, "%q", args)
			assert.Empty(t, r.stderr, "%q", args)
			assert.Contains(t, r.stdout, "Usage: otelaudit "+c.name, "%q", args)
			if c.name != "keygen" && c.name != "hash" && c.name != "verify-proof" {
				assert.Contains(t, r.stdout, "-db", "%q", args)
			}
		}
	}
}

// TestPanicBecomesOneLine: whatever goes wrong inside, the reader gets one
// line and exit 2, not a stack trace.
func TestPanicBecomesOneLine(t *testing.T) {
	boom := &command{name: "boom", setup: func(*flag.FlagSet, *env) func([]string) error {
		return func([]string) error { panic("boom\nsecond line") }
	}}
	commands = append(commands, boom)
	defer func() { commands = commands[:len(commands)-1] }()
	r := runCLI(t, nil, "boom")
	assert.Equal(t, exitUsage, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "internal error: boom second line")
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantDB  string
	}{
		{[]string{"ID", "--db", "x"}, []string{"ID"}, "x"},
		{[]string{"--db", "x", "ID"}, []string{"ID"}, "x"},
		{[]string{"-db=x", "A", "B"}, []string{"A", "B"}, "x"},
		{[]string{"A", "--", "--db", "x"}, []string{"A", "--db", "x"}, ""},
		{nil, nil, ""},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		db := fs.String("db", "", "")
		pos, err := parseInterleaved(fs, tc.args)
		require.NoError(t, err, "%q", tc.args)
		assert.Equal(t, tc.wantPos, pos, "%q", tc.args)
		assert.Equal(t, tc.wantDB, *db, "%q", tc.args)
	}
}

// otherAppDB returns a bbolt file as another program would leave it.
func otherAppDB(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "sessions.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("sessions"))
		if err != nil {
			return err
		}
		return b.Put([]byte("alice"), []byte("token"))
	}))
	require.NoError(t, db.Close())
	return path
}

// eventsJSONFile writes the fixture's events as `events --json` prints
// them, for a test that hands the wrong file to --checkpoint.
func eventsJSONFile(t *testing.T, f fixture) string {
	t.Helper()
	r := runCLI(t, nil, "events", "--db", f.db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	path := filepath.Join(f.dir, "events.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(r.stdout), 0o600))
	return path
}

// tableSeqs returns the SEQ column of a table printed by trace or events.
func tableSeqs(t *testing.T, out string) []uint64 {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.NotEmpty(t, lines)
	require.True(t, strings.HasPrefix(lines[0], "SEQ "), "header: %q", lines[0])
	var seqs []uint64
	for _, l := range lines[1:] {
		var seq uint64
		_, err := fmt.Sscan(strings.Fields(l)[0], &seq)
		require.NoError(t, err, "row %q", l)
		seqs = append(seqs, seq)
	}
	return seqs
}

// jsonLines decodes JSON Lines output, checking that every line is one
// object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "line %q", l)
		objs = append(objs, m)
	}
	return objs
}

// seqsWhere returns the Seqs of the fixture events for which keep holds.
func seqsWhere(keep func(i int, e otelaudit.Event) bool) []uint64 {
	var out []uint64
	for i := range fixtureEvents {
		if keep(i, fixtureEvent(i)) {
			out = append(out, uint64(i+1))
		}
	}
	return out
}

func (f fixture) publicKey(t *testing.T) ed25519.PublicKey {
	t.Helper()
	pk, err := keyfile.ReadPublic(f.pub)
	require.NoError(t, err)
	return pk
}
