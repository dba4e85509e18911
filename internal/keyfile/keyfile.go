// Package keyfile reads and writes the ed25519 keys that sign checkpoints,
// as PEM files in the standard forms (PKCS #8 "PRIVATE KEY", PKIX "PUBLIC
// KEY"), so that other tools (openssl, say) read them too.
package keyfile

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ErrBadKey is wrapped when a file holds no ed25519 key of the kind asked.
var ErrBadKey = errors.New("not an ed25519 key file")

// Generate creates a new key pair and writes the private key to priv (mode
// 0600) and the public key to pub (0644). It refuses to overwrite either.
func Generate(priv, pub string) (ed25519.PublicKey, error) {
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	skDER, err := x509.MarshalPKCS8PrivateKey(sk)
	if err != nil {
		return nil, err
	}
	pkDER, err := x509.MarshalPKIXPublicKey(pk)
	if err != nil {
		return nil, err
	}
	if err := create(priv, 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: skDER})); err != nil {
		return nil, err
	}
	if err := create(pub, 0o644, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkDER})); err != nil {
		return nil, err
	}
	return pk, nil
}

func create(path string, mode os.FileMode, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadPrivate reads a private key written by Generate.
func ReadPrivate(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrBadKey, err)
	}
	sk, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: %w: a %T", path, ErrBadKey, k)
	}
	return sk, nil
}

// ReadPublic reads a public key written by Generate.
func ReadPublic(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrBadKey, err)
	}
	pk, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: %w: a %T", path, ErrBadKey, k)
	}
	return pk, nil
}

func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		return nil, fmt.Errorf("%s: %w: no PEM %q block", path, ErrBadKey, typ)
	}
	return b.Bytes, nil
}
