package keyfile

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenerateAndRead(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "k"), filepath.Join(dir, "k.pub")
	pk, err := Generate(priv, pub)
	require.NoError(t, err)
	sk, err := ReadPrivate(priv)
	require.NoError(t, err)
	assert.Equal(t, pk, sk.Public().(ed25519.PublicKey))
	got, err := ReadPublic(pub)
	require.NoError(t, err)
	assert.Equal(t, pk, got)

	_, err = Generate(priv, filepath.Join(dir, "other.pub"))
	assert.ErrorIs(t, err, os.ErrExist, "never overwrites a key")
	assert.NoFileExists(t, filepath.Join(dir, "other.pub"), "writes both or neither")
	_, err = Generate(filepath.Join(dir, "other"), pub)
	assert.ErrorIs(t, err, os.ErrExist)
	assert.NoFileExists(t, filepath.Join(dir, "other"), "writes both or neither")
	_, err = ReadPublic(priv)
	assert.ErrorIs(t, err, ErrBadKey, "a private key is not a public key")
	_, err = ReadPrivate(pub)
	assert.ErrorIs(t, err, ErrBadKey)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk"), []byte("junk"), 0o600))
	_, err = ReadPublic(filepath.Join(dir, "junk"))
	assert.ErrorIs(t, err, ErrBadKey)
	_, err = ReadPrivate(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// Key files are small: a big file, or a device that never ends, is refused
// at once instead of read until memory runs out.
func TestReadRefusesLargeFiles(t *testing.T) {
	dir := t.TempDir()
	priv := filepath.Join(dir, "k")
	_, err := Generate(priv, filepath.Join(dir, "k.pub"))
	require.NoError(t, err)
	pem, err := os.ReadFile(priv)
	require.NoError(t, err)
	big := filepath.Join(dir, "big")
	// A valid key, padded with comments past the bound.
	require.NoError(t, os.WriteFile(big, append(pem, make([]byte, MaxFileSize)...), 0o600))
	_, err = ReadPrivate(big)
	assert.ErrorIs(t, err, ErrBadKey)
	assert.Contains(t, err.Error(), "more than a key file holds")

	if _, err := os.Stat("/dev/zero"); err == nil {
		done := make(chan error, 1)
		go func() { _, err := ReadPrivate("/dev/zero"); done <- err }()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, ErrBadKey)
		case <-time.After(5 * time.Second):
			t.Fatal("reading /dev/zero did not stop")
		}
	}
}
