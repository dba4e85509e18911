package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

var verifyCommand = &command{
	name:    "verify",
	summary: "check the hash chain, checkpoints and signatures",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		pubPath := fs.String("pubkey", "", "PEM public `file` (from otelaudit keygen): every checkpoint must be signed by its private key")
		cpPath := fs.String("checkpoint", "", "JSON Lines `file` of checkpoints kept off the machine (from otelaudit checkpoints --json), checked as well")
		fromGenesis := fs.Bool("from-genesis", false, "fail unless the store holds the whole trail from seq 1: events removed from its start, by retention or by anyone, look like retention otherwise")
		return func(args []string) error {
			if err := noArgs("verify", args); err != nil {
				return err
			}
			path, err := requireDB("verify", *db)
			if err != nil {
				return err
			}
			var pub ed25519.PublicKey
			if *pubPath != "" {
				if pub, err = keyfile.ReadPublic(*pubPath); err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("--pubkey: %w", err)}
				}
			}
			var extra []otelaudit.Checkpoint
			if *cpPath != "" {
				if extra, err = readCheckpoints(*cpPath); err != nil {
					return err
				}
			}
			st, err := openStore(path)
			if err != nil {
				// A file bbolt cannot read, or whose structure is not a
				// store's, failed the check; anything else is bad input.
				if errors.Is(err, store.ErrCorrupt) {
					return failErrorf("%s does NOT verify: %v", path, errors.Unwrap(err))
				}
				return err
			}
			defer st.Close()
			rep, err := st.Verify(pub, extra)
			if err != nil {
				return verifyFailed(e, st, rep, err, pub, extra)
			}
			if *fromGenesis && rep.Anchor != otelaudit.GenesisAnchor {
				return failErrorf("%s does NOT hold the whole trail: it starts after seq %d (--from-genesis); events 1 to %d were removed, by retention or by someone", st.Path(), rep.Anchor.Seq, rep.Anchor.Seq)
			}
			stored, err := st.Checkpoints()
			if err != nil {
				return err
			}
			writeVerifyOK(e.stdout, st.Path(), rep, stored, extra, pub != nil)
			return nil
		}
	},
}

// verifyFailed prints what there is to see of the first bad event and
// returns the one-line error naming it.
func verifyFailed(e *env, st *store.Store, rep store.Report, err error, pub ed25519.PublicKey, extra []otelaudit.Checkpoint) error {
	var ce *otelaudit.ChainError
	if !errors.As(err, &ce) {
		if errors.Is(err, otelaudit.ErrChainBroken) || errors.Is(err, store.ErrCorrupt) {
			return failErrorf("%s does NOT verify: %v (%s verified before it)", st.Path(), err, plural(rep.Events, "event"))
		}
		return err
	}
	// A signature failure and a rewritten trail call for different
	// actions: check the key, or call the incident team. Verifying again
	// without the key tells whether the rest holds.
	if errors.Is(err, otelaudit.ErrUnsigned) && rep.Events == 0 {
		return failErrorf("%s does NOT verify: it holds no events, and no checkpoint signed with --pubkey vouches for its anchor, seq %d: anyone able to write the file could have set it", st.Path(), ce.Seq)
	}
	if errors.Is(err, otelaudit.ErrUnsigned) {
		return failErrorf("%s does NOT verify: seq %d is the first event not signed with --pubkey: %s", st.Path(), ce.Seq, ce.Reason)
	}
	if errors.Is(err, otelaudit.ErrBadSignature) {
		if _, nerr := st.Verify(nil, extra); nerr == nil {
			return failErrorf("%s: the hash chain verifies, but not the signatures: checkpoint of seq %d: %s (is --pubkey the public half of the writer's signing key?)", st.Path(), ce.Seq, ce.Reason)
		}
	}
	if ev, ok, gerr := st.Get(ce.Seq); gerr == nil && ok {
		fmt.Fprintf(e.stdout, "Seq %d, the first bad event, as stored:\n", ce.Seq)
		if werr := writeEventTable(e.stdout, []otelaudit.Event{ev}); werr != nil {
			return werr
		}
	}
	// The Report says how far the walk along the chain got; past the bad
	// Seq, the chain held and a checkpoint or the head disagreed with it.
	progress := ""
	if ce.Seq > rep.Head.Seq {
		progress = fmt.Sprintf(" (%s verified before it)", plural(rep.Events, "event"))
	}
	return failErrorf("%s does NOT verify: first bad event is seq %d: %s%s", st.Path(), ce.Seq, ce.Reason, progress)
}

