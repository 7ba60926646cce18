# SPDX-License-Identifier: Apache-2.0
# dns_lib.sh - helpers shared by the dns element's shell tests. Source it
# after $CIRCUIT_TESTLIB.

command -v dig >/dev/null || fail "dig is missing (apt-get install dnsutils)"
command -v jq >/dev/null || fail "jq is missing"

# dns_mk PATH [ADDR]: creates a dns element; sets DNS_ADDR, DNS_IP, DNS_PORT.
dns_mk() {
	local path=$1
	shift
	c mkdns "$path" "$@"
	DNS_ADDR=$(c peek "$path" | jq -r .Address)
	DNS_IP=${DNS_ADDR%:*}
	DNS_PORT=${DNS_ADDR##*:}
	[[ "$DNS_PORT" =~ ^[0-9]+$ ]] && [ "$DNS_PORT" -gt 0 ] || fail "bad Address '$DNS_ADDR'"
}

# q DIG-ARGS...: dig against the last element made, bounded in time.
q() { dig @"$DNS_IP" -p "$DNS_PORT" +time=2 +tries=1 "$@"; }

# q_status DIG-ARGS...: the answer's status (NOERROR, NXDOMAIN, ...).
q_status() { q +noall +comments "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }

# q_flags DIG-ARGS...: the header flags ("qr aa rd").
q_flags() { q +noall +comments "$@" | sed -n 's/.*;; flags: \([a-z ]*\);.*/\1/p'; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', wanted '$3'"; }

# nsd_start ZONEFILE ZONE: starts Debian's NSD in the foreground on
# 127.0.0.1 and a free port, serving ZONEFILE as ZONE, with
# minimal-responses, no rate limiting and no remote control; tracked by
# PID (stopped at exit, even on failure). Sets NSD_PORT and NSD_PID, and
# returns once NSD answers the zone's SOA.
nsd_start() {
	local zonefile=$1 zone=$2 nsd
	nsd=$(command -v nsd || echo /usr/sbin/nsd)
	[ -x "$nsd" ] || fail "nsd is missing (apt-get install nsd)"
	mkdir -p "$T_TMP/nsd"
	NSD_PORT=$(free_port)
	cat >"$T_TMP/nsd/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1
	port: $NSD_PORT
	username: ""
	chroot: ""
	zonesdir: "$T_TMP/nsd"
	database: ""
	zonelistfile: "$T_TMP/nsd/zone.list"
	xfrdfile: "$T_TMP/nsd/xfrd.state"
	xfrdir: "$T_TMP/nsd"
	pidfile: "$T_TMP/nsd/nsd.pid"
	logfile: "$T_TMP/nsd/nsd.log"
	server-count: 1
	minimal-responses: yes
	refuse-any: no
	verbosity: 1
	rrl-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: $zone.
	zonefile: "$zonefile"
CONF
	"$nsd" -d -c "$T_TMP/nsd/nsd.conf" >"$T_TMP/nsd/stdout" 2>&1 &
	NSD_PID=$!
	t_track "$NSD_PID"
	local i
	for i in $(seq 1 600); do
		dig @127.0.0.1 -p "$NSD_PORT" +time=1 +tries=1 +short "$zone" SOA 2>/dev/null | grep -q . && return 0
		kill -0 "$NSD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T_TMP/nsd/stdout" "$T_TMP/nsd/nsd.log" 2>/dev/null >&2
	fail "nsd did not start"
}

# dns_a_records N SUFFIX: N lines "hI.SUFFIX 60 IN A 10.x.y.z" (I from 0),
# each name new and each address distinct, for loads.
dns_a_records() {
	awk -v n="$1" -v s="$2" 'BEGIN { for (i = 0; i < n; i++)
		printf "h%d.%s 60 IN A 10.%d.%d.%d\n", i, s, int(i / 65536), int(i / 256) % 256, i % 256 }'
}
