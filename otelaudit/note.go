package otelaudit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// A Checkpoint as a signed note (C2SP signed-note format): signing it with
// an ed25519 key, checking its signature, and parsing a note back, bounded
// in size and in signature lines.

// Note returns the checkpoint as a signed note, as C2SP tools read it:
// Text, a blank line, and the signature line. Nil when unsigned.
func (c Checkpoint) Note() []byte {
	if len(c.Signature) == 0 {
		return nil
	}
	return []byte(c.Text() + "\n\u2014 " + c.Origin + " " + base64.StdEncoding.EncodeToString(c.Signature) + "\n")
}

// noteSigner is a note signer of key under the key name origin: a C2SP
// ed25519 signer, built with golang.org/x/mod/sumdb/note from the same key
// the PEM key files hold.
func noteSigner(origin string, key ed25519.PrivateKey) (note.Signer, error) {
	if err := CheckOrigin(origin); err != nil {
		return nil, err
	}
	vkey, err := note.NewEd25519VerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	// vkey is name+hash+key; the signer key is PRIVATE+KEY+name+hash and
	// the algorithm byte with the seed.
	hash := strings.Split(strings.TrimPrefix(vkey, origin+"+"), "+")[0]
	seed := append([]byte{1}, key.Seed()...)
	return note.NewSigner("PRIVATE+KEY+" + origin + "+" + hash + "+" + base64.StdEncoding.EncodeToString(seed))
}

// noteVerifier is the note verifier of pub under the key name origin.
func noteVerifier(origin string, pub ed25519.PublicKey) (note.Verifier, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key of %d bytes, want %d", ErrBadSignature, len(pub), ed25519.PublicKeySize)
	}
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOrigin, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return v, nil
}

// NoteVerifierKey returns the verifier key of pub for the trail origin in
// the form C2SP tools take it ("<origin>+<key hash>+<key>"): give it to a
// witness or a note verifier, and it checks this trail's checkpoints.
func NoteVerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	if err := CheckOrigin(origin); err != nil {
		return "", err
	}
	return note.NewEd25519VerifierKey(origin, pub)
}

// Sign returns c signed with key: its Origin (DefaultOrigin of the key
// when empty), Size and Root in a signed note.
func (c Checkpoint) Sign(key ed25519.PrivateKey) Checkpoint {
	if c.Origin == "" {
		c.Origin = DefaultOrigin(key.Public().(ed25519.PublicKey))
	}
	s, err := noteSigner(c.Origin, key)
	if err != nil {
		c.Signature = nil
		return c
	}
	return c.sign(s)
}

// sign signs c with s, whose name must be c.Origin.
func (c Checkpoint) sign(s note.Signer) Checkpoint {
	c.Time = time.Unix(0, c.Time.UnixNano())
	msg, err := note.Sign(&note.Note{Text: c.Text()}, s)
	if err != nil {
		c.Signature = nil
		return c
	}
	// The one signature line: "— name base64(hash | signature)".
	line := msg[len(c.Text())+1:]
	b64 := line[bytes.LastIndexByte(line[:len(line)-1], ' ')+1 : len(line)-1]
	c.Signature, _ = base64.StdEncoding.DecodeString(string(b64))
	return c
}

// VerifySignature checks c's signature with pub: that the note of c opens
// with the note verifier of pub named c.Origin. It refuses an unsigned
// checkpoint. The error wraps ErrChainBroken and ErrBadSignature.
func (c Checkpoint) VerifySignature(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return &ChainError{Seq: c.Seq, Reason: fmt.Sprintf("public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize), Err: ErrBadSignature}
	}
	if len(c.Signature) == 0 {
		return &ChainError{Seq: c.Seq, Reason: "checkpoint is not signed", Err: ErrBadSignature}
	}
	if err := CheckOrigin(c.Origin); err != nil {
		return &ChainError{Seq: c.Seq, Reason: err.Error(), Err: ErrBadSignature}
	}
	v, err := noteVerifier(c.Origin, pub)
	if err != nil {
		return &ChainError{Seq: c.Seq, Reason: err.Error(), Err: ErrBadSignature}
	}
	if _, err := note.Open(c.Note(), note.VerifierList(v)); err != nil {
		return &ChainError{Seq: c.Seq, Reason: fmt.Sprintf("checkpoint of tree size %d: its signature does not verify with the public key given (%v)", c.Size, err), Err: ErrBadSignature}
	}
	return nil
}

// ParseNote reads a signed note as Note writes it: three lines of text
// (origin, tree size, root hash), a blank line, and the signature line
// whose key name is the origin. Signature lines of other keys (a
// witness's cosignature: see https://c2sp.org/tlog-witness) may stand
// beside it, in any order: they must be well formed, and are dropped, as a
// C2SP verifier ignores signatures of keys it does not know. It checks the
// form, not the signature (see VerifySignature), and accepts, for the
// text and the origin's line, exactly the bytes Note gives for the
// checkpoint it returns: no second spelling of a size, hash or signature.
// Seq, Hash and Time are not in a note: they are zero.
func ParseNote(b []byte) (Checkpoint, error) {
	bad := func(why string) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrBadNote, why)
	}
	if len(b) > maxNote {
		return bad(fmt.Sprintf("%d bytes", len(b)))
	}
	text, sigs, ok := strings.Cut(string(b), "\n\n")
	if !ok {
		return bad("no blank line before the signature")
	}
	lines := strings.Split(text, "\n")
	if len(lines) != 3 {
		return bad(fmt.Sprintf("%d lines of text, want 3 (origin, tree size, root hash)", len(lines)))
	}
	var c Checkpoint
	c.Origin = lines[0]
	if err := CheckOrigin(c.Origin); err != nil {
		return bad(err.Error())
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return bad(fmt.Sprintf("tree size %q", lines[1]))
	}
	c.Size = size
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != len(c.Root) {
		return bad(fmt.Sprintf("root hash %q", lines[2]))
	}
	c.Root = Hash(root)
	if sigs == "" || !strings.HasSuffix(sigs, "\n") {
		return bad("no signature line")
	}
	sigLines := strings.SplitAfter(sigs[:len(sigs)-1], "\n")
	if len(sigLines) > maxNoteSigs {
		return bad(fmt.Sprintf("%d signature lines", len(sigLines)))
	}
	for _, line := range sigLines {
		line = strings.TrimSuffix(line, "\n")
		name, b64, ok := strings.Cut(strings.TrimPrefix(line, "\u2014 "), " ")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if !strings.HasPrefix(line, "\u2014 ") || !ok || CheckOrigin(name) != nil || err != nil || len(sig) < 5 {
			return bad(fmt.Sprintf("%q is not a signature line", line))
		}
		if name != c.Origin {
			continue
		}
		if c.Signature != nil {
			return bad("two signature lines of the origin")
		}
		if len(sig) != noteSigSize {
			return bad("the signature is not a key hash and an ed25519 signature")
		}
		c.Signature = sig
		if c.Text()+"\n"+line+"\n" != string(c.Note()) {
			return bad("not in its canonical form")
		}
	}
	if c.Signature == nil {
		return bad("no signature line of the origin")
	}
	if c.Text() != text+"\n" {
		return bad("not in its canonical form")
	}
	return c, nil
}

// noteSigSize is the size of a note signature: key hash and ed25519
// signature; maxNote bounds what ParseNote reads.
const (
	noteSigSize = 4 + ed25519.SignatureSize
	maxNote     = 4096
	// maxNoteSigs is as many signature lines as a note may have (the
	// note library's own bound).
	maxNoteSigs = 100
)
