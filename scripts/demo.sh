#!/usr/bin/env bash
# make demo: a ztx network in network namespaces, made from scratch.
#
#   A 192.168.1.2 ─ natA ─ ispA ─┐                      (each nat: Linux masquerade)
#                                ├─ wan 10.77.0.0/24 ─ root 10.77.0.1
#   B 192.168.2.2 ─ natB ─ ispB ─┘                   └─ controller 10.77.0.4
#
# ztctl makes the root's identity and a private planet naming it; four
# ztnode daemons start; A pings B at VL1: first through the root, then,
# after the root's RENDEZVOUS and a hole punch through both NATs, directly.
# Then the controller creates a virtual network, A and B join it, are
# authorized, get addresses on their zt interfaces, and ping and iperf3
# each other over it. Everything is removed at the end (also on Ctrl-C or
# failure). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (network namespaces)" >&2; exit 1; }
for c in ip nft curl iperf3 ping; do command -v $c >/dev/null || { echo "missing $c: run scripts/deps.sh" >&2; exit 1; }; done
ZTNODE=${ZTNODE:-bin/ztnode} ZTCTL=${ZTCTL:-bin/ztctl}
P=ztx-demo-$$
NS=(wan root ctl ispa ispb nata natb a b)
WORK=$(mktemp -d)
PIDS=()

cleanup() {
	# Everything this script started runs in its namespaces: stop those
	# processes by PID (the ones it started, and anything they left).
	for n in "${NS[@]}"; do PIDS+=($(ip netns pids "$P-$n" 2>/dev/null)); done
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	for n in "${NS[@]}"; do ip netns del "$P-$n" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
nsx() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }

step "network: a WAN, two ISPs, two Linux NAT routers, no default route anywhere"
for n in "${NS[@]}"; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
ip -n "$P-wan" link add br0 type bridge && ip -n "$P-wan" link set br0 up
link() { # link NS1 IF1 ADDR1 NS2 IF2 ADDR2 (ADDR may be "-")
	ip link add "$2-$$" netns "$P-$1" type veth peer name "$5-$$" netns "$P-$4"
	ip -n "$P-$1" link set "$2-$$" name "$2"; ip -n "$P-$4" link set "$5-$$" name "$5"
	[ "$3" = - ] || ip -n "$P-$1" addr add "$3" dev "$2"; [ "$6" = - ] || ip -n "$P-$4" addr add "$6" dev "$5"
	ip -n "$P-$1" link set "$2" up; ip -n "$P-$4" link set "$5" up
}
link root eth0 10.77.0.1/24 wan p1 -; ip -n "$P-wan" link set p1 master br0
link ctl eth0 10.77.0.4/24 wan p4 -; ip -n "$P-wan" link set p4 master br0
link ispa eth0 10.77.0.2/24 wan p2 -; ip -n "$P-wan" link set p2 master br0
link ispb eth0 10.77.0.3/24 wan p3 -; ip -n "$P-wan" link set p3 master br0
link ispa acc 172.16.1.1/24 nata out 172.16.1.2/24
link ispb acc 172.16.2.1/24 natb out 172.16.2.2/24
link nata in 192.168.1.1/24 a eth0 192.168.1.2/24
link natb in 192.168.2.1/24 b eth0 192.168.2.2/24
for n in ispa ispb nata natb; do nsx $n sysctl -qw net.ipv4.ip_forward=1; done
ip -n "$P-root" route add 172.16.0.0/16 via 10.77.0.2   # ispA's customers (and ispB's, below)
ip -n "$P-root" route add 172.16.2.0/24 via 10.77.0.3
ip -n "$P-ctl" route add 172.16.1.0/24 via 10.77.0.2
ip -n "$P-ctl" route add 172.16.2.0/24 via 10.77.0.3
ip -n "$P-ispa" route add 172.16.2.0/24 via 10.77.0.3
ip -n "$P-ispb" route add 172.16.1.0/24 via 10.77.0.2
for x in "a 1 2" "b 2 1"; do
	set -- $x
	ip -n "$P-nat$1" route add 10.77.0.0/24 via 172.16.$2.1
	ip -n "$P-nat$1" route add 172.16.$3.0/24 via 172.16.$2.1
	ip -n "$P-$1" route add 10.77.0.0/24 via 192.168.$2.1
	ip -n "$P-$1" route add 172.16.$3.0/24 via 192.168.$2.1
	nsx nat$1 nft -f - <<NFT
table inet demo {
	chain nat_post { type nat hook postrouting priority srcnat; oifname "out" masquerade; }
	chain filter_fwd { type filter hook forward priority filter; policy drop;
		ct state established,related accept; iifname "in" oifname "out" accept; }
}
NFT
done

step "the root's identity and a private planet (ztctl world mkplanet)"
mkdir -p "$WORK/root" "$WORK/ctl" "$WORK/a" "$WORK/b"
"$ZTCTL" identity generate "$WORK/root/identity.secret" "$WORK/root/identity.public"
cat >"$WORK/planet.json" <<JSON
{"id": "7a7a00de", "roots": [{"identity": "$(cat "$WORK/root/identity.public")", "stableEndpoints": ["10.77.0.1/9993"]}]}
JSON
"$ZTCTL" world mkplanet -o "$WORK/planet" "$WORK/planet.json" 2>/dev/null
for n in root ctl a b; do cp "$WORK/planet" "$WORK/$n/planet"; done

