#!/usr/bin/env bash
# Runs the Go benchmarks COUNT times and prints benchstat's summary (medians
# with confidence intervals). The raw output is kept in bin/bench.txt.
# usage: scripts/bench.sh COUNT PKG...
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}; shift
pkgs=("${@:-./...}")
mkdir -p bin
go test -run '^$' -bench . -benchmem -count "$count" "${pkgs[@]}" | tee bin/bench.txt
echo
echo "== medians of $count runs (benchstat)"
go run "${BENCHSTAT:-golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}" bin/bench.txt
