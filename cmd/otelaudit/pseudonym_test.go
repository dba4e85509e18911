package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// pseudonymStore writes a trail whose users are pseudonyms under a key
// made by keygen --hmac, and returns the store and the key file.
func pseudonymStore(t *testing.T) (db, keyPath string) {
	t.Helper()
	dir := t.TempDir()
	db, keyPath = filepath.Join(dir, "audit.db"), filepath.Join(dir, "users.key")
	r := runCLI(t, nil, "keygen", "--hmac", keyPath)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, keyPath)
	fi, err := os.Stat(keyPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	key, err := keyfile.ReadHMAC(keyPath)
	require.NoError(t, err)
	st, err := store.Open(db)
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithPseudonyms(key, otelaudit.FieldHumanOriginID))
	require.NoError(t, err)
	for i, u := range []string{"alice", "bob", "alice", "carol", "alice"} {
		_, err := g.Record(context.Background(), otelaudit.Event{
			Type: otelaudit.ResourceAccess, Time: fixtureBase.Add(time.Duration(i) * time.Second), TraceID: trace.TraceID{byte(i + 1)},
			AgentID: "billing", HumanOriginID: u, Outcome: []otelaudit.Outcome{otelaudit.Success, otelaudit.Denied}[i%2],
			Attributes: []attribute.KeyValue{attribute.String("enduser.id", u)},
		})
		require.NoError(t, err)
	}
	require.NoError(t, g.Shutdown(context.Background()))
	return db, keyPath
}

// TestPseudonymLookup: with the key, `events --user alice --hmac-key`
// finds alice's events, and `hash` says what she is stored as; without
// it, her name is nowhere in the store or the output.
func TestPseudonymLookup(t *testing.T) {
	db, keyPath := pseudonymStore(t)
	raw, err := os.ReadFile(db)
	require.NoError(t, err)
	for _, u := range []string{"alice", "bob", "carol"} {
		assert.NotContains(t, string(raw), u, "the store file holds no clear user")
	}

	r := runCLI(t, nil, "hash", "--hmac-key", keyPath, "alice", "bob")
	require.Equal(t, exitOK, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2)
	key, err := keyfile.ReadHMAC(keyPath)
	require.NoError(t, err)
	assert.Equal(t, otelaudit.Pseudonym(key, "alice"), lines[0])
	assert.Equal(t, otelaudit.Pseudonym(key, "bob"), lines[1])

	r = runCLI(t, nil, "events", "--db", db, "--user", "alice", "--hmac-key", keyPath, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	objs := jsonLines(t, r.stdout)
	require.Len(t, objs, 3)
	for i, o := range objs {
		assert.EqualValues(t, []int{1, 3, 5}[i], o["seq"])
		assert.Equal(t, lines[0], o["human_origin_id"])
	}
	assert.NotContains(t, r.stdout, "alice")

	// The stored value works without the key; the clear one finds nothing.
	r = runCLI(t, nil, "events", "--db", db, "--user", lines[1])
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 2, strings.Count(r.stdout, "\n"), "the header and bob's one event: %s", r.stdout)
	r = runCLI(t, nil, "events", "--db", db, "--user", "alice")
	assert.Equal(t, exitFail, r.code)
	// Given the pseudonym and the key, as one may paste a stored value
	// into the same command: the pseudonym is what is stored, not hashed
	// again; `hash` says the same.
	r = runCLI(t, nil, "events", "--db", db, "--user", lines[1], "--hmac-key", keyPath)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 2, strings.Count(r.stdout, "\n"), "bob's one event: %s", r.stdout)
	r = runCLI(t, nil, "hash", "--hmac-key", keyPath, lines[1])
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, lines[1]+"\n", r.stdout)

	r = runCLI(t, nil, "events", "--db", db, "--user", "alice", "--hmac-key", keyPath, "--outcome", "success")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 3, strings.Count(r.stdout, "success"), r.stdout)
	r = runCLI(t, nil, "events", "--db", db, "--user", "alice", "--hmac-key", keyPath, "--outcome", "denied")
	assert.Equal(t, exitFail, r.code, "alice was never denied")
}

func TestPseudonymKeyErrors(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "k")
	for _, args := range [][]string{
		{"hash", "alice"},
		{"hash", "--hmac-key", keyPath},
		{"hash", "--hmac-key", keyPath, "alice"},                      // no such file
		{"events", "--db", "x.db", "--hmac-key", keyPath},             // no --user
		{"events", "--db", "x.db", "--user", "a", "--outcome", "meh"}, // bad outcome
		{"keygen", "--hmac", keyPath, "--private", "p"},
	} {
		r := runCLI(t, nil, args...)
		assert.Equal(t, exitUsage, r.code, "%q: %s", args, r.stderr)
		assertOneErrorLine(t, r)
	}
	// Not a pseudonym key: an ed25519 key file, a short key.
	priv, pub := filepath.Join(dir, "p"), filepath.Join(dir, "q")
	_, err := keyfile.Generate(priv, pub)
	require.NoError(t, err)
	r := runCLI(t, nil, "hash", "--hmac-key", priv, "alice")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "not")
	short := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(short, []byte("-----BEGIN OTELAUDIT HMAC KEY-----\nAAAA\n-----END OTELAUDIT HMAC KEY-----\n"), 0o600))
	r = runCLI(t, nil, "hash", "--hmac-key", short, "alice")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "want at least 32")
	// keygen never overwrites.
	require.Equal(t, exitOK, runCLI(t, nil, "keygen", "--hmac", keyPath).code)
	before, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	r = runCLI(t, nil, "keygen", "--hmac", keyPath)
	assert.Equal(t, exitUsage, r.code)
	after, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// TestTraceLimit: trace --limit prints the oldest n events and says there
// are more.
func TestTraceLimit(t *testing.T) {
	f := newFixture(t)
	id := fixtureTraces[1]
	r := runCLI(t, nil, "trace", "--json", "--limit", "2", id.String(), "--db", f.db)
	require.Equal(t, exitOK, r.code, r.stderr)
	objs := jsonLines(t, r.stdout)
	require.Len(t, objs, 2)
	assert.EqualValues(t, 2, objs[0]["seq"])
	assert.EqualValues(t, 5, objs[1]["seq"])
	assert.Contains(t, r.stderr, "oldest 2")
	r = runCLI(t, nil, "trace", "--limit", "-1", id.String(), "--db", f.db)
	assert.Equal(t, exitUsage, r.code)
}
