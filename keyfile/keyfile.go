// Package keyfile reads and writes the ed25519 keys that sign checkpoints
// (see otelaudit.WithSigningKey) as PEM files in the standard forms (PKCS #8
// "PRIVATE KEY", PKIX "PUBLIC KEY"), so that other tools, openssl for one,
// read them too; and the keys of pseudonyms (see otelaudit.WithPseudonyms)
// as a PEM block "OTELAUDIT HMAC KEY" of 32 random bytes. The otelaudit
// CLI's keygen command writes both kinds. Every reader refuses a file over
// MaxFileSize without reading it.
package keyfile

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrBadKey is wrapped when a file holds no key of the kind asked.
var ErrBadKey = errors.New("keyfile: not an ed25519 key file")

// Generate creates a new key pair and writes the private key to priv (mode
// 0600) and the public key to pub (0644). It refuses to overwrite either,
// and writes both or neither.
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
	// Both files are created (exclusively) before either is written, so a
	// pair is never left half made.
	fsk, err := os.OpenFile(priv, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	fpk, err := os.OpenFile(pub, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		fsk.Close()
		os.Remove(priv)
		return nil, err
	}
	_, err1 := fsk.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: skDER}))
	_, err2 := fpk.Write(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkDER}))
	if err := errors.Join(err1, err2, fsk.Close(), fpk.Close()); err != nil {
		os.Remove(priv)
		os.Remove(pub)
		return nil, err
	}
	return pk, nil
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

// MaxFileSize is the most a key file may hold: a PEM ed25519 key is about
// 120 bytes. A larger file, or a device that never ends (/dev/zero), is
// refused after reading this much, not read until memory runs out.
const MaxFileSize = 16 << 10

func readPEM(path, typ string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than a key file holds (%d)", path, ErrBadKey, fi.Size(), MaxFileSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: %w: more than a key file holds (%d bytes)", path, ErrBadKey, MaxFileSize)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		return nil, fmt.Errorf("%s: %w: no PEM %q block", path, ErrBadKey, typ)
	}
	return b.Bytes, nil
}

// HMACKeySize is the size of the pseudonym keys GenerateHMAC writes:
// otelaudit.MinPseudonymKeySize, 256 bits.
const HMACKeySize = 32

// hmacPEMType is the PEM block type of a pseudonym key: raw key bytes,
// there being no standard container for a bare HMAC key.
const hmacPEMType = "OTELAUDIT HMAC KEY"

// GenerateHMAC creates a new pseudonym key (see otelaudit.WithPseudonyms)
// of HMACKeySize random bytes and writes it to path (mode 0600) as a PEM
// block of type "OTELAUDIT HMAC KEY". It refuses to overwrite a file.
func GenerateHMAC(path string) ([]byte, error) {
	key := make([]byte, HMACKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(pem.EncodeToMemory(&pem.Block{Type: hmacPEMType, Bytes: key}))
	if err := errors.Join(err, f.Close()); err != nil {
		os.Remove(path)
		return nil, err
	}
	return key, nil
}

// ReadHMAC reads a pseudonym key written by GenerateHMAC. It refuses, with
// an error wrapping ErrBadKey, a file that holds no such block, or a key
// shorter than HMACKeySize.
func ReadHMAC(path string) ([]byte, error) {
	key, err := readPEM(path, hmacPEMType)
	if err != nil {
		return nil, err
	}
	if len(key) < HMACKeySize {
		return nil, fmt.Errorf("%s: %w: a pseudonym key of %d bytes, want at least %d", path, ErrBadKey, len(key), HMACKeySize)
	}
	return key, nil
}
