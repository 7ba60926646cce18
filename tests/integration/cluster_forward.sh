#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Three real servers on 127.0.0.1 joined by URL in every start order; then,
# through one server, every proc operation on another server's anchors
# (stdout byte for byte, back-pressure end to end), channels across servers,
# unknown servers, and a server killed with SIGKILL.
. "$CIRCUIT_TESTLIB"

# members URL: how many servers the server at URL lists.
members() { "$CIRCUIT_BIN" -d "$1" ls / | grep -c '^/X'; }
all_see() {
	local want=$1; shift
	for u in "$@"; do [ "$(members "$u")" = "$want" ] || return 1; done
}

P1=$(free_port); P2=$(free_port); P3=$(free_port)
declare -A URL PID ID
start_n() {
	local n=$1 port
	eval "port=\$P$n"
	local join=()
	[ "$n" != 1 ] && join=(-j "127.0.0.1:$P1")
	start_server -a "127.0.0.1:$port" --plugins=proc,chan "${join[@]}"
	URL[$n]=$SERVER_URL; PID[$n]=$SERVER_PID; ID[$n]=$SERVER_ID
}
stop_all() {
	for n in 1 2 3; do kill -TERM "${PID[$n]}" 2>/dev/null || true; done
	for n in 1 2 3; do wait "${PID[$n]}" 2>/dev/null || true; done
}

for order in "1 2 3" "1 3 2" "2 1 3" "2 3 1" "3 1 2" "3 2 1"; do
	for n in $order; do start_n "$n"; done
	wait_until 20 all_see 3 "${URL[1]}" "${URL[2]}" "${URL[3]}"
	ok "start order $order: every server lists 3"
	[ "$order" = "3 2 1" ] || stop_all
done

A=${URL[1]}; XB=${ID[2]}; XC=${ID[3]}
a() { "$CIRCUIT_BIN" -d "$A" "$@"; }

# ls / and ls /... through one server.
a ls / | grep -qx "/$XC" || fail "ls / lacks /$XC"
echo '{"Path":"/bin/sleep","Args":["60"]}' | a mkproc "/$XC/deep/job"
a ls /... | grep -qx "/$XC/deep/job" || fail "ls /... does not walk /$XC"
a ls "/$XC/deep" | grep -qx "/$XC/deep/job" || fail "ls /$XC/deep"
# PATH/... of another server is that server's to answer (issue 15, finding 6).
a ls "/$XC/..." | grep -qx "/$XC/deep/job" || fail "ls /$XC/... through another server"
a ls "/$XC/deep/..." | grep -qx "/$XC/deep/job" || fail "ls /$XC/deep/... through another server"
ok "ls / lists the members; ls /... walks every server; ls /X.../... is forwarded"

# Every proc operation on server C through server A.
a peek "/$XC/deep/job" | grep -q '"Phase" : "running"' || fail "peek through A"
a signal "/$XC/deep/job" TERM
a wait "/$XC/deep/job" >/dev/null && fail "wait should report the TERM"
rc=0; a wait "/$XC/deep/job" >/dev/null 2>&1 || rc=$?
[ "$rc" = 5 ] || fail "wait of a killed process through A exited $rc, wanted 5"
a scrub "/$XC/deep/job"
a ls "/$XC" | grep -q deep && fail "scrub through A left the anchor"
echo '{"Path":"/bin/sh","Args":["-c","tr a-z A-Z; echo bye >&2"]}' | a mkproc "/$XC/up"
echo hello | a stdin "/$XC/up"
[ "$(a stdout "/$XC/up")" = HELLO ] || fail "stdin/stdout through A"
[ "$(a stderr "/$XC/up")" = bye ] || fail "stderr through A"
a wait "/$XC/up" >/dev/null
ok "mkproc, peek, signal, wait, scrub, stdin, stdout, stderr through another server"

# 20 MiB of stdout byte for byte through A.
head -c $((20 << 20)) /dev/urandom >"$T_TMP/big"
echo "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/big\"]}" | a mkproc "/$XC/big"
a stdout "/$XC/big" | cmp - "$T_TMP/big" || fail "20 MiB through A differ"
ok "20 MiB of stdout through another server, byte for byte"

# Back-pressure end to end: a stalled reader through A keeps the writer on C
# blocked (A buffers no more than the reader's window).
echo '{"Path":"/bin/sh","Args":["-c","head -c 200000000 /dev/zero"]}' | a mkproc "/$XC/flood"
( a stdout "/$XC/flood" | { head -c 100000 >/dev/null; sleep 30; } ) &
reader=$!
t_track $reader
sleep 3
a peek "/$XC/flood" | grep -q '"Phase" : "running"' || fail "the writer finished: something buffered 200 MB"
rss=$(awk '/VmRSS/ {print $2}' "/proc/${PID[1]}/status")
[ "$rss" -lt 100000 ] || fail "server A holds $rss KiB while relaying a stalled stream"
kill $reader 2>/dev/null || true
a scrub "/$XC/flood"
ok "back-pressure holds across servers (server A at $rss KiB)"

# A channel on B, sent to through A and received through C.
a mkchan "/$XB/ch" 2
echo one | a send "/$XB/ch"
echo two | "$CIRCUIT_BIN" -d "${URL[3]}" send "/$XB/ch"
[ "$("$CIRCUIT_BIN" -d "${URL[3]}" recv "/$XB/ch")" = one ] || fail "recv through C"
[ "$(a recv "/$XB/ch")" = two ] || fail "recv through A"
ok "a channel on one server used through two others"

# Unknown servers.
expect_fail 3 "no such server X0123456789abcdef" a peek /X0123456789abcdef/x
expect_fail 3 "no such server" a ls /X0123456789abcdef
ok "an unknown server: one clear line"

# A server that does not answer (stopped): ls /... prints what it has, says
# which server is missing on stderr, and exits 1.
kill -STOP "${PID[3]}"
rc=0
a ls /... >"$T_TMP/lsall" 2>"$T_TMP/lsall.err" || rc=$?
kill -CONT "${PID[3]}"
[ "$rc" = 1 ] || fail "ls /... with a stopped server exited $rc, wanted 1"
grep -q "^circuit ls: /$XC is missing: " "$T_TMP/lsall.err" || fail "ls /... did not name the missing server"
grep -qx "/$XB/ch" "$T_TMP/lsall" || fail "ls /... lost the answering servers' trees"
ok "ls /... with a server that does not answer: partial listing, the missing server named"
wait_until 30 all_see 3 "${URL[1]}" "${URL[2]}" "${URL[3]}"

# kill -9 of C: the others notice and say "no such server".
kill -KILL "${PID[3]}"
wait_until 20 all_see 2 "${URL[1]}" "${URL[2]}"
expect_fail 3 "no such server $XC" a peek "/$XC"
a peek "/$XB" >/dev/null || fail "B should still answer through A"
ok "a server killed with SIGKILL is gone from every view; ops on it fail clearly"
