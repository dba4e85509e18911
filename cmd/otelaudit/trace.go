package main

import (
	"flag"

	"github.com/otelaudit/otelaudit-go/otelaudit"
)

var traceCommand = &command{
	name:    "trace",
	args:    "<trace-id>",
	summary: "the ordered audit trail of one trace",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		asJSON := fs.Bool("json", false, "print JSON Lines, one object per event, instead of a table")
		return func(args []string) error {
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
			events, err := readTrail(e, st, func() ([]otelaudit.Event, error) { return st.EventsByTrace(id) })
			if err != nil {
				return err
			}
			if len(events) == 0 {
				return failErrorf("no events of trace %s in %s", id, path)
			}
			return printEvents(e, events, *asJSON)
		}
	},
}

func printEvents(e *env, events []otelaudit.Event, asJSON bool) error {
	if asJSON {
		return writeEventJSON(e.stdout, events)
	}
	return writeEventTable(e.stdout, events)
}