step "four ztnode daemons: root, controller, A, B"
start() { # start NS BIND
	echo "{\"settings\":{\"bind\":[\"$2\"],\"portMappingEnabled\":false,\"allowTcpFallbackRelay\":false}}" >"$WORK/$1/local.conf"
	nsx "$1" "$ZTNODE" --home "$WORK/$1" >"$WORK/$1.log" 2>&1 &
	PIDS+=($!)
}
start root 10.77.0.1; start ctl 10.77.0.4; start a 192.168.1.2; start b 192.168.2.2
for n in ctl a b; do
	for _ in $(seq 100); do [ -s "$WORK/$n/identity.public" ] && [ -s "$WORK/$n/zerotier-one.port" ] && break; sleep 0.1; done
done
A=$(cut -d: -f1 "$WORK/a/identity.public"); B=$(cut -d: -f1 "$WORK/b/identity.public")
echo "root $(cut -d: -f1 "$WORK/root/identity.public"), A $A, B $B"
for _ in $(seq 60); do
	nsx a "$ZTCTL" -D "$WORK/a" info 2>/dev/null | grep -q ONLINE && nsx b "$ZTCTL" -D "$WORK/b" info 2>/dev/null | grep -q ONLINE && break
	sleep 0.5
done
nsx a "$ZTCTL" -D "$WORK/a" info
nsx b "$ZTCTL" -D "$WORK/b" info

step "A's peers before it has talked to B"
nsx a "$ZTCTL" -D "$WORK/a" peers

step "A pings B: relayed by the root first, then direct through both NATs"
nsx a "$ZTCTL" -D "$WORK/a" ping "$B" -c 6 -i 0.5 || true

step "A's and the root's peers now"
nsx a "$ZTCTL" -D "$WORK/a" peers
nsx root "$ZTCTL" -D "$WORK/root" listpeers

step "the root's view as JSON (the reference's /peer objects), abridged"
nsx root "$ZTCTL" -D "$WORK/root" -j listpeers | head -24

step "the controller creates a private network (its /controller API)"
C=$(cut -d: -f1 "$WORK/ctl/identity.public")
api() { # api METHOD PATH [BODY]: the controller's local API, from its namespace
	nsx ctl curl -sS -X "$1" -H "X-ZT1-Auth: $(cat "$WORK/ctl/authtoken.secret")" \
		${3:+-d "$3"} "http://127.0.0.1:$(cat "$WORK/ctl/zerotier-one.port")$2"
}
NWID=$(api POST "/controller/network/${C}______" '{"name":"demo","private":true,
	"ipAssignmentPools":[{"ipRangeStart":"10.147.20.10","ipRangeEnd":"10.147.20.200"}],
	"routes":[{"target":"10.147.20.0/24"}],"v4AssignMode":{"zt":true}}' | sed 's/.*"id":"\([0-9a-f]\{16\}\)".*/\1/')
echo "network $NWID"
api GET "/controller/network/$NWID"; echo

step "A and B join (ztctl join); unauthorized, they are told ACCESS_DENIED"
nsx a "$ZTCTL" -D "$WORK/a" join "$NWID"
nsx b "$ZTCTL" -D "$WORK/b" join "$NWID"
for _ in $(seq 40); do nsx b "$ZTCTL" -D "$WORK/b" listnetworks | grep -q ACCESS_DENIED && break; sleep 0.25; done
nsx b "$ZTCTL" -D "$WORK/b" listnetworks

step "the controller authorizes both; they get configs, addresses and routes"
api POST "/controller/network/$NWID/member/$A" '{"authorized":true}' >/dev/null
api POST "/controller/network/$NWID/member/$B" '{"authorized":true}' >/dev/null
ipof() { nsx "$1" "$ZTCTL" -D "$WORK/$1" get "$NWID" ip4 2>/dev/null || true; }
for _ in $(seq 80); do [ -n "$(ipof a)" ] && [ -n "$(ipof b)" ] && break; sleep 0.25; done
IPA=$(ipof a); IPB=$(ipof b)
nsx a "$ZTCTL" -D "$WORK/a" listnetworks
nsx b "$ZTCTL" -D "$WORK/b" listnetworks
DEVA=$(nsx a "$ZTCTL" -D "$WORK/a" get "$NWID" portDeviceName)
nsx a ip -br addr show dev "$DEVA"

step "A pings B over the virtual network ($IPA -> $IPB; ARP first)"
for _ in $(seq 40); do nsx a ping -c 1 -W 1 "$IPB" >/dev/null 2>&1 && break; sleep 0.25; done
nsx a ping -c 4 -i 0.3 "$IPB"

step "iperf3 from A to B over the virtual network (3 s)"
nsx b iperf3 -s -1 -B "$IPB" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
nsx a iperf3 -c "$IPB" -t 3 -f g | tail -4

step "peers and networks as the nodes see them"
nsx a "$ZTCTL" -D "$WORK/a" peers
nsx a "$ZTCTL" -D "$WORK/a" listnetworks
nsx ctl "$ZTCTL" -D "$WORK/ctl" listpeers
echo
echo "done: cleaning up namespaces and daemons"
