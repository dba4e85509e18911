package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"
)

// envDB names the environment variable that gives --db its default, so that
// an engineer looking at one store types its path once per shell.
const envDB = "OTELAUDIT_DB"

// newFlagSet returns the flag set of cmd. Its output is discarded while
// parsing: the flag package would print the error and the whole usage on a
// bad flag, and a bad flag should cost the reader one line.
func newFlagSet(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet("otelaudit "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseInterleaved parses args with fs, allowing flags after positional
// arguments as well as before them ("trace ID --db x" and "trace --db x
// ID"), which the flag package alone does not: it stops at the first
// non-flag. A "--" ends the flags; everything after it is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		// The flag package consumes a "--" and stops; nothing after it is
		// a flag, even if it looks like one.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// dbFlag registers --db on fs, defaulting to $OTELAUDIT_DB.
func dbFlag(fs *flag.FlagSet, env *env) *string {
	return fs.String("db", env.getenv(envDB), "the store `file`; defaults to $"+envDB)
}

// requireDB returns the store path, or the usage error that says how to
// give one.
func requireDB(cmd, path string) (string, error) {
	if path == "" {
		return "", usageErrorf("%s: --db is required (or set %s)", cmd, envDB)
	}
	return path, nil
}

// noArgs refuses positional arguments a command does not take: a stray
// word is more likely a mistyped flag than something to ignore.
func noArgs(cmd string, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s: unexpected argument %q", cmd, args[0])
	}
	return nil
}

// parseTraceID reads a trace ID as 32 hex digits. Upper case and
// surrounding space are accepted, since IDs get copied out of UIs and logs
// that write them so; OTel itself wants lower case.
func parseTraceID(cmd, s string) (trace.TraceID, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	id, err := trace.TraceIDFromHex(h)
	if err == nil {
		return id, nil
	}
	// OTel's own messages are terse; say what a valid ID looks like.
	reason := "want 32 hex digits (0-9, a-f)"
	switch {
	case len(h) != 2*len(id):
		reason = fmt.Sprintf("%d characters, %s", utf8.RuneCountInString(h), reason)
	case strings.Trim(h, "0") == "":
		reason = "all zeros is no trace ID"
	}
	return trace.TraceID{}, usageErrorf("%s: invalid trace ID %q: %s", cmd, s, reason)
}

// timeFlag is a flag.Value for --since and --until: an RFC 3339 time, or a
// Go duration meaning that long before now ("15m" is a quarter of an hour
// ago), which is what one wants to type during an incident.
type timeFlag struct {
	t   time.Time
	now func() time.Time
}

const timeFlagHelp = "an RFC 3339 time (2006-01-02T15:04:05Z) or a duration ago (15m, 2h)"

func (f *timeFlag) String() string {
	if f == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339Nano)
}

func (f *timeFlag) Set(s string) error {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.IsZero() {
			// Every query takes the zero time for "no bound": given, it
			// would mean "before year 1" and select everything.
			return errors.New("the zero time means no bound: leave the flag out")
		}
		f.t = t
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want " + timeFlagHelp)
	}
	if d < 0 {
		return fmt.Errorf("negative duration %s: a duration means that long ago", d)
	}
	f.t = f.now().Add(-d)
	return nil
}
