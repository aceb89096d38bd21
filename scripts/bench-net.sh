#!/usr/bin/env bash
# Network benchmarks (make bench): TCP throughput with iperf3 between two
# members of a ztx virtual network (userspace data path) and over the raw
# veth underlay between the same namespaces, in the same run, medians of 3
# runs of 5 s each. Needs root (network namespaces) and iperf3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "bench-net: skipped (needs root for network namespaces)"
	exit 0
fi
command -v iperf3 >/dev/null || { echo "bench-net: skipped (no iperf3: run scripts/deps.sh)"; exit 0; }
out=$(go test -run '^$' -bench 'Iperf3|Relay' -benchtime 1x -v ./internal/service 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E '^(Benchmark|goos|goarch|cpu)|runs|relayed through' || true
echo "$out" | awk '/^BenchmarkIperf3.*raw-Gbit/ {
	for (i = 1; i <= NF; i++) { if ($i == "raw-Gbit/s") raw = $(i-1); if ($i == "ztx-Gbit/s") zt = $(i-1); if ($i == "%-of-raw") pct = $(i-1) }
	printf "\n== iperf3 TCP, medians of 3\n%-28s %10s %10s\n%-28s %10.2f %9.1f%%\n%-28s %10.2f %9.1f%%\n",
		"path", "Gbit/s", "of raw", "raw veth (underlay)", raw, 100, "ztx userspace (AES-GMAC-SIV)", zt, pct
}'
echo "$out" | awk '/^BenchmarkRelay.*Gbit/ {
	for (i = 1; i <= NF; i++) { if ($i == "user-Gbit/s") u = $(i-1); if ($i == "xdp-Gbit/s") x = $(i-1) }
	printf "\n== relayed by a root (A and B blocked from each other), iperf3 TCP, medians of 3\n%-28s %10s\n%-28s %10.2f\n%-28s %10.2f\n",
		"root data plane", "Gbit/s", "userspace", u, "XDP (generic mode)", x
}'
