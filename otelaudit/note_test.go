package otelaudit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// signedNote returns a checkpoint of a tree of 1234 leaves signed with a
// new key, and the key.
func signedNote(t *testing.T) (otelaudit.Checkpoint, ed25519.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	c := otelaudit.Checkpoint{Origin: "audit.example.com/trail", Size: 1234, Root: otelaudit.Hash{1, 2, 3}, Seq: 1240, Time: time.Now()}.Sign(priv)
	require.NotNil(t, c.Signature)
	return c, pub
}

// A checkpoint's note is a C2SP signed note as x/mod/sumdb/note reads it,
// and ParseNote takes it back, exactly.
func TestNoteIsC2SP(t *testing.T) {
	c, pub := signedNote(t)
	vkey, err := otelaudit.NoteVerifierKey(c.Origin, pub)
	require.NoError(t, err)
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	n, err := note.Open(c.Note(), note.VerifierList(v))
	require.NoError(t, err, "the note library opens it with the verifier key")
	assert.Equal(t, c.Text(), n.Text)
	assert.Equal(t, "audit.example.com/trail\n1234\n"+base64.StdEncoding.EncodeToString(c.Root[:])+"\n", n.Text)

	back, err := otelaudit.ParseNote(c.Note())
	require.NoError(t, err)
	assert.Equal(t, c.Origin, back.Origin)
	assert.Equal(t, c.Size, back.Size)
	assert.Equal(t, c.Root, back.Root)
	assert.Equal(t, c.Signature, back.Signature)
	assert.Zero(t, back.Seq, "not in the note")
	require.NoError(t, back.VerifySignature(pub))
}

// Witnesses add their cosignatures to a checkpoint (C2SP tlog-witness):
// a note with signatures of other keys beside the trail's is the trail's
// checkpoint, whose other signatures a verifier ignores, as C2SP says.
func TestNoteWithCosignatures(t *testing.T) {
	c, pub := signedNote(t)
	vkey, err := otelaudit.NoteVerifierKey(c.Origin, pub)
	require.NoError(t, err)
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	n, err := note.Open(c.Note(), note.VerifierList(v))
	require.NoError(t, err)
	wkey, _, err := note.GenerateKey(rand.Reader, "witness.example.org")
	require.NoError(t, err)
	witness, err := note.NewSigner(wkey)
	require.NoError(t, err)
	cosigned, err := note.Sign(n, witness)
	require.NoError(t, err)
	require.Contains(t, string(cosigned), "\n\u2014 witness.example.org ")

	got, err := otelaudit.ParseNote(cosigned)
	require.NoError(t, err, "a cosigned checkpoint")
	assert.Equal(t, c.Signature, got.Signature, "the trail's own signature")
	assert.Equal(t, c.Size, got.Size)
	require.NoError(t, got.VerifySignature(pub))

	// The witness's line first: order says nothing in a note.
	text, sigs, _ := strings.Cut(string(cosigned), "\n\n")
	lines := strings.SplitAfter(sigs, "\n")
	got, err = otelaudit.ParseNote([]byte(text + "\n\n" + lines[1] + lines[0]))
	require.NoError(t, err)
	assert.Equal(t, c.Signature, got.Signature)
}

