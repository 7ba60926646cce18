#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# integration/subscription: @join and @leave on a lone server (the
# subscription plugin, docs/subscription.md). A new @join reports the
# server itself; recv blocks for the next event; an event leaves only once
# the client has it; a killed waiting client leaves nothing behind; scrub
# wakes blocked readers with "closed"; bad input gets one clear line.
# The cross-server behaviour is in cluster_subscription.sh.
source "$CIRCUIT_TESTLIB"
# Generic helpers (ct, pf, expect_peek, wait_peek, bg, still_blocked,
# bg_wait, bg_expect): chan's shell tests share them.
source "$CIRCUIT_SOURCE_DIR/tests/plugins/chan/chanlib.sh"
start_server
S=/$SERVER_ID

# ---- mk, ls, peek ----------------------------------------------------------
J=$S/watch/join
L=$S/watch/leave
c mk@join "$J"
c mk@leave "$L"
c ls -l "$S/watch/..." >"$T_TMP/ls"
grep -qE "^@join +$J +Pending=[0-9]+ Closed=false$" "$T_TMP/ls" || { cat "$T_TMP/ls"; fail "ls -l does not show $J as @join"; }
grep -qE "^@leave +$L +Pending=0 Closed=false$" "$T_TMP/ls" || { cat "$T_TMP/ls"; fail "ls -l does not show $L as @leave"; }
expect_peek "$J" Source '"@join"'
expect_peek "$J" Pending 1
expect_peek "$J" Closed false
expect_peek "$J" Seq 1
expect_peek "$J" Dropped 0
expect_peek "$L" Source '"@leave"'
expect_peek "$L" Pending 0
expect_peek "$L" Closed false
expect_peek "$L" Seq 0
expect_peek "$L" Dropped 0
ok "mk@join and mk@leave; ls -l shows their kinds; peek shows Source, Pending, Closed, Seq, Dropped"

# ---- @join reports the server itself ------------------------------------
[ "$(ct recv "$J")" = "$S" ] || fail "recv on a new @join did not print the server's anchor $S"
expect_peek "$J" Pending 0
expect_peek "$J" NumRecv 1
# Every @join reports the current members, whenever it is made.
c mk@join "$S/second"
[ "$(ct recv "$S/second")" = "$S" ] || fail "a second @join did not report the server"
ok "a new @join reports every current member: here the server itself"

# ---- an event leaves only once the client has it --------------------------
A=$S/ack
c mk@join "$A"
# /dev/full refuses every write: the client cannot print the event, so it
# never acknowledges it, and the event must stay.
rc=0
"$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" recv "$A" >/dev/full 2>"$T_TMP/full.err" || rc=$?
[ "$rc" != 0 ] || fail "recv into /dev/full succeeded"
grep -q "writing standard output" "$T_TMP/full.err" || { cat "$T_TMP/full.err"; fail "no write error"; }
wait_peek "$A" Pending 1
expect_peek "$A" NumRecv 0
[ "$(ct recv "$A")" = "$S" ] || fail "the unacknowledged event was not delivered to the next reader"
expect_peek "$A" Pending 0
expect_peek "$A" NumRecv 1
ok "an event a client could not take stays for the next reader"

# ---- recv blocks; a killed waiting client leaves nothing behind -----------
bg blocked_leave recv "$L"
R=$BG_PID
wait_peek "$L" WaitingReceivers 1
still_blocked "$R" "recv on an @leave of a lone server"
kill -KILL "$R"
bg_wait "$R"
wait_peek "$L" WaitingReceivers 0
expect_peek "$L" Pending 0
expect_peek "$L" NumRecv 0
ok "recv on @leave blocks; killing the client leaves no waiting receiver and nothing pending"

bg blocked_join recv "$J"
R=$BG_PID
wait_peek "$J" WaitingReceivers 1
still_blocked "$R" "recv on an @join with no new member"
kill -KILL "$R"
bg_wait "$R"
wait_peek "$J" WaitingReceivers 0
expect_peek "$J" Pending 0
expect_peek "$J" NumRecv 1
ok "recv on a drained @join blocks; killing the client leaves nothing pending"

# ---- scrub wakes blocked readers ----------------------------------------
bg woken1 recv "$L"
W1=$BG_PID
bg woken2 recv "$L"
W2=$BG_PID
wait_peek "$L" WaitingReceivers 2
c scrub "$L"
bg_expect "$W1" woken1 4 "closed"
bg_expect "$W2" woken2 4 "closed"
c ls "$S/watch/..." >"$T_TMP/ls2"
grep -qF "$L" "$T_TMP/ls2" && fail "$L is still listed after scrub"
ok "scrub wakes every blocked recv with a one-line \"closed\" error (exit 4)"

# ---- bad input -------------------------------------------------------------
expect_fail 2 "usage: circuit mk@join PATH" c mk@join "$S/bad" extra
expect_fail 2 "usage: circuit mk@leave PATH" c mk@leave "$S/bad" a b
expect_fail 1 'unknown element kind "@bogus"' c mk@bogus "$S/bad"
grep -qF "@join" "$T_TMP/ef.err" || fail "the unknown-kind error does not list @join"
expect_fail 2 "mk@join or mk@leave" c mksubscription "$S/bad"
expect_fail 2 "usage: circuit recv PATH" c recv "$J" extra
expect_fail 1 "already holds a @join element" c mk@leave "$J"
expect_fail 1 "has no operation \"send\"" c send "$J"
if c ls "$S/..." | grep -qF "$S/bad"; then fail "a failed mk left an anchor behind"; fi
ok "bad input gets one clear line and a non-zero exit; a failed mk leaves nothing"

c scrub "$J"
c scrub "$S/second"
c scrub "$A"
expect_peek "$S" Elements 0
server_alive
