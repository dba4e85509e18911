package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit-go/store"
)

// Exit codes. Scripts tell "the answer is no" (1) from "the question was
// wrong" (2), as grep and diff do.
const (
	exitOK    = 0
	exitFail  = 1 // a check failed, or nothing was found
	exitUsage = 2 // bad usage or bad input: flags, IDs, times, files
)

// commands, in the order usage lists them.
var commands = []*command{
	traceCommand,
	eventsCommand,
	verifyCommand,
	checkpointsCommand,
	proofCommand,
	verifyProofCommand,
	consistencyCommand,
	replayCommand,
	statsCommand,
	keygenCommand,
	hashCommand,
}

// command is one subcommand: its flags, registered by setup, and what it
// does with them once they parsed.
type command struct {
	name    string
	args    string // the positional arguments, for the usage line
	summary string
	// setup registers the command's flags on fs and returns the function
	// that runs it with the positional arguments left over.
	setup func(fs *flag.FlagSet, env *env) func(args []string) error
}

// env is what a command runs with: where to write, and the process
// environment and clock, injected so that tests run commands in-process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program but for the process: tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	return runEnv(args, &env{stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now})
}

func runEnv(args []string, e *env) (code int) {
	// Defence in depth: a bug here or a panic in a library on a damaged
	// file must still end as one readable line, not a stack trace.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "otelaudit: internal error: %s\n", oneLine(fmt.Sprint(r)))
			code = exitUsage
		}
	}()
	if len(args) == 0 {
		printUsage(e.stdout)
		return exitOK
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			if cmd := lookup(rest[0]); cmd != nil {
				printCommandUsage(e.stdout, cmd, newFlagSet(cmd), e)
				return exitOK
			}
			return report(e, usageErrorf("help: unknown command %q (see otelaudit help)", rest[0]))
		}
		printUsage(e.stdout)
		return exitOK
	}
	cmd := lookup(name)
	if cmd == nil {
		return report(e, usageErrorf("unknown command %q (see otelaudit help)", name))
	}
	fs := newFlagSet(cmd)
	runCmd := cmd.setup(fs, e)
	pos, err := parseInterleaved(fs, rest)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printCommandUsage(e.stdout, cmd, fs, e)
		return exitOK
	case err != nil:
		return report(e, usageErrorf("%s: %v (see otelaudit %s -h)", cmd.name, err, cmd.name))
	}
	return report(e, runCmd(pos))
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// report prints err, if any, as the one line on stderr, and returns the
// exit code it stands for.
func report(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(e.stderr, "otelaudit: %s\n", oneLine(err.Error()))
	return exitCode(err)
}

// warnf prints a warning line: something the reader must know, which does
// not stop the command.
func warnf(e *env, format string, a ...any) {
	fmt.Fprintf(e.stderr, "otelaudit: warning: %s\n", oneLine(fmt.Sprintf(format, a...)))
}

// notef prints a note on stderr, where it stays out of what a pipe reads.
func notef(e *env, format string, a ...any) {
	fmt.Fprintf(e.stderr, "otelaudit: %s\n", oneLine(fmt.Sprintf(format, a...)))
}

// oneLine keeps a message on one line: errors from gRPC and other layers
// may hold newlines, and every error here is exactly one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), " ")
}

// exitError carries the exit code an error stands for.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a bad-usage or bad-input error: exit 2.
func usageErrorf(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// failErrorf is a failed check or an empty answer: exit 1.
func failErrorf(format string, a ...any) error {
	return &exitError{code: exitFail, err: fmt.Errorf(format, a...)}
}

// exitCode maps err to an exit code: an explicit exitError wins; a file
// that cannot be read as a store is bad input; anything else failed.
func exitCode(err error) int {
	var xe *exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	for _, bad := range []error{store.ErrNotStore, store.ErrNewerFormat, store.ErrCorrupt, store.ErrInUse, fs.ErrNotExist, fs.ErrPermission} {
		if errors.Is(err, bad) {
			return exitUsage
		}
	}
	return exitFail
}

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`otelaudit reads an otelaudit store: the audit trail of a trace, recent
events, verification of the hash chain, replay of a trace as spans or logs.

Usage:
  otelaudit <command> [flags] [arguments]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-22s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintf(&b, "  %-22s %s\n", "help [command]", "this text, or the flags of a command")
	b.WriteString(`
Every command but keygen, hash and verify-proof reads the store given by
--db PATH, or by the
environment variable ` + envDB + `. Flags may come before or after arguments.
Run "otelaudit <command> -h" for a command's flags.

Exit status: 0 success, 1 nothing found or a check failed, 2 bad usage or
input (flags, IDs, times, a file that is not a readable store).
`)
	io.WriteString(w, b.String())
}

func printCommandUsage(w io.Writer, cmd *command, fs *flag.FlagSet, e *env) {
	// help <command> arrives with a bare flag set: register the flags to
	// list them.
	if !hasFlags(fs) {
		cmd.setup(fs, e)
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s.\n\nFlags:\n", strings.TrimSpace("otelaudit "+cmd.name+" [flags] "+cmd.args), upperFirst(cmd.summary))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
