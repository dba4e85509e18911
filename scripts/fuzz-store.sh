#!/usr/bin/env bash
# Nightly-style run of the store file fuzz test (tests/filefuzz_test.go):
# many more damaged copies of a small signed store than CI's bounded run,
# with fresh seeds, single-bit and multi-bit damage. Each round cuts the
# store at every page boundary and flips FLIPS random places; every damaged
# file must be refused or read safely: no fatal fault, no panic, no altered
# event accepted. Usage: scripts/fuzz-store.sh [ROUNDS] [FLIPS] (default 4
# rounds of 20,000). A failure prints the seed and the case, which
# OTELAUDIT_FILEFUZZ_SEED=<seed> reproduces.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-4}
flips=${2:-20000}

for round in $(seq "$rounds"); do
	for bits in 1 8; do
		seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
		echo "== round $round: $flips flips of $bits bit(s), seed $seed"
		OTELAUDIT_FILEFUZZ_SEED=$seed OTELAUDIT_FILEFUZZ_FLIPS=$flips OTELAUDIT_FILEFUZZ_BITS=$bits \
			go test -count 1 -timeout 6h -run '^TestStoreFileFuzz$' -v ./tests/ | grep -a -E 'filefuzz_test|^(ok|FAIL|---)'
	done
done