// ParseNote takes one spelling of a checkpoint, and nothing that is not
// one: every other form is refused, with ErrBadNote.
func TestParseNoteRefuses(t *testing.T) {
	c, _ := signedNote(t)
	good := string(c.Note())
	text, sig, _ := strings.Cut(good, "\n\n")
	rootB64 := base64.StdEncoding.EncodeToString(c.Root[:])
	// The same root bytes, another spelling: base64's unused low bits set.
	loose := rootB64[:len(rootB64)-2] + string(rune(rootB64[len(rootB64)-2]+1)) + "="
	_, other, _ := ed25519.GenerateKey(nil)
	otherSig := string(otelaudit.Checkpoint{Origin: c.Origin, Size: c.Size, Root: c.Root}.Sign(other).Note())
	_, otherLine, _ := strings.Cut(otherSig, "\n\n")
	for name, b := range map[string]string{
		"empty":                        "",
		"no signature":                 text + "\n",
		"no blank line":                text + sig,
		"CRLF":                         strings.ReplaceAll(good, "\n", "\r\n"),
		"a size with a leading zero":   strings.Replace(good, "\n1234\n", "\n01234\n", 1),
		"a size with a plus sign":      strings.Replace(good, "\n1234\n", "\n+1234\n", 1),
		"a size past uint64":           strings.Replace(good, "\n1234\n", "\n18446744073709551616\n", 1),
		"a root of another spelling":   strings.Replace(good, rootB64, loose, 1),
		"a root of 31 bytes":           strings.Replace(good, rootB64, base64.StdEncoding.EncodeToString(c.Root[:31]), 1),
		"an extension line":            strings.Replace(good, "\n\n", "\nextension\n\n", 1),
		"the signature of another key": strings.Replace(good, sig, otherLine, 1) + sig,
		"the origin's line twice":      good + sig,
		"a signature line unsigned":    good + "\u2014 witness.example.org\n",
		"a signature line not base64":  good + "\u2014 witness.example.org !!!!\n",
		"a signature line too short":   good + "\u2014 witness.example.org AAAA\n",
		"a line that is no signature":  good + "hello\n",
		"no final newline":             strings.TrimSuffix(good, "\n"),
		"another origin's signature":   strings.Replace(good, "\u2014 "+c.Origin+" ", "\u2014 other.example.org ", 1),
		"too long":                     good + strings.Repeat("\u2014 w.example.org "+base64.StdEncoding.EncodeToString(make([]byte, 68))+"\n", 100),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := otelaudit.ParseNote([]byte(b))
			assert.ErrorIs(t, err, otelaudit.ErrBadNote)
		})
	}
}

// VerifySignature checks the key hash too: a signature line that names
// the origin with another key's hash does not verify.
func TestNoteKeyHash(t *testing.T) {
	c, pub := signedNote(t)
	c.Signature = append([]byte(nil), c.Signature...)
	c.Signature[0] ^= 1
	assert.ErrorIs(t, c.VerifySignature(pub), otelaudit.ErrBadSignature)
}

// A store keeps an origin in a length byte: an origin of more than
// MaxOrigin bytes is one no checkpoint can carry, and a Generator given
// one signs under the default, as for any origin WithOrigin ignores,
// rather than write checkpoints its store cannot read back.
func TestOriginLength(t *testing.T) {
	long := "audit.example.com/" + strings.Repeat("x", otelaudit.MaxOrigin)
	assert.NoError(t, otelaudit.CheckOrigin(long[:otelaudit.MaxOrigin]))
	assert.ErrorIs(t, otelaudit.CheckOrigin(long[:otelaudit.MaxOrigin+1]), otelaudit.ErrBadOrigin)

	pub, priv, _ := ed25519.GenerateKey(nil)
	path := filepath.Join(t.TempDir(), "audit.db")
	st, err := store.Open(path)
	require.NoError(t, err)
	g, err := otelaudit.New(otelaudit.WithStore(st), otelaudit.WithSigningKey(priv), otelaudit.WithOrigin(long))
	require.NoError(t, err)
	_, err = g.Record(context.Background(), intent(1))
	require.NoError(t, err)
	require.NoError(t, g.Shutdown(context.Background()))
	st, err = store.Open(path, store.WithPublicKey(pub))
	require.NoError(t, err, "the store reopens")
	defer st.Close()
	cps, err := st.Checkpoints()
	require.NoError(t, err)
	require.NotEmpty(t, cps)
	assert.Equal(t, otelaudit.DefaultOrigin(pub), cps[0].Origin)
}