func writeVerifyOK(w io.Writer, path string, rep store.Report, stored, extra []otelaudit.Checkpoint, keyed bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "OK: %s verifies.\n", path)
	switch {
	case rep.Events == 0:
		b.WriteString("No events")
	default:
		fmt.Fprintf(&b, "%s, %s", plural(rep.Events, "event"), seqRange(rep.Anchor.Seq+1, rep.Head.Seq))
	}
	if rep.Anchor == otelaudit.GenesisAnchor {
		b.WriteString(", chained from the genesis.\n")
	} else {
		fmt.Fprintf(&b, ", chained from anchor seq %d (hash %s): events up to it were removed, by retention or by someone (--from-genesis makes that fail).\n", rep.Anchor.Seq, rep.Anchor.Hash)
	}
	fmt.Fprintf(&b, "Head: seq %d, hash %s.\n", rep.Head.Seq, rep.Head.Hash)
	if rep.Checkpoints == 0 {
		b.WriteString("Checkpoints: none, so a trail rewritten with a fresh chain would pass too; sign checkpoints (otelaudit.WithSigningKey) and keep copies off the machine.\n")
		io.WriteString(w, b.String())
		return
	}
	agree := "agree"
	if rep.Checkpoints-rep.Older == 1 {
		agree = "agrees"
	}
	fmt.Fprintf(&b, "Checkpoints: %d %s with the trail (%d stored, %d from --checkpoint); ", rep.Checkpoints-rep.Older, agree, len(stored), len(extra))
	if rep.Older > 0 {
		fmt.Fprintf(&b, "%d more vouch for events before the anchor, no longer in the store, and could not be compared; ", rep.Older)
	}
	if keyed {
		if rep.Signed == 1 {
			b.WriteString("its signature verified with --pubkey.\n")
		} else {
			fmt.Fprintf(&b, "all %d signatures verified with --pubkey.\n", rep.Signed)
		}
		if rep.Head.Seq > rep.Anchor.Seq {
			fmt.Fprintf(&b, "Signed: the head, seq %d, is signed with --pubkey: no event was added without the key.\n", rep.SignedUpTo)
		}
	} else {
		fmt.Fprintf(&b, "%d of them signed, signatures not checked (give --pubkey to check them, and that no event was added without the key).\n", countSigned(stored)+countSigned(extra))
	}
	for _, g := range rep.Gaps {
		since := ""
		if !g.LastCommit.IsZero() {
			since = ", last commit before it " + g.LastCommit.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(&b, "Lost to a crash, on the record: %s reserved and never stored (seq %d records it: run restarted %s%s).\n",
			seqRange(g.First, g.Last), g.Seq, g.Restart.UTC().Format(time.RFC3339Nano), since)
	}
	for _, a := range rep.Adoptions {
		fmt.Fprintf(&b, "Adopted: at %s a run with key %s continued the head seq %d, which that key had signed up to seq %d only (seq %d records it).\n",
			a.Time.UTC().Format(time.RFC3339Nano), hex.EncodeToString(a.Key)[:16], a.Head.Seq, a.SignedSeq, a.Seq)
	}
	io.WriteString(w, b.String())
}

func countSigned(cps []otelaudit.Checkpoint) int {
	n := 0
	for _, c := range cps {
		if len(c.Signature) > 0 {
			n++
		}
	}
	return n
}

// readCheckpoints reads a JSON Lines file of checkpoints, as `otelaudit
// checkpoints --json` writes. Unknown fields are refused: an events file
// has seq, hash and time too, and must not pass for checkpoints.
func readCheckpoints(path string) ([]otelaudit.Checkpoint, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--checkpoint: %w", err)}
	}
	var out []otelaudit.Checkpoint
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var c otelaudit.Checkpoint
		if err := dec.Decode(&c); err != nil {
			return nil, usageErrorf("--checkpoint: %s line %d: not a checkpoint: %v", path, i+1, err)
		}
		if c.Hash.IsZero() || c.Time.IsZero() {
			return nil, usageErrorf("--checkpoint: %s line %d: a checkpoint needs seq, hash and time", path, i+1)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, usageErrorf("--checkpoint: %s holds no checkpoints", path)
	}
	return out, nil
}

// readFileLimit caps what the CLI reads of a file given on the command
// line (a checkpoint file): a wrong path pointing at a huge file should
// fail, not exhaust memory.
const readFileLimit = 64 << 20

// readSmallFile reads path, refusing files over readFileLimit.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, readFileLimit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > readFileLimit {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, readFileLimit>>20)
	}
	return b, nil
}
