package otelaudit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoints are built, signed and checked here and in tree.go, and
// nowhere else: the Generator signs them (without a store periodically, on
// demand and at Shutdown; with a store, every commit: see tree.go), and
// VerifyCheckpoints and VerifySigned are the one place they are held
// against a trail.

// Checkpoint is a signed statement of the trail: a C2SP checkpoint (a
// signed note, see https://c2sp.org/tlog-checkpoint) whose text is the
// trail's origin, the size of its Merkle tree and the tree's root hash:
//
//	otelaudit/0dde34297cbd73ca
//	104
//	mJ4dQXP5Mt2uGJ0F1Ck4F1g5pb8yHCjP1mAJ4vW1PMI=
//
//	— otelaudit/0dde34297cbd73ca Az3grl...
//
// The tree's leaves are the events' Hashes, in the trail's order (see
// LeafHash), so the note vouches for every event in it: a verifier holding
// the public key alone detects a trail whose tail was cut or rewritten
// after the checkpoint, proves that an event is in it (an inclusion
// proof), and that a later checkpoint extends it (a consistency proof).
// Witnesses and tools that read C2SP checkpoints read it as it is (see
// Note).
//
// Seq and Hash name the tree's last leaf, the chain head, and Time says
// when the checkpoint was made. They are not in the note and not signed:
// the tree binds them (the last leaf of a tree of Size leaves is the event
// Seq, of Hash), and a verifier that holds the trail checks them against it.
type Checkpoint struct {
	// Origin names the trail (the first line of the note, and the name
	// of the key in its signature line): see WithOrigin, DefaultOrigin.
	Origin string
	// Size is how many leaves (events) the tree has; Root its RFC 6962
	// root hash.
	Size uint64
	Root Hash
	// Seq and Hash are the chain head: the event that is the tree's last
	// leaf. Not signed.
	Seq  uint64
	Hash Hash
	// Time is when the checkpoint was made. Not signed.
	Time time.Time
	// Signature is the note's signature as its signature line carries it:
	// the key hash (4 bytes) and the ed25519 signature of Text (64); nil
	// when unsigned.
	Signature []byte
}

// DefaultOrigin is the origin of a trail whose Generator was given none
// (see WithOrigin): "otelaudit/" and the first 8 bytes, in hex, of the
// SHA-256 of pub. It names the key, so every trail of one key shares it:
// give each trail its own with WithOrigin.
func DefaultOrigin(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "otelaudit/" + hex.EncodeToString(sum[:8])
}

// MaxOrigin is the longest origin, in bytes: a store keeps a checkpoint's
// origin after a length byte.
const MaxOrigin = 255

// CheckOrigin returns nil for an origin a checkpoint can carry (the note's
// first line, and its key name), else an error wrapping ErrBadOrigin.
func CheckOrigin(origin string) error {
	if origin == "" || len(origin) > MaxOrigin || !utf8.ValidString(origin) || strings.ContainsRune(origin, '+') ||
		strings.IndexFunc(origin, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%w: %q", ErrBadOrigin, origin)
	}
	return nil
}

// Text returns the note text the signature covers: the origin, the tree
// size in decimal and the root hash in base64, one per line.
func (c Checkpoint) Text() string {
	return c.Origin + "\n" + strconv.FormatUint(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
}

// SignedBytes returns what the signature covers: Text.
func (c Checkpoint) SignedBytes() []byte { return []byte(c.Text()) }

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
		return nil, fmt.Errorf("otelaudit: public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		return nil, err
	}
	return note.NewVerifier(vkey)
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
		return fmt.Errorf("otelaudit: public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize)
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

// checkpointJSON is the JSON form of a Checkpoint: the note, which alone
// is signed, and beside it the chain head and the time; size, root and
// origin repeat the note for people and jq.
type checkpointJSON struct {
	Seq    uint64    `json:"seq"`
	Hash   Hash      `json:"hash"`
	Time   time.Time `json:"time"`
	Origin string    `json:"origin,omitempty"`
	Size   uint64    `json:"size"`
	Root   Hash      `json:"root"`
	Note   string    `json:"note,omitempty"`
}

// MarshalJSON writes c with its signed note (see Note).
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointJSON{Seq: c.Seq, Hash: c.Hash, Time: c.Time, Origin: c.Origin, Size: c.Size, Root: c.Root, Note: string(c.Note())})
}

// UnmarshalJSON reads what MarshalJSON writes, and refuses any other
// field. The note, when there is one, is what counts: origin, size and
// root must agree with it.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	// Strict: a field that is not a checkpoint's says it is something
	// else (an event has seq, hash and time too).
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j checkpointJSON
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %w", ErrBadNote, err)
	}
	out := Checkpoint{Origin: j.Origin, Size: j.Size, Root: j.Root, Seq: j.Seq, Hash: j.Hash, Time: j.Time}
	if j.Note != "" {
		n, err := ParseNote([]byte(j.Note))
		if err != nil {
			return err
		}
		if (j.Origin != "" && j.Origin != n.Origin) || j.Size != n.Size || j.Root != n.Root {
			return fmt.Errorf("%w: origin, size or root differ from the note's", ErrBadNote)
		}
		out.Origin, out.Size, out.Root, out.Signature = n.Origin, n.Size, n.Root, n.Signature
	}
	*c = out
	return nil
}

