#!/usr/bin/env bash
# Runs the benchmarks BENCHMARKS.md quotes and prints, per benchmark, the
# median of each metric over its runs (COUNT of most). Usage: scripts/bench.sh [COUNT]
# (default 10). The raw output is kept in bench.out for benchstat.
#
# Each run is a separate `go test -count 1`, so the setups of
# BenchmarkSpanOverhead run bare, ours, anchors, bare, ours, anchors, ...:
# x-bare (a setup's ns/op over bare's in the same run) then compares
# neighbours, and a drift in machine speed over the minutes of the whole
# run does not land on one setup. On a shared VM that drift is large.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10}

: >bench.out
for i in $(seq "$count"); do
	go test -run '^$' -bench 'SpanOverhead$' -benchtime 1s -count 1 ./processor | tee -a bench.out
	go test -run '^$' -bench 'SpanOverheadStore' -benchtime 200000x -count 1 ./processor | tee -a bench.out
	# Completing the trail under a 10% sampler: none, AlwaysRecord, Sampler.
	go test -run '^$' -bench 'Sampler$' -benchtime 40000x -count 1 ./processor | tee -a bench.out
done
go test -run '^$' -bench 'EventsByTrace$|HeapPerEvent|Append' -count "$count" ./otelaudit | tee -a bench.out
# The first query right after a burst of 1,000,000 events, with the
# catch-up worker, without it, and a slice scan (each op records the burst).
go test -run '^$' -bench 'EventsByTraceFirst' -benchtime 1x -count "$(( (count + 1) / 2 ))" ./otelaudit | tee -a bench.out
# The store: durable throughput beside bbolt's Batch, and Verify over a
# store of 1,000,000 events (built once per run, outside the timer).
go test -run '^$' -bench 'Durable' -benchtime 3s -count "$(( (count + 1) / 2 ))" ./store | tee -a bench.out
go test -run '^$' -bench 'Verify' -count 3 ./store | tee -a bench.out
# store.Open over the same store: its check of the tail beside Open
# WithFullVerify (every event, index entry and page checked), in the same run.
go test -run '^$' -bench 'Open$' -benchtime 5x -count 3 ./store | tee -a bench.out
# What checking reads against the verified tree costs: a scan of every
# event and a first trace query, beside the same reads unchecked.
go test -run '^$' -bench 'ReadChecks' -benchtime 1x -count 3 ./store | tee -a bench.out
# Require with 1, 8 and 64 callers beside Record, bbolt's DB.Batch, one
# bbolt transaction and one fdatasync: calls/s and p50/p99 latency.
go test -run '^$' -bench 'Require' -benchtime 2s -count 5 ./store | tee -a bench.out
# Streaming to a real Collector on loopback beside BatchSpanProcessor (its
# own module; builds the Collector first).
(cd tests/e2e && go test -run '^$' -bench 'StreamToCollector' -benchtime 20000x -count 3 .) | tee -a bench.out
# The same as log records, beside a span Stream and sdklog's BatchProcessor;
# and the per-event cost of building spans and log records.
(cd tests/e2e && go test -run '^$' -bench 'StreamLogsToCollector' -benchtime 20000x -count 5 .) | tee -a bench.out
go test -run '^$' -bench 'Replay' -benchtime 2s -count 5 ./exporter | tee -a bench.out

echo
echo "medians over $count runs:"
awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
	for (i = 3; i + 1 <= NF; i += 2) {
		unit = $(i + 1); key = name SUBSEP unit
		if (!(key in units)) { units[key] = 1; unitorder[name] = unitorder[name] " " unit }
		vals[key] = vals[key] " " $i
	}
}
function median(s,   a, k, t, m, i, j) {
	m = split(s, a, " ")
	for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	for (k = 1; k <= n; k++) {
		name = order[k]; line = name ":"
		nu = split(unitorder[name], us, " ")
		for (u = 1; u <= nu; u++) line = line sprintf("  %s %s", median(vals[name SUBSEP us[u]]), us[u])
		print line
	}
}' bench.out
