package keyfile

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

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