// maxCheckpoints is how many checkpoints a Generator keeps in memory; the
// store keeps them all.
const maxCheckpoints = 1024

// checkpointState is what a Generator with a signing key keeps of its
// checkpoints. Invariants, under the Generator's lock but ctree:
//   - kept are the newest maxCheckpoints signed checkpoints, oldest
//     first, each of the trail as it was when signed;
//   - without a store, lastTime and lastSeq are the Time and Seq of the
//     last checkpoint signed (the anchor's Seq and the start before any):
//     the next is due cfg.cpEvents events or cfg.cpInterval later;
//   - msDone <= msAsked: Checkpoint asked for msAsked milestones, and the
//     writer kept the newest commit's checkpoint at the time of the first
//     msDone of them in the store (see Checkpoint);
//   - origin and signer are set once, with the key; ctree, with a store,
//     is the Merkle tree of the durable events, the writer's own (it grows
//     it outside the lock, see tree.go).
type checkpointState struct {
	kept            []Checkpoint
	lastTime        time.Time
	lastSeq         uint64
	msAsked, msDone uint64
	origin          string
	signer          note.Signer
	ctree           commitTree
}

// Checkpoint returns a signed checkpoint of the trail (see WithSigningKey).
// Without a store it seals every event recorded so far and returns a
// checkpoint of the head: the newest one made, if it is of the head, else a
// new one, which the Generator keeps (see Checkpoints). With a store it
// returns the newest commit's signed checkpoint (before the first, the
// store's signed head): the events not durable yet are not in it
// (ForceFlush first to have them in it). It also asks the writer to keep
// a milestone in the store: the checkpoint of the commit that takes the
// events not durable yet, or, with none, the one it returns; ForceFlush
// and Shutdown wait for it. Without a key it returns the head, unsigned,
// and without its tree.
func (g *Generator) Checkpoint() Checkpoint {
	if g.invalid() {
		return Checkpoint{}
	}
	if g.cfg.signer != nil && g.cfg.store != nil {
		g.mu.Lock()
		if !g.closed && g.startErr == nil {
			g.cps.msAsked++
		}
		c, _ := g.lastCheckpoint()
		g.mu.Unlock()
		g.kick()
		return c
	}
	g.lockSealed()
	defer g.mu.Unlock()
	if g.cfg.signer == nil {
		return Checkpoint{Seq: g.seal.sealed - 1, Hash: g.seal.head, Time: time.Now()}
	}
	if c, ok := g.lastCheckpoint(); ok && c.Seq == g.seal.sealed-1 {
		return c
	}
	return g.addCheckpoint()
}

// Checkpoints returns the signed checkpoints made so far, oldest first: the
// newest 1,024 of those kept every WithCheckpointInterval, on demand and at
// Shutdown (a store keeps them all), and, with a store, last, the newest
// commit's when it is newer than them.
func (g *Generator) Checkpoints() []Checkpoint {
	if g.invalid() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Checkpoint, len(g.cps.kept), len(g.cps.kept)+1)
	copy(out, g.cps.kept)
	if n := len(out); g.dur.signedHead.Signature != nil && (n == 0 || out[n-1].Seq < g.dur.signedHead.Seq) {
		out = append(out, g.dur.signedHead)
	}
	for i := range out {
		out[i].Signature = append([]byte(nil), out[i].Signature...)
	}
	return out
}

// lastCheckpoint returns the newest checkpoint made, the newest commit's
// included. Lock only.
func (g *Generator) lastCheckpoint() (Checkpoint, bool) {
	n := len(g.cps.kept)
	switch {
	case n > 0 && g.cps.kept[n-1].Seq >= g.dur.signedHead.Seq:
		return g.cps.kept[n-1], true
	case g.dur.signedHead.Signature != nil:
		return g.dur.signedHead, true
	}
	return Checkpoint{}, false
}

// maybeCheckpoint signs a checkpoint of the head of a Generator without a
// store when the configured number of events, or the configured time, has
// passed since the last one. Lock only.
func (g *Generator) maybeCheckpoint() {
	head := g.seal.sealed - 1
	if head == g.cps.lastSeq || head == 0 {
		return
	}
	if head-g.cps.lastSeq >= uint64(g.cfg.cpEvents) || time.Since(g.cps.lastTime) >= g.cfg.cpInterval {
		g.addCheckpoint()
	}
}

