#!/usr/bin/env bash
# make demo (until the network demo lands with VL1/VL2): what ztx does
# today, offline. Identities, a private planet and a moon made with ztctl,
# and a captured ZeroTier One 1.14.1 session decoded and authenticated.
set -euo pipefail
cd "$(dirname "$0")/.."
ztctl=${ZTCTL:-bin/ztctl}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "1. a node identity (memory-hard proof of work, like zerotier-idtool)"
time "$ztctl" identity generate "$work/root.secret" "$work/root.public"
"$ztctl" identity validate "$work/root.public"
echo "address: $(cut -d: -f1 "$work/root.public")"

step "2. sign and verify a file with it"
echo "hello from ztx" >"$work/msg.txt"
sig=$("$ztctl" identity sign "$work/root.secret" "$work/msg.txt")
echo "signature: ${sig:0:32}... (96 bytes)"
"$ztctl" identity verify "$work/root.public" "$work/msg.txt" "$sig"

step "3. a private planet whose root is that node"
cat >"$work/planet.json" <<JSON
{"id": "7a7a0042", "roots": [{"identity": "$(cat "$work/root.public")", "stableEndpoints": ["10.99.0.1/9993"]}]}
JSON
"$ztctl" world mkplanet -o "$work/planet" "$work/planet.json"
"$ztctl" world show "$work/planet"

step "4. a moon (idtool's initmoon/genmoon workflow)"
"$ztctl" world initmoon "$work/root.public" >"$work/moon.json"
(cd "$work" && "$OLDPWD/$ztctl" world genmoon moon.json)
"$ztctl" world show "$work"/*.moon

step "5. a live ZeroTier One 1.14.1 session, decoded with the nodes' keys (first 24 lines)"
"$ztctl" wire decode \
	-i testdata/session1/id1.secret -i testdata/session1/id2.secret -i testdata/session1/id3.secret \
	testdata/session1/zt-session.pcap >"$work/decode.txt"
head -24 "$work/decode.txt"
echo "..."
tail -1 "$work/decode.txt"
