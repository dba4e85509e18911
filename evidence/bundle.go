package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

// Format names the bundle format this package writes and reads.
const Format = "otelaudit.evidence.v1"

// MaxBundle bounds the bundle Read reads, in bytes.
const MaxBundle = 64 << 20

// Bundle is the evidence for one trace: its events, each with its
// inclusion proof, against one signed checkpoint. Its JSON form is what
// otelaudit proof writes.
type Bundle struct {
	Format  string `json:"format"`
	TraceID string `json:"trace_id"`
	// Checkpoint is the signed C2SP checkpoint note (see
	// otelaudit.Checkpoint.Note) every proof leads to.
	Checkpoint string `json:"checkpoint"`
	// Hashes are the proofs' hashes (32 bytes each, base64 in JSON), each
	// once: the events of one trace sit close together in the tree, and
	// share most of their proofs.
	Hashes [][]byte `json:"hashes"`
	// Events are the trace's events in the trail's order.
	Events []Event `json:"events"`
}

// Event is one event of a bundle.
type Event struct {
	// LeafIndex is the event's leaf in the checkpoint's tree.
	LeafIndex uint64 `json:"leaf_index"`
	// Proof is its inclusion proof, as indexes into Bundle.Hashes.
	Proof []int `json:"proof"`
	// PrevHash and Hash are the event's place in the hash chain: Hash is
	// the leaf.
	PrevHash otelaudit.Hash `json:"prev_hash"`
	Hash     otelaudit.Hash `json:"hash"`
	// Canonical is the event's canonical encoding (MarshalBinary), and
	// Source its Source's (Source.MarshalBinary; empty for none): what
	// Hash is computed over.
	Canonical []byte `json:"canonical"`
	Source    []byte `json:"source,omitempty"`
	// Decoded is the event as people read it (the CLI's --json form,
	// Event.AppendJSON), which must say what Canonical says.
	Decoded json.RawMessage `json:"decoded"`
}

// Result is what a bundle that verified proves.
type Result struct {
	// Checkpoint is the checkpoint the events are proved against
	// (origin, tree size, root; no Seq, Hash or Time: not signed).
	Checkpoint otelaudit.Checkpoint
	// Events are the bundle's events, decoded from their canonical bytes.
	Events []otelaudit.Event
}

// Read reads a bundle in its JSON form, at most MaxBundle bytes, refusing
// fields it does not know.
func Read(r io.Reader) (*Bundle, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBundle+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBundle {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrInvalid, MaxBundle>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var out Bundle
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: not an evidence bundle: %w", ErrInvalid, err)
	}
	// One document: what follows it would be read by no one, and a file
	// that says two things is not evidence of either.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: more than one JSON document", ErrInvalid)
	}
	return &out, nil
}

// maxProof is the longest inclusion proof: one hash per level of a tree
// of at most 2^64 leaves. Longer ones are refused before anything is
// allocated for them.
const maxProof = 64

// Verify checks b with pub, the public half of the trail's signing key,
// and nothing else: the checkpoint's signature, then every event (see the
// package documentation for what that proves). The first failure is an
// *Error naming what does not hold, wrapping ErrInvalid.
func (b *Bundle) Verify(pub ed25519.PublicKey) (*Result, error) {
	if b == nil {
		return nil, fail("bundle", "no bundle")
	}
	if b.Format != Format {
		return nil, fail("bundle", "format %q, this build reads %q", b.Format, Format)
	}
	id, err := trace.TraceIDFromHex(b.TraceID)
	if err != nil {
		return nil, fail("bundle", "trace ID %q: %v", b.TraceID, err)
	}
	cp, err := OpenCheckpoint([]byte(b.Checkpoint), pub)
	if err != nil {
		return nil, err
	}
	if len(b.Events) == 0 {
		return nil, fail("bundle", "no events")
	}
	res := &Result{Checkpoint: cp}
	var lastLeaf, lastSeq uint64
	for i := range b.Events {
		e, err := b.verifyEvent(i, id, cp)
		if err != nil {
			return nil, err
		}
		if i > 0 && (b.Events[i].LeafIndex <= lastLeaf || e.Seq <= lastSeq) {
			return nil, fail(fmt.Sprintf("event seq %d", e.Seq), "out of the trail's order: after leaf %d, seq %d", lastLeaf, lastSeq)
		}
		lastLeaf, lastSeq = b.Events[i].LeafIndex, e.Seq
		res.Events = append(res.Events, e)
	}
	return res, nil
}

