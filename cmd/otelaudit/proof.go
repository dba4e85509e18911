package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/otelaudit/otelaudit-go/evidence"
	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

var proofCommand = &command{
	name:    "proof",
	args:    "<trace-id>",
	summary: "write the evidence bundle of one trace (its events, their inclusion proofs, a signed checkpoint) as JSON",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		return func(args []string) error {
			if len(args) != 1 {
				return usageErrorf("proof: want one trace ID, got %d arguments (usage: otelaudit proof <trace-id>)", len(args))
			}
			id, err := parseTraceID("proof", args[0])
			if err != nil {
				return err
			}
			st, err := openForReading(e, "proof", *db)
			if err != nil {
				return err
			}
			defer st.Close()
			b, err := st.Evidence(id)
			switch {
			case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrNoCheckpoint):
				return failErrorf("%v", err)
			case err != nil:
				return err
			}
			enc := newJSONEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(b)
		}
	},
}

var verifyProofCommand = &command{
	name:    "verify-proof",
	args:    "<bundle.json>",
	summary: "check an evidence bundle offline, with the public key alone",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		pubPath := fs.String("pubkey", "", "PEM public `file` of the trail's signing key (required)")
		origin := fs.String("origin", "", "the trail's `origin`: refuse a checkpoint of another trail signed by the same key")
		return func(args []string) error {
			if len(args) != 1 {
				return usageErrorf("verify-proof: want one bundle file, got %d arguments (usage: otelaudit verify-proof --pubkey P bundle.json)", len(args))
			}
			if *pubPath == "" {
				return usageErrorf("verify-proof: --pubkey is required")
			}
			pub, err := keyfile.ReadPublic(*pubPath)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("--pubkey: %w", err)}
			}
			data, err := readSmallFile(args[0])
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			b, err := evidence.Read(bytes.NewReader(data))
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			res, err := b.Verify(pub)
			if err != nil {
				return failErrorf("%s does NOT verify: %v", args[0], err)
			}
			cp := res.Checkpoint
			if *origin != "" && cp.Origin != *origin {
				return failErrorf("%s does NOT verify: its checkpoint is of the trail %q, not %q", args[0], cp.Origin, *origin)
			}
			first, last := res.Events[0], res.Events[len(res.Events)-1]
			fmt.Fprintf(e.stdout, "OK: %s verifies with --pubkey.\n", args[0])
			fmt.Fprintf(e.stdout, "Trace %s: %s, seq %d to %d, each proved in the tree of %d events of %s (root %s), whose checkpoint the key signed.\n",
				b.TraceID, plural(uint64(len(res.Events)), "event"), first.Seq, last.Seq, cp.Size, cp.Origin, cp.Root)
			fmt.Fprintln(e.stdout, "It proves these events are in the signed trail, unaltered, at these places; not that the trace has no other event (see the README).")
			return nil
		}
	},
}

var consistencyCommand = &command{
	name:    "consistency",
	summary: "prove the store's newest signed checkpoint extends a checkpoint kept elsewhere",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		fromPath := fs.String("from", "", "`file` of the kept checkpoint: a line of otelaudit checkpoints --json, or its signed note (required)")
		pubPath := fs.String("pubkey", "", "PEM public `file`: both checkpoints must be signed by its private key")
		asJSON := fs.Bool("json", false, "print the proof as JSON (both notes and the hashes), to check elsewhere")
		return func(args []string) error {
			if err := noArgs("consistency", args); err != nil {
				return err
			}
			if *fromPath == "" {
				return usageErrorf("consistency: --from is required")
			}
			from, err := readKeptCheckpoint(*fromPath)
			if err != nil {
				return err
			}
			var pub []byte
			if *pubPath != "" {
				if pub, err = keyfile.ReadPublic(*pubPath); err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("--pubkey: %w", err)}
				}
			}
			st, err := openForReading(e, "consistency", *db)
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := st.Consistency(from)
			switch {
			case errors.Is(err, store.ErrNoCheckpoint):
				return failErrorf("%v", err)
			case err != nil:
				return err
			}
			to, err := otelaudit.ParseNote([]byte(c.To))
			if err != nil {
				return err
			}
			if pub != nil {
				if _, _, err := c.Verify(pub); err != nil {
					return failErrorf("%s does NOT extend the kept checkpoint (tree of %d): %v", st.Path(), from.Size, err)
				}
			} else if err := evidence.VerifyConsistency(from, to, c.Proof); err != nil {
				return failErrorf("%s does NOT extend the kept checkpoint (tree of %d): %v", st.Path(), from.Size, err)
			}
			if *asJSON {
				enc := newJSONEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(c)
			}
			signed := "signatures not checked (no --pubkey)"
			if pub != nil {
				signed = "both signed with --pubkey"
			}
			fmt.Fprintf(e.stdout, "OK: the newest checkpoint of %s (a tree of %d events, root %s) extends the kept one (%d events, root %s): %s; a proof of %d hashes.\n",
				st.Path(), to.Size, to.Root, from.Size, from.Root, signed, len(c.Proof))
			return nil
		}
	},
}

// readKeptCheckpoint reads a kept checkpoint: one JSON line as otelaudit
// checkpoints --json writes (the last, if there are more), or a signed
// note alone.
func readKeptCheckpoint(path string) (otelaudit.Checkpoint, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return otelaudit.Checkpoint{}, &exitError{code: exitUsage, err: fmt.Errorf("--from: %w", err)}
	}
	if c, err := otelaudit.ParseNote(data); err == nil {
		return c, nil
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var c otelaudit.Checkpoint
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &c); err != nil {
		return c, usageErrorf("--from: %s is not a checkpoint (a line of otelaudit checkpoints --json, or a signed note): %v", path, err)
	}
	if len(c.Signature) == 0 {
		return c, usageErrorf("--from: %s holds an unsigned checkpoint", path)
	}
	return c, nil
}
