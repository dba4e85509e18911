// Command otelaudit reads the audit trail that an otelaudit Generator
// wrote to a store (otelaudit.WithStore with a store.Store): the ordered
// trail of one trace, recent events, verification of the hash chain and
// its signed checkpoints, and replay of a trace as OpenTelemetry spans.
//
// It opens the store read-only and never changes it. A store whose chain
// does not verify still opens, so that it can be inspected; the reading
// commands then warn on stderr. A store that a running process holds open
// for writing cannot be read until that process closes it.
//
// # Usage
//
//	otelaudit <command> [flags] [arguments]
//
// Every command but keygen reads the store named by --db, or by the
// environment variable OTELAUDIT_DB. Flags may come before or after the
// arguments. "otelaudit help" lists the commands; "otelaudit <command> -h"
// lists a command's flags.
//
//	export OTELAUDIT_DB=/var/lib/agent/audit.db
//
//	# The trail of one trace, oldest first; --json for JSON Lines.
//	otelaudit trace 4bf92f3577b34da6a3ce929d0e0e4736
//	otelaudit trace 4bf92f3577b34da6a3ce929d0e0e4736 --json | jq -r .resource
//
//	# The newest events: filters combine; --since and --until take an
//	# RFC 3339 time or a duration ago; --limit 0 prints every match.
//	otelaudit events --type trust_denied --since 15m
//	otelaudit events --agent support-agent --limit 20 --json
//
//	# Check the trail: every event decoded and checked against its hash
//	# and its predecessor, the indexes, every checkpoint against the
//	# trail, the file's structure; with --pubkey every signature, and that
//	# the key signed the head (events added without it are named).
//	otelaudit checkpoints --json > checkpoints.jsonl   # keep a copy elsewhere
//	otelaudit verify --pubkey audit.pub.pem --checkpoint checkpoints.jsonl
//
//	# Replay a trace's events as spans (named audit.<type>, trace IDs
//	# intact) to stdout, or to an OpenTelemetry Collector over OTLP/gRPC;
//	# with --as logs, as log records (event name audit.<type>, same trace).
//	otelaudit replay --trace 4bf92f3577b34da6a3ce929d0e0e4736
//	otelaudit replay --trace 4bf92f3577b34da6a3ce929d0e0e4736 --to otlp --endpoint localhost:4317
//	otelaudit replay --trace 4bf92f3577b34da6a3ce929d0e0e4736 --to otlp --as logs
//
//	otelaudit stats
//	otelaudit keygen --private audit.pem --public audit.pub.pem
//
// The tables show times in UTC to the millisecond, and shorten cells longer
// than 60 characters; values that hold control characters are shown quoted
// and escaped, never written raw to the terminal. --json prints every
// field in full, with the field names of the auditz HTTP handler's JSON
// plus the event's hash and prev_hash.
//
// replay --to otlp, as spans or as logs, takes its endpoint from
// --endpoint, else OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4317:
// host:port or http://host:port for a plain connection, https://host:port
// for TLS. It does not retry: a dead endpoint fails at once, and anything
// else within --timeout (default 10s). Events that carry no resource of
// their own are replayed with the SDK's default resource, which
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES set as usual (as logs,
// OTEL_RESOURCE_ATTRIBUTES also adds to the events' own resources what
// they lack: the logs SDK merges it into every resource).
//
// # Output and exit status
//
// Results go to stdout. Errors go to stderr as one line starting with
// "otelaudit: "; so do notes and warnings that do not stop a command. The
// exit status is 0 on success, 1 when nothing was found or a check failed
// (verify found the trail broken, unsigned or the file damaged, replay
// could not deliver), and 2 for bad
// usage or bad input: an unknown command or flag, a malformed trace ID or
// time, a missing or unreadable file, a file that is not a store, a store
// another process holds.
package main
