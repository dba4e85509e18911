package main

import (
	"flag"
	"math"

	"github.com/otelaudit/otelaudit-go/keyfile"
	"github.com/otelaudit/otelaudit-go/otelaudit"
	"github.com/otelaudit/otelaudit-go/store"
)

// defaultLimit is how many events `events` prints unless --limit says
// otherwise: a screenful or two, the newest, which is what one looks at
// first.
const defaultLimit = 100

var eventsCommand = &command{
	name:    "events",
	summary: "the newest events, filtered by type, agent, user, outcome and time",
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		db := dbFlag(fs, e)
		typ := fs.String("type", "", "only events of this `type` (node_end, trust_denied, ...)")
		agent := fs.String("agent", "", "only events of this agent `id`")
		user := fs.String("user", "", "only events on behalf of this `user` (HumanOriginID; with --hmac-key, the clear value)")
		hmacKey := fs.String("hmac-key", "", "the pseudonym key `file` the trail was written with: --user is then looked up by its pseudonym")
		outcome := fs.String("outcome", "", "only events with this `outcome` (success, failure, denied, error; none for events without one)")
		since := &timeFlag{now: e.now}
		until := &timeFlag{now: e.now}
		fs.Var(since, "since", "only events at or after this `time`: "+timeFlagHelp)
		fs.Var(until, "until", "only events before this `time` (exclusive): "+timeFlagHelp)
		limit := fs.Int("limit", defaultLimit, "print the newest `n` matching events; 0 prints all")
		asJSON := fs.Bool("json", false, "print JSON Lines, one object per event, instead of a table")
		return func(args []string) error {
			if err := noArgs("events", args); err != nil {
				return err
			}
			if *limit < 0 {
				return usageErrorf("events: --limit %d: want 0 (all) or more", *limit)
			}
			if !since.t.IsZero() && !until.t.IsZero() && !since.t.Before(until.t) {
				return usageErrorf("events: --since %s is not before --until %s", since, until)
			}
			o := otelaudit.Outcome(*outcome)
			if o != "" && o != otelaudit.NoOutcome && !o.Valid() {
				return usageErrorf("events: --outcome %q: want success, failure, denied, error or none", *outcome)
			}
			who := *user
			if *hmacKey != "" {
				if who == "" {
					return usageErrorf("events: --hmac-key looks --user up by its pseudonym: give --user too")
				}
				key, err := keyfile.ReadHMAC(*hmacKey)
				if err != nil {
					return usageErrorf("events: --hmac-key: %w", err)
				}
				who = otelaudit.Pseudonym(key, who)
			}
			st, err := openForReading(e, "events", *db)
			if err != nil {
				return err
			}
			defer st.Close()
			path := st.Path()
			q := store.Query{
				Type:          otelaudit.EventType(*typ),
				AgentID:       *agent,
				HumanOriginID: who,
				Outcome:       o,
				Since:         since.t,
				Until:         until.t,
			}
			// One more than asked, to tell the reader when there are more
			// than the limit shows.
			if *limit > 0 && *limit < math.MaxInt {
				q.Limit = *limit + 1
			}
			events, err := readTrail(e, st, func() ([]otelaudit.Event, error) { return st.Events(q) })
			if err != nil {
				return err
			}
			if len(events) == 0 {
				return failErrorf("no events match in %s", path)
			}
			more := q.Limit > 0 && len(events) == q.Limit
			if more {
				events = events[1:]
			}
			if err := printEvents(e, events, *asJSON); err != nil {
				return err
			}
			if more {
				notef(e, "printed the newest %d matching events; there are more (--limit 0 prints all)", len(events))
			}
			return nil
		}
	},
}
