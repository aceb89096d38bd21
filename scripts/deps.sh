#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test ztx:
# Go 1.26 is expected at /usr/local/go (or on PATH); Debian packages for the
# eBPF toolchain and the network-namespace test bed come from apt.
set -euo pipefail

packages=(
	make git ca-certificates
	clang llvm libbpf-dev        # bpf/ programs (bpf2go)
	iproute2 nftables iperf3     # netns test bed and benchmarks
	iputils-ping curl            # virtual network tests and the demo
	tcpdump                      # captures in integration tests
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		echo "go is at /usr/local/go/bin; add it to PATH"
	else
		echo "Go 1.26 is required (https://go.dev/dl/); it is not installed" >&2
		exit 1
	fi
fi
