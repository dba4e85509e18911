package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
)

func TestVerifyOK(t *testing.T) {
	f := newFixture(t)
	cpFile := filepath.Join(f.dir, "checkpoints.jsonl")
	r := runCLI(t, nil, "checkpoints", "--db", f.db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NoError(t, os.WriteFile(cpFile, []byte(r.stdout), 0o600))

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"chain only", nil, []string{"6 agree with the trail (6 stored, 0 from --checkpoint)", "6 of them signed, signatures not checked"}},
		{"with the public key", []string{"--pubkey", f.pub}, []string{"all 6 signatures verified with --pubkey"}},
		{"with a checkpoint file", []string{"--checkpoint", cpFile}, []string{"12 agree with the trail (6 stored, 6 from --checkpoint)"}},
		{"with both", []string{"--checkpoint", cpFile, "--pubkey", f.pub}, []string{"all 12 signatures verified"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"verify", "--db", f.db}, tc.args...)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Empty(t, r.stderr)
			assert.Contains(t, r.stdout, "OK: "+f.db+" verifies.")
			assert.Contains(t, r.stdout, "30 events, seq 1 to 30, chained from the genesis.")
			assert.Regexp(t, `Head: seq 30, hash [0-9a-f]{64}\.`, r.stdout)
			for _, w := range tc.want {
				assert.Contains(t, r.stdout, w)
			}
		})
	}
}

// tamperedCopy copies the fixture's store and changes the stored value of
// event seq with change, opening the copy with bbolt directly, as an
// attacker with the file would.
func tamperedCopy(t *testing.T, f fixture, seq uint64, change func(v []byte)) string {
	t.Helper()
	path := filepath.Join(f.dir, "tampered.db")
	copyFile(t, f.db, path)
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		key := []byte{0, 0, 0, 0, 0, 0, 0, byte(seq)}
		v := bytes.Clone(b.Get(key))
		require.NotNil(t, v)
		change(v)
		return b.Put(key, v)
	}))
	require.NoError(t, db.Close())
	return path
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(to)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

func TestVerifyTampered(t *testing.T) {
	tests := []struct {
		name     string
		change   func(v []byte)
		printRow bool // the event still decodes, so its row is shown
	}{
		{"a byte of the action", func(v []byte) {
			i := bytes.Index(v, []byte("fetch"))
			require.Positive(t, i)
			v[i] ^= 0x20 // "Fetch"
		}, true},
		{"a byte of the stored hash", func(v []byte) { v[40] ^= 1 }, true},
		{"a byte of the previous hash", func(v []byte) { v[3] ^= 0x80 }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			path := tamperedCopy(t, f, 7, tc.change)
			r := runCLI(t, nil, "verify", "--db", path, "--pubkey", f.pub)
			assert.Equal(t, exitFail, r.code)
			assertOneErrorLine(t, r)
			assert.Contains(t, r.stderr, "does NOT verify: first bad event is seq 7: ")
			assert.Contains(t, r.stderr, "6 events verified before it")
			if tc.printRow {
				assert.Contains(t, r.stdout, "Seq 7, the first bad event, as stored:")
				assert.Equal(t, []uint64{7}, tableSeqs(t, r.stdout[strings.Index(r.stdout, "\n")+1:]))
			}

			// Reading commands still work on it, with a warning.
			r = runCLI(t, nil, "trace", fixtureTraces[0].String(), "--db", path)
			assert.Equal(t, exitOK, r.code)
			assertOneErrorLine(t, r)
			assert.Contains(t, r.stderr, "warning: "+path+" does not verify")
			assert.Contains(t, tableSeqs(t, r.stdout), uint64(7))
		})
	}
}

func TestVerifyWrongKey(t *testing.T) {
	f := newFixture(t)
	otherPub := filepath.Join(f.dir, "other.pub.pem")
	_, err := keyfile.Generate(filepath.Join(f.dir, "other.pem"), otherPub)
	require.NoError(t, err)
	r := runCLI(t, nil, "verify", "--db", f.db, "--pubkey", otherPub)
	assert.Equal(t, exitFail, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "the hash chain verifies, but not the signatures")
	assert.Contains(t, r.stderr, "signature does not verify")
	assert.Empty(t, r.stdout)
}

// TestVerifyRewrittenCheckpoint: a checkpoint kept off the machine that the
// store no longer agrees with fails verification.
func TestVerifyRewrittenCheckpoint(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "checkpoints", "--db", f.db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var c otelaudit.Checkpoint
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &c))
	c.Hash[0] ^= 1
	b, err := json.Marshal(c)
	require.NoError(t, err)
	cpFile := filepath.Join(f.dir, "cp.jsonl")
	require.NoError(t, os.WriteFile(cpFile, b, 0o600))

	r = runCLI(t, nil, "verify", "--db", f.db, "--checkpoint", cpFile)
	assert.Equal(t, exitFail, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "first bad event is seq 5")
	assert.Contains(t, r.stderr, "rewritten")
	assert.NotContains(t, r.stderr, "verified before it", "the chain itself held")
	assert.Contains(t, r.stdout, "Seq 5, the first bad event, as stored:")
}

func TestCheckpoints(t *testing.T) {
	f := newFixture(t)
	r := runCLI(t, nil, "checkpoints", "--db", f.db)
	require.Equal(t, exitOK, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 7)
	assert.Regexp(t, `^SEQ +TIME +TREE SIZE +ROOT +SIGNED$`, lines[0])
	for i, l := range lines[1:] {
		n := []string{"5", "10", "15", "20", "25", "30"}[i]
		assert.Regexp(t, `^`+n+` +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z +`+n+` +[0-9a-f]{64} +yes, as otelaudit/[0-9a-f]{16}$`, l)
	}

	r = runCLI(t, nil, "checkpoints", "--db", f.db, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	pub := f.publicKey(t)
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var c otelaudit.Checkpoint
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&c))
		assert.NoError(t, c.VerifySignature(pub), "the JSON round trip keeps the signature valid")
		assert.Equal(t, "UTC", c.Time.Location().String())
	}
}