func (b *Bundle) verifyEvent(i int, id trace.TraceID, cp otelaudit.Checkpoint) (otelaudit.Event, error) {
	be := &b.Events[i]
	var e otelaudit.Event
	what := fmt.Sprintf("event %d (leaf %d)", i, be.LeafIndex)
	if err := e.UnmarshalBinary(be.Canonical); err != nil {
		return e, fail(what, "its canonical bytes: %v", err)
	}
	what = fmt.Sprintf("event seq %d", e.Seq)
	if e.TraceID != id {
		return e, fail(what, "of trace %s, not of the bundle's %s", e.TraceID, id)
	}
	var src otelaudit.Hash
	if len(be.Source) > 0 {
		s, err := otelaudit.UnmarshalSource(be.Source)
		if err != nil {
			return e, fail(what, "its Source: %v", err)
		}
		if again, _ := s.MarshalBinary(); !bytes.Equal(again, be.Source) {
			return e, fail(what, "its Source is not in its canonical encoding")
		}
		src = sha256.Sum256(be.Source)
		e.Source = s
	}
	if h := otelaudit.ChainHash(be.PrevHash, src, be.Canonical); h != be.Hash {
		return e, fail(what, "its canonical bytes, Source and PrevHash hash to %s, not to its Hash %s: the event was changed", h, be.Hash)
	}
	e.PrevHash, e.Hash = be.PrevHash, be.Hash
	if !sameJSON(DecodedForm(&e), be.Decoded) {
		return e, fail(what, "its decoded form does not say what its canonical bytes say")
	}
	if len(be.Proof) > maxProof {
		return e, &Error{What: what, Err: fmt.Errorf("%w: a proof of %d hashes, longer than any tree's (%d)", otelaudit.ErrBadProof, len(be.Proof), maxProof)}
	}
	p := make([]otelaudit.Hash, len(be.Proof))
	for k, at := range be.Proof {
		if at < 0 || at >= len(b.Hashes) || len(b.Hashes[at]) != len(p[k]) {
			return e, fail(what, "proof hash %d is not a hash of the bundle", at)
		}
		p[k] = otelaudit.Hash(b.Hashes[at])
	}
	if err := otelaudit.VerifyInclusion(be.LeafIndex, cp.Size, be.Hash, p, cp.Root); err != nil {
		return e, &Error{What: what, Err: fmt.Errorf("not in the tree the checkpoint signs: %w", err)}
	}
	return e, nil
}

// OpenCheckpoint reads a checkpoint note and checks its signature with
// pub. A failure is an *Error naming the checkpoint.
func OpenCheckpoint(note []byte, pub ed25519.PublicKey) (otelaudit.Checkpoint, error) {
	cp, err := otelaudit.ParseNote(note)
	if err != nil {
		return cp, &Error{What: "checkpoint", Err: err}
	}
	if err := cp.VerifySignature(pub); err != nil {
		return cp, &Error{What: "checkpoint", Err: err}
	}
	return cp, nil
}

// Consistency is a consistency proof between two checkpoints of one trail:
// that the tree of To extends the tree of From. Its JSON form is what
// otelaudit consistency --json writes.
type Consistency struct {
	Format string           `json:"format"`
	From   string           `json:"from"`
	To     string           `json:"to"`
	Proof  []otelaudit.Hash `json:"proof"`
}

// ConsistencyFormat names the consistency proof format.
const ConsistencyFormat = "otelaudit.consistency.v1"

// Verify checks that pub signed both checkpoints, that they are of one
// trail (one origin), and that the proof shows To's tree extends From's.
func (c *Consistency) Verify(pub ed25519.PublicKey) (from, to otelaudit.Checkpoint, err error) {
	if c == nil {
		return from, to, fail("proof", "no proof")
	}
	if c.Format != ConsistencyFormat {
		return from, to, fail("proof", "format %q, this build reads %q", c.Format, ConsistencyFormat)
	}
	if from, err = OpenCheckpoint([]byte(c.From), pub); err != nil {
		return from, to, &Error{What: "the earlier checkpoint", Err: err.(*Error).Err}
	}
	if to, err = OpenCheckpoint([]byte(c.To), pub); err != nil {
		return from, to, &Error{What: "the later checkpoint", Err: err.(*Error).Err}
	}
	if err := VerifyConsistency(from, to, c.Proof); err != nil {
		return from, to, err
	}
	return from, to, nil
}

// VerifyConsistency checks, without signatures, that to's tree extends
// from's with proof: both of one origin, to no smaller.
func VerifyConsistency(from, to otelaudit.Checkpoint, proof []otelaudit.Hash) error {
	if from.Origin != to.Origin {
		return fail("proof", "the checkpoints are of two trails, %q and %q", from.Origin, to.Origin)
	}
	if from.Size > to.Size {
		return fail("proof", "the tree of %d leaves cannot extend the larger one of %d", to.Size, from.Size)
	}
	if err := otelaudit.VerifyConsistency(from.Size, to.Size, from.Root, to.Root, proof); err != nil {
		return &Error{What: "proof", Err: fmt.Errorf("the tree of %d leaves does not extend the tree of %d: %w", to.Size, from.Size, err)}
	}
	return nil
}

// DecodedForm returns the decoded form of e a bundle carries: the CLI's
// --json form.
func DecodedForm(e *otelaudit.Event) json.RawMessage {
	return e.AppendJSON(nil)
}

// sameJSON reports whether a and b are the same JSON value, numbers
// compared digit for digit (an int64 attribute is exact).
func sameJSON(a, b []byte) bool {
	va, ok1 := decodeJSON(a)
	vb, ok2 := decodeJSON(b)
	return ok1 && ok2 && reflect.DeepEqual(va, vb)
}

func decodeJSON(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil, false
	}
	return v, true
}
