package main

import (
	"flag"
	"math"

	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

var traceCommand = &command{
	name:    "trace",
	args:    "<trace-id>",
	summary: "the ordered audit trail of one trace",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		asJSON := fs.Bool("json", false, "print JSON Lines, one object per event, instead of a table")
		limit := fs.Int("limit", 0, "print the oldest `n` events of the trace; 0 prints all")
		return func(args []string) error {
			if *limit < 0 {
				return usageErrorf("trace: --limit %d: want 0 (all) or more", *limit)
			}
			if len(args) != 1 {
				return usageErrorf("trace: want one trace ID, got %d arguments (usage: otelaudit trace <trace-id>)", len(args))
			}
			id, err := parseTraceID("trace", args[0])
			if err != nil {
				return err
			}
			st, err := openForReading(e, "trace", *db)
			if err != nil {
				return err
			}
			defer st.Close()
			path := st.Path()
			q := store.Query{TraceID: id, Oldest: true}
			if *limit > 0 && *limit < math.MaxInt {
				q.Limit = *limit + 1 // one more, to say there are more
			}
			events, err := st.Events(q)
			if err != nil {
				return err
			}
			if len(events) == 0 {
				return failErrorf("no events of trace %s in %s", id, path)
			}
			more := q.Limit > 0 && len(events) == q.Limit
			if more {
				events = events[:len(events)-1]
			}
			if err := printEvents(e, events, *asJSON); err != nil {
				return err
			}
			if more {
				notef(e, "printed the oldest %d events of the trace; there are more (--limit 0 prints all)", len(events))
			}
			return nil
		}
	},
}

func printEvents(e *env, events []otelaudit.Event, asJSON bool) error {
	if asJSON {
		return writeEventJSON(e.stdout, events)
	}
	return writeEventTable(e.stdout, events)
}
