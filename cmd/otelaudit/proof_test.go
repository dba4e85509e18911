package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/evidence"
	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// proof writes a bundle that verify-proof accepts with the key alone; a
// bundle changed anywhere, or checked with another key, exits 1 naming
// what does not hold.
func TestProofAndVerifyProof(t *testing.T) {
	f := newFixture(t)
	id := fixtureTraces[1].String()
	r := runCLI(t, nil, "proof", "--db", f.db, id)
	require.Equal(t, exitOK, r.code, r.stderr)
	var b evidence.Bundle
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &b))
	assert.Len(t, b.Events, fixtureEvents/3)
	bundle := filepath.Join(f.dir, "bundle.json")
	require.NoError(t, os.WriteFile(bundle, []byte(r.stdout), 0o600))

	// Offline: a copy of the public key, no store anywhere near.
	offline := t.TempDir()
	pub := filepath.Join(offline, "audit.pub")
	data, err := os.ReadFile(f.pub)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pub, data, 0o600))
	require.NoError(t, os.Remove(f.db))
	ok := runCLI(t, nil, "verify-proof", "--pubkey", pub, bundle)
	require.Equal(t, exitOK, ok.code, ok.stderr)
	assert.Contains(t, ok.stdout, "OK: "+bundle+" verifies with --pubkey.")
	assert.Contains(t, ok.stdout, "Trace "+id+": 10 events")

	// Another key.
	other := filepath.Join(offline, "other")
	_, err = keyfile.Generate(other, other+".pub")
	require.NoError(t, err)
	bad := runCLI(t, nil, "verify-proof", "--pubkey", other+".pub", bundle)
	assert.Equal(t, exitFail, bad.code)
	assert.Contains(t, bad.stderr, "does NOT verify: evidence: checkpoint:")
	assertOneErrorLine(t, bad)

	// One byte of one event's canonical bytes.
	b.Events[4].Canonical[len(b.Events[4].Canonical)-1] ^= 1
	changed := filepath.Join(offline, "changed.json")
	js, _ := json.Marshal(b)
	require.NoError(t, os.WriteFile(changed, js, 0o600))
	bad = runCLI(t, nil, "verify-proof", "--pubkey", pub, changed)
	assert.Equal(t, exitFail, bad.code)
	assert.Regexp(t, `does NOT verify: evidence: event (seq \d+|4 \(leaf \d+\))`, bad.stderr)

	// Usage: no key, no file, not a bundle.
	assert.Equal(t, exitUsage, runCLI(t, nil, "verify-proof", bundle).code)
	assert.Equal(t, exitUsage, runCLI(t, nil, "verify-proof", "--pubkey", pub).code)
	notBundle := runCLI(t, nil, "verify-proof", "--pubkey", pub, pub)
	assert.Equal(t, exitUsage, notBundle.code)
	assert.Contains(t, notBundle.stderr, "not an evidence bundle")
	assert.Equal(t, exitUsage, runCLI(t, nil, "verify-proof", "--pubkey", pub, "--origin", "x", filepath.Join(offline, "nope.json")).code)
	wrongOrigin := runCLI(t, nil, "verify-proof", "--pubkey", pub, "--origin", "audit.example.com/other", bundle)
	assert.Equal(t, exitFail, wrongOrigin.code)
	assert.Contains(t, wrongOrigin.stderr, "is of the trail")
}

func TestProofNotFound(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "proof", "--db", f.db, "0123456789abcdef0123456789abcdef")
	assert.Equal(t, exitFail, r.code)
	assert.Contains(t, r.stderr, "no event of trace")
	assert.Empty(t, r.stdout)
	assert.Equal(t, exitUsage, runCLI(t, nil, "proof", "--db", f.db, "nothex").code)
}

// consistency proves that the store extends a checkpoint kept elsewhere,
// and fails once the trail was rewritten after it, even re-signed.
func TestConsistencyCommand(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "checkpoints", "--db", f.db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Greater(t, len(lines), 2)
	kept := filepath.Join(f.dir, "kept.jsonl")
	require.NoError(t, os.WriteFile(kept, []byte(lines[1]+"\n"), 0o600))
	var c otelaudit.Checkpoint
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &c))
	require.NotEmpty(t, c.Signature)
	note := filepath.Join(f.dir, "kept.note")
	require.NoError(t, os.WriteFile(note, c.Note(), 0o600))

	for _, from := range []string{kept, note} {
		ok := runCLI(t, nil, "consistency", "--db", f.db, "--from", from, "--pubkey", f.pub)
		require.Equal(t, exitOK, ok.code, ok.stderr)
		assert.Regexp(t, `^OK: the newest checkpoint of .* \(a tree of 30 events, root [0-9a-f]{64}\) extends the kept one \(10 events, root [0-9a-f]{64}\): both signed with --pubkey; a proof of \d+ hashes\.\n$`, ok.stdout)
	}
	js := runCLI(t, nil, "consistency", "--db", f.db, "--from", kept, "--json")
	require.Equal(t, exitOK, js.code, js.stderr)
	var proof evidence.Consistency
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &proof))
	pub, err := keyfile.ReadPublic(f.pub)
	require.NoError(t, err)
	_, _, err = proof.Verify(pub)
	require.NoError(t, err)

	// Rewrite event 4 and re-chain (the kept checkpoint is of 10 events):
	// no consistency proof leads from the kept tree to the rewritten one.
	editStore(t, f.db, func(tx *bolt.Tx) error {
		rewrite(t, tx, 4, func(e *otelaudit.Event, _ []byte) []byte {
			e.Action = "nothing to see"
			b, _ := e.MarshalBinary()
			return b
		})
		return nil
	})
	bad := runCLI(t, nil, "consistency", "--db", f.db, "--from", kept)
	assert.Equal(t, exitFail, bad.code, bad.stdout)
	assert.Contains(t, bad.stderr, "does NOT extend the kept checkpoint (tree of 10)")
	assert.Contains(t, bad.stderr, "warning: "+f.db+" does not verify", "and it says the store does not verify either")

	assert.Equal(t, exitUsage, runCLI(t, nil, "consistency", "--db", f.db).code)
	assert.Equal(t, exitUsage, runCLI(t, nil, "consistency", "--db", f.db, "--from", f.pub).code)
}