// addCheckpoint signs the head of a Generator without a store, from the
// tree sealing grows, and keeps it. Lock only; the head must be sealed.
func (g *Generator) addCheckpoint() Checkpoint {
	c := Checkpoint{Origin: g.cps.origin, Size: g.seal.memTree.Size(), Root: g.seal.memTree.Root(), Seq: g.seal.sealed - 1, Hash: g.seal.head, Time: time.Now()}.sign(g.cps.signer)
	g.cps.lastTime, g.cps.lastSeq = c.Time, c.Seq
	g.keepCheckpoint(c)
	return c
}

// keepCheckpoint keeps c among the newest maxCheckpoints. Lock only.
func (g *Generator) keepCheckpoint(c Checkpoint) {
	if len(g.cps.kept) == maxCheckpoints {
		g.cps.kept = append(g.cps.kept[:0], g.cps.kept[1:]...)
	}
	g.cps.kept = append(g.cps.kept, c)
}

// VerifyCheckpoints checks checkpoints against a trail that verified from
// anchor to head, hashAt giving the Hash of any Seq in (anchor.Seq,
// head.Seq]. With pub set, every checkpoint must carry a valid signature by
// its private key. A checkpoint older than the anchor vouches for events
// dropped by retention and is skipped; one past the head means the tail
// was cut.
func VerifyCheckpoints(cps []Checkpoint, pub ed25519.PublicKey, anchor, head Anchor, hashAt func(seq uint64) (Hash, bool)) error {
	cps = append([]Checkpoint(nil), cps...)
	sort.Slice(cps, func(i, j int) bool { return cps[i].Seq < cps[j].Seq })
	for _, c := range cps {
		if pub != nil {
			if err := c.VerifySignature(pub); err != nil {
				return err
			}
		}
		when := c.Time.UTC().Format("2006-01-02T15:04:05Z07:00")
		switch {
		case c.Seq < anchor.Seq:
			continue
		case c.Seq > head.Seq:
			return &ChainError{Seq: head.Seq + 1, Reason: fmt.Sprintf("missing: the trail ends at seq %d, but the checkpoint of %s covers up to seq %d", head.Seq, when, c.Seq)}
		case c.Seq == anchor.Seq:
			if c.Hash != anchor.Hash {
				return &ChainError{Seq: c.Seq, Reason: fmt.Sprintf("the anchor's Hash differs from the checkpoint of %s", when)}
			}
		default:
			h, ok := hashAt(c.Seq)
			if !ok {
				return &ChainError{Seq: c.Seq, Reason: "missing, though the trail reaches past it"}
			}
			if h != c.Hash {
				return &ChainError{Seq: c.Seq, Reason: fmt.Sprintf("Hash differs from the checkpoint of %s: the trail was rewritten", when)}
			}
		}
	}
	return nil
}

// SignedUpTo returns the newest Seq that pub signed a checkpoint of, among
// cps, counting only valid signatures; false when pub signed none.
func SignedUpTo(cps []Checkpoint, pub ed25519.PublicKey) (uint64, bool) {
	var top uint64
	found := false
	for _, c := range cps {
		if (!found || c.Seq > top) && c.VerifySignature(pub) == nil {
			top, found = c.Seq, true
		}
	}
	return top, found
}

// VerifySigned checks that pub signed a checkpoint of the head of a trail
// that verified from anchor to head, cps included (see VerifyCheckpoints):
// events after the newest checkpoint pub signed (see SignedUpTo) could have
// been written by anyone able to write the trail. The error wraps
// ErrChainBroken and ErrUnsigned and names the first such event, which
// nextAfter gives: the Seq of the first event of the trail after a Seq
// (more than one after it past a SeqGap record).
//
// A trail that holds no events past Seq 0 has nothing to cover. One that
// holds none past a later anchor (all removed, by retention or by anyone)
// must have a checkpoint of the anchor signed by pub, as a trail written
// with the key keeps (the newest commit's): nothing else vouches for the
// anchor, where the next event would chain, and anyone able to write the
// trail could have set it. The error then names the anchor's Seq.
func VerifySigned(cps []Checkpoint, pub ed25519.PublicKey, anchor, head Anchor, nextAfter func(seq uint64) uint64) error {
	if head.Seq == 0 {
		return nil
	}
	signed, ok := SignedUpTo(cps, pub)
	if ok && signed >= head.Seq {
		return nil
	}
	if head.Seq == anchor.Seq {
		return &ChainError{
			Seq:    anchor.Seq,
			Reason: fmt.Sprintf("the trail holds no events, and the key signed no checkpoint of its anchor, seq %d: anyone able to write the trail could have set it", anchor.Seq),
			Err:    ErrUnsigned,
		}
	}
	from := anchor.Seq
	why := "the key signed no checkpoint of the trail"
	if ok && signed > from {
		from = signed
		why = fmt.Sprintf("the newest checkpoint the key signed is of seq %d", signed)
	}
	first := nextAfter(from)
	return &ChainError{
		Seq:    first,
		Reason: fmt.Sprintf("%s; events %d to %d could have been written by anyone able to write the trail", why, first, head.Seq),
		Err:    ErrUnsigned,
	}
}
