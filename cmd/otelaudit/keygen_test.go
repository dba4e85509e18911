package main

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelaudit/otelaudit-go/keyfile"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub.pem")
	r := runCLI(t, nil, "keygen", "--private", priv, "--public", pub)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Contains(t, r.stdout, priv)
	assert.Contains(t, r.stdout, pub)

	sk, err := keyfile.ReadPrivate(priv)
	require.NoError(t, err)
	pk, err := keyfile.ReadPublic(pub)
	require.NoError(t, err)
	msg := []byte("checkpoint")
	assert.True(t, ed25519.Verify(pk, msg, ed25519.Sign(sk, msg)), "the two files are one pair")
	fi, err := os.Stat(priv)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	before, err := os.ReadFile(priv)
	require.NoError(t, err)
	r = runCLI(t, nil, "keygen", "--private", priv, "--public", filepath.Join(dir, "new.pub.pem"))
	assert.Equal(t, exitUsage, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "already exists")
	after, err := os.ReadFile(priv)
	require.NoError(t, err)
	assert.Equal(t, before, after, "an existing key is never overwritten")
	assert.NoFileExists(t, filepath.Join(dir, "new.pub.pem"))

	// The public file exists: no half pair is left behind.
	fresh := filepath.Join(dir, "fresh.pem")
	r = runCLI(t, nil, "keygen", "--private", fresh, "--public", pub)
	assert.Equal(t, exitUsage, r.code)
	assertOneErrorLine(t, r)
	assert.NoFileExists(t, fresh)

	r = runCLI(t, nil, "keygen", "--private", fresh, "--public", fresh)
	assert.Equal(t, exitUsage, r.code)
	assertOneErrorLine(t, r)
	assert.Contains(t, r.stderr, "same file")
}
