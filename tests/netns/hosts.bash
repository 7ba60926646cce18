# SPDX-License-Identifier: Apache-2.0
# tests/netns/hosts.bash - hosts in network namespaces on one bridge, for
# the tests here that need more than loopback (not a test itself: ctest
# runs the *.sh). Source it with lib.sh:
#     netns_require ip iptables         # 77 unless root with these tools
#     trap 'your cleanup; netns_remove' EXIT
#     netns_bridge cn$$ 4 10.77.0       # NS[0..3] at 10.77.0.1..4, on BR
#     on 2 ip addr                      # host 2's namespace

# netns_require TOOL...: exits 77 (skipped) unless run as root with every
# TOOL on PATH.
netns_require() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: network-namespace tests need root"
		exit 77
	fi
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "SKIP: no $tool"; exit 77; }
	done
}

# netns_bridge PREFIX N NET: N namespaces NS[0..N-1] (PREFIX-1 ...), each
# with eth0 at NET.I/24 on one bridge, itself in a namespace of its own
# (BR, PREFIX-br), so the host's firewall and interfaces are never touched;
# multicast leaves through eth0 (a client has no -if) and stays on the
# bridge. Exits 77 when namespaces cannot be made here.
netns_bridge() {
	local prefix=$1 n=$2 net=$3 i ns
	BR=$prefix-br
	NS=()
	for i in $(seq 1 "$n"); do NS+=("$prefix-$i"); done
	if ! ip netns add "$BR" 2>/dev/null; then
		echo "SKIP: cannot create network namespaces here"
		exit 77
	fi
	ip -n "$BR" link add br0 type bridge mcast_snooping 0
	ip -n "$BR" link set br0 up
	for i in $(seq 1 "$n"); do
		ns=${NS[$((i - 1))]}
		ip netns add "$ns"
		ip -n "$BR" link add "h$i" type veth peer name eth0 netns "$ns"
		ip -n "$BR" link set "h$i" master br0 up
		ip -n "$ns" addr add "$net.$i/24" dev eth0
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 up
		ip -n "$ns" route add 224.0.0.0/4 dev eth0
	done
}

# netns_remove: removes what netns_bridge made (the namespaces take their
# links with them); harmless when some were never made.
netns_remove() {
	local ns
	for ns in "${NS[@]}" "${BR:-}"; do [ -z "$ns" ] || ip netns del "$ns" 2>/dev/null; done
	return 0
}

# on I CMD...: runs CMD in host I's namespace.
on() {
	local i=$1
	shift
	ip netns exec "${NS[$((i - 1))]}" "$@"
}
NS=()
BR=
