#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_tcp_idle: idle TCP clients never delay others (RFC 7766). With 500
# idle connections open to an element, a `dig +tcp` query and a UDP query
# are answered; the query's latency is printed, never asserted (dig's own
# timeout is the hang guard). Then the same against a server whose
# descriptor limit holds fewer connections than that: the element sheds
# its idlest connections instead of pausing accept, and still answers;
# and once more with descriptors running out below the cap (EMFILE).
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

command -v prlimit >/dev/null || fail "prlimit is missing (util-linux)"
N=500
HOLD=$(dirname "$0")/dns_tcp_hold.py

# hold NAME: opens $N idle connections to $DNS_PORT in the background.
hold() {
	python3 "$HOLD" "$DNS_PORT" "$N" "$T_TMP/$1.ready" "$T_TMP/$1.stop" >"$T_TMP/$1.out" &
	HOLD_PID=$!
	t_track "$HOLD_PID"
	wait_until 30 test -s "$T_TMP/$1.ready"
	echo "# $1: $(cat "$T_TMP/$1.ready") of $N idle connections"
}

# release NAME: lets the holder go and prints what it saw ("up U closed C").
release() {
	touch "$T_TMP/$1.stop"
	wait_until 30 test -s "$T_TMP/$1.out"
	wait "$HOLD_PID" 2>/dev/null || true
	cat "$T_TMP/$1.out"
}

# tcp_query NAME: one `dig +tcp` query; its answer must come before dig's
# own timeout (the guard). Prints the latency measured around dig.
tcp_query() {
	local t0 t1 got
	t0=$(date +%s%N)
	got=$(timeout 20 dig @"$DNS_IP" -p "$DNS_PORT" +tcp +time=8 +tries=1 +short a.example A) ||
		got="(no answer: $got)"
	t1=$(date +%s%N)
	echo "# $1: dig +tcp with $N idle connections open answered in $(((t1 - t0) / 1000000)) ms"
	expect_eq "$1: tcp answer" "$got" "192.0.2.1"
}

start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c set "$P" "a.example. 60 IN A 192.0.2.1"

hold idle
tcp_query "idle"
expect_eq "udp answer" "$(q +short a.example A)" "192.0.2.1"
res=$(release idle)
# Every idle connection was accepted (none waits in the backlog), and with
# the default cap of 1024 none was shed.
expect_eq "idle holder" "$res" "up $N closed 0"
ok "$N idle TCP connections: TCP and UDP queries answered"

# A server with few descriptors: the element's cap follows the limit, and
# at the cap a new connection sheds the idlest one.
# circuitd raises its soft limit to the hard one at start, so the limit
# is lowered on the running server, before the element is made.
start_server
prlimit --pid "$SERVER_PID" --nofile=256:256 || fail "prlimit"
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c set "$P" "a.example. 60 IN A 192.0.2.1"
hold shed
tcp_query "shed"
expect_eq "udp answer (shed)" "$(q +short a.example A)" "192.0.2.1"
res=$(release shed)
echo "# shed: $res"
[[ "$res" =~ ^up\ $N\ closed\ ([0-9]+)$ ]] || fail "shed holder: '$res'"
[ "${BASH_REMATCH[1]}" -gt 0 ] || fail "no idle connection was shed at the cap"
server_alive
ok "at the cap the idlest connections are shed; queries still answered"

# Descriptors run out below the cap (the limit lowered after the element
# was made): accept() fails with EMFILE, the element sheds the idlest
# connection and accepts, and warns at most every 10 s instead of spinning.
start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c set "$P" "a.example. 60 IN A 192.0.2.1"
prlimit --pid "$SERVER_PID" --nofile=128:128 || fail "prlimit"
hold emfile
tcp_query "emfile"
expect_eq "udp answer (emfile)" "$(q +short a.example A)" "192.0.2.1"
res=$(release emfile)
echo "# emfile: $res"
[[ "$res" =~ ^up\ $N\ closed\ ([0-9]+)$ ]] || fail "emfile holder: '$res'"
[ "${BASH_REMATCH[1]}" -gt 0 ] || fail "no connection was shed on EMFILE"
warnings=$(grep -c "cannot accept a TCP connection" "$SERVER_LOG" || true)
echo "# emfile: $warnings warning(s) logged"
[ "$warnings" -ge 1 ] && [ "$warnings" -le 3 ] || fail "EMFILE warnings: $warnings (want 1-3)"
server_alive
ok "out of descriptors: the idlest connections are shed, warned once"
