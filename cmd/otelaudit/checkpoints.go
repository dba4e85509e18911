package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

var checkpointsCommand = &command{
	name:    "checkpoints",
	summary: "list the stored checkpoints, to keep copies elsewhere",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		asJSON := fs.Bool("json", false, "print JSON Lines that otelaudit verify --checkpoint reads back")
		return func(args []string) error {
			if err := noArgs("checkpoints", args); err != nil {
				return err
			}
			st, err := openForReading(e, "checkpoints", *db)
			if err != nil {
				return err
			}
			defer st.Close()
			path := st.Path()
			cps, err := st.Checkpoints()
			if err != nil {
				return err
			}
			if len(cps) == 0 {
				// Not a failure: a trail written without a signing key has
				// none, and a script saving them should not stop.
				notef(e, "no checkpoints in %s (a Generator signs them only with otelaudit.WithSigningKey)", path)
				return nil
			}
			if *asJSON {
				return writeCheckpointJSON(e.stdout, cps)
			}
			return writeCheckpointTable(e.stdout, cps)
		}
	},
}

func writeCheckpointTable(w io.Writer, cps []otelaudit.Checkpoint) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "SEQ\tTIME\tTREE SIZE\tROOT\tSIGNED")
	for _, c := range cps {
		signed := "no"
		if len(c.Signature) > 0 {
			signed = "yes, as " + c.Origin
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", c.Seq, c.Time.UTC().Format(tableTime), c.Size, c.Root, signed)
	}
	return tw.Flush()
}

// writeCheckpointJSON writes one checkpoint per line in the JSON form of
// otelaudit.Checkpoint (its C2SP signed note, and beside it the chain head
// and the time), its time in UTC, so copies read the same wherever they
// were made.
func writeCheckpointJSON(w io.Writer, cps []otelaudit.Checkpoint) error {
	enc := newJSONEncoder(w)
	for _, c := range cps {
		c.Time = c.Time.UTC()
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("checkpoint of seq %d: %w", c.Seq, err)
		}
	}
	return nil
}
