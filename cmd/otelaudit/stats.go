package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

var statsCommand = &command{
	name:    "stats",
	summary: "what the store holds: counts, seq range, chain ends",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		return func(args []string) error {
			if err := noArgs("stats", args); err != nil {
				return err
			}
			st, err := openForReading(e, "stats", *db)
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.Stats()
			if err != nil {
				return err
			}
			return writeStats(e.stdout, s, st.VerifyError())
		}
	},
}

func writeStats(w io.Writer, s store.Stats, verifyErr error) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "Path:\t%s\n", s.Path)
	fmt.Fprintf(tw, "Format:\t%d\n", s.Format)
	fmt.Fprintf(tw, "File size:\t%s\n", byteSize(s.FileSize))
	if s.Events == 0 {
		fmt.Fprintf(tw, "Events:\t0\n")
	} else {
		fmt.Fprintf(tw, "Events:\t%d (%s)\n", s.Events, seqRange(s.Anchor.Seq+1, s.Head.Seq))
	}
	anchor := "genesis"
	if s.Anchor != otelaudit.GenesisAnchor {
		anchor = "last event removed by retention"
	}
	fmt.Fprintf(tw, "Anchor:\tseq %d, hash %s (%s)\n", s.Anchor.Seq, s.Anchor.Hash, anchor)
	fmt.Fprintf(tw, "Head:\tseq %d, hash %s\n", s.Head.Seq, s.Head.Hash)
	if s.Reserved > s.Head.Seq {
		fmt.Fprintf(tw, "Reserved:\tup to seq %d: its writer is running, or stopped without a clean shutdown (the next run records seqs %d to %d as lost)\n", s.Reserved, s.Head.Seq+1, s.Reserved)
	}
	chain := "verified when opened"
	if verifyErr != nil {
		chain = "DOES NOT VERIFY: run otelaudit verify"
	}
	fmt.Fprintf(tw, "Chain:\t%s\n", chain)
	fmt.Fprintf(tw, "Traces:\t%d\n", s.Traces)
	fmt.Fprintf(tw, "Sources:\t%d\n", s.Sources)
	fmt.Fprintf(tw, "Checkpoints:\t%d\n", s.Checkpoints)
	if err := tw.Flush(); err != nil {
		return err
	}
	types := make(map[string]int, len(s.Types))
	for t, n := range s.Types {
		types[string(t)] = n
	}
	if err := writeCounts(w, "By type", "TYPE", types); err != nil {
		return err
	}
	return writeCounts(w, "By agent", "AGENT", s.Agents)
}

// writeCounts writes counts as a table, the largest first: the busiest
// type or agent is usually the question.
func writeCounts(w io.Writer, title, column string, counts map[string]int) error {
	if len(counts) == 0 {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	fmt.Fprintf(w, "\n%s:\n", title)
	tw := newTable(w)
	fmt.Fprintf(tw, "  %s\tEVENTS\n", column)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%d\n", cell(k), counts[k])
	}
	return tw.Flush()
}

// byteSize writes n bytes exactly and, from a KiB up, rounded too.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%d bytes (%.1f %s)", n, v, suffix)
}
