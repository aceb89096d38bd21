#!/usr/bin/env bash
# Manual test bed for ztx: a root and two nodes, each node behind its own NAT
# router, in network namespaces. The Go tests build the same topology with
# internal/netns (see its package doc); this script is for poking at it by
# hand with ztnode, zerotier-one, tcpdump and friends.
#
#                 ztx-sh-inet: bridge ztx-br0, 198.51.100.0/24 ("the internet")
#          +---------------------------+---------------------------+
#          | 198.51.100.1              | 198.51.100.2              | 198.51.100.3
#     ztx-sh-root                 ztx-sh-nat1                 ztx-sh-nat2
#                                      | masquerade                | masquerade
#                                      | 10.1.0.1 (bridge ztx-br0) | 10.2.0.1 (bridge ztx-br0)
#                                      |                           |
#                                      | 10.1.0.2                  | 10.2.0.2
#                                 ztx-sh-node1                ztx-sh-node2
#
# Every interface in a namespace is ztx-v<k> (ztx-v0 is a node's, root's or
# router's way out); routers hold the bridge of their inside subnet. No
# namespace has a default route: the nodes route 198.51.100.0/24 via their
# router, the root and the routers reach only what they are attached to, so
# nothing here can send to the outside world. The NAT routers masquerade what
# leaves through ztx-v0 (port-restricted cone, like the Go harness's default)
# and forward from outside to inside only replies to connections the inside
# began.
#
# usage: scripts/netns.sh up           build the topology (cleans up if a step fails)
#        scripts/netns.sh down         stop what runs in it and remove it
#        scripts/netns.sh status       addresses, routes and NAT rules of each namespace
#        scripts/netns.sh exec NS CMD  run CMD in namespace NS (root, nat1, node1, ...)
#        scripts/netns.sh run CMD      up, run CMD (with the namespaces listed in
#                                      $ZTX_NETNS), down when CMD ends or on Ctrl-C
#
# Needs root, iproute2 and nftables (scripts/deps.sh installs them).
set -Eeuo pipefail

P=ztx-sh-                                   # namespace name prefix
NAMESPACES=(inet root nat1 nat2 node1 node2) # in creation order
INET=198.51.100

die() { echo "netns.sh: $*" >&2; exit 1; }

ns_exists() { [ -e "/run/netns/$P$1" ]; }

# nsx NS CMD...: run CMD inside namespace NS.
nsx() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }

# veth A DEVA B DEVB: a veth pair with one end in each namespace.
veth() {
	ip -n "$P$1" link add "$2" type veth peer name "$4" netns "$P$3"
	ip -n "$P$1" link set "$2" up
	ip -n "$P$3" link set "$4" up
}

# bridge NS ADDR/LEN|-: a bridge ztx-br0 in NS, with an address or none.
bridge() {
	ip -n "$P$1" link add ztx-br0 type bridge mcast_snooping 0
	[ "$2" = - ] || ip -n "$P$1" addr add "$2" dev ztx-br0
	ip -n "$P$1" link set ztx-br0 up
}

# attach NS ADDR/LEN BRIDGE-NS PORT: NS's ztx-v0 as a port of BRIDGE-NS's bridge.
attach() {
	veth "$1" ztx-v0 "$3" "$4"
	ip -n "$P$3" link set "$4" master ztx-br0
	ip -n "$P$1" addr add "$2" dev ztx-v0
}

# nat NS INSIDE-SUBNET: forwarding, masquerade out of ztx-v0, and a filter
# that lets in from outside only replies.
nat() {
	nsx "$1" sysctl -qw net.ipv4.ip_forward=1
	nsx "$1" nft -f - <<-EOF
		table inet ztx-nat {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "ztx-v0" ip saddr $2 masquerade
			}
			chain forward {
				type filter hook forward priority filter; policy accept;
				iifname "ztx-v0" oifname "ztx-br0" ct state established,related accept
				iifname "ztx-v0" oifname "ztx-br0" drop
			}
		}
	EOF
}

setup_failed() {
	echo "netns.sh: setting up failed or was interrupted; cleaning up" >&2
	down
	exit 1
}

up() {
	[ "$(id -u)" -eq 0 ] || die "needs root"
	command -v ip >/dev/null || die "needs ip (iproute2)"
	command -v nft >/dev/null || die "needs nft (nftables)"
	for ns in "${NAMESPACES[@]}"; do
		! ns_exists "$ns" || die "$P$ns exists already; run '$0 down' first"
	done
	trap setup_failed ERR INT TERM

	for ns in "${NAMESPACES[@]}"; do
		ip netns add "$P$ns"
		ip -n "$P$ns" link set lo up
		nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done

	bridge inet -
	attach root "$INET.1/24" inet ztx-v0
	attach nat1 "$INET.2/24" inet ztx-v1
	attach nat2 "$INET.3/24" inet ztx-v2

	local i
	for i in 1 2; do
		bridge "nat$i" "10.$i.0.1/24"
		attach "node$i" "10.$i.0.2/24" "nat$i" ztx-v1
		ip -n "${P}node$i" route add "$INET.0/24" via "10.$i.0.1"
		nat "nat$i" "10.$i.0.0/24"
	done

	trap - ERR INT TERM
	echo "up: ${NAMESPACES[*]/#/$P}"
}

down() {
	trap - ERR INT TERM
	local ns pid
	for ns in "${NAMESPACES[@]}"; do
		ns_exists "$ns" || continue
		# Stop what was started in the test bed, by PID: TERM, then KILL.
		for pid in $(ip netns pids "$P$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null || true
		done
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -z "$(ip netns pids "$P$ns" 2>/dev/null)" ] && break
			sleep 0.2
		done
		for pid in $(ip netns pids "$P$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$P$ns" || echo "netns.sh: could not delete $P$ns" >&2
	done
}

status() {
	local ns
	for ns in "${NAMESPACES[@]}"; do
		ns_exists "$ns" || { echo "== $P$ns: absent"; continue; }
		echo "== $P$ns"
		ip -n "$P$ns" -br addr
		ip -n "$P$ns" route
		[[ $ns != nat* ]] || nsx "$ns" nft list table inet ztx-nat
	done
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
exec)
	[ $# -ge 3 ] || die "usage: $0 exec NS CMD..."
	ns=$2; shift 2
	ns_exists "$ns" || die "no namespace $P$ns (is the test bed up?)"
	exec ip netns exec "$P$ns" "$@"
	;;
run)
	[ $# -ge 2 ] || die "usage: $0 run CMD..."
	shift
	up
	trap down EXIT
	trap 'exit 130' INT TERM
	ZTX_NETNS="${NAMESPACES[*]/#/$P}" "$@"
	;;
*)
	sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 2
	;;
esac
