#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Errors that say what is true about an owner that stops answering (issue
# 15, findings 3, 8 and 9): while the cluster suspects it, new operations on
# it fail at once with "unavailable" (retryable, exit 3), not "no such
# server"; a call relayed to it that is still waiting when the cluster
# declares it dead fails with "became unreachable" (exit 3) instead of
# waiting forever; once it answers again, everything works. A server that
# does not know a live member (its table is full) asks the others before it
# answers "no such server".
source "$CIRCUIT_TESTLIB"
start_server --plugins=proc,chan
A_URL=$SERVER_URL
start_server --plugins=proc,chan -j "$A_URL"
B=$SERVER_ID B_PID=$SERVER_PID
start_server --plugins=proc,chan -j "$A_URL"
C_URL=$SERVER_URL
wait_true 10 '[ "$("$CIRCUIT_BIN" -d "$A_URL" ls / | wc -l)" = 3 ]'
a() { "$CIRCUIT_BIN" -d "$A_URL" "$@"; }

a mkchan /$B/q 0
# A receive relayed through A, waiting on B for a message that never comes.
(rc=0; a recv /$B/q >/dev/null 2>"$T_TMP/recv.err" || rc=$?; echo $rc >"$T_TMP/recv.rc") &
wait_true 10 'a peek /$B/q | grep -q "\"WaitingReceivers\" *: *1"'
kill -STOP "$B_PID"
stopped_ms=$(date +%s%3N)
# Poll with short calls while B is paused: record what each one said.
: >"$T_TMP/seen"
for _ in $(seq 1 60); do
	rc=0
	"$CIRCUIT_BIN" --timeout 500ms -d "$A_URL" peek /$B/q >/dev/null 2>"$T_TMP/peek.err" || rc=$?
	echo "$rc $(head -n 1 "$T_TMP/peek.err")" >>"$T_TMP/seen"
	[ -s "$T_TMP/recv.rc" ] && break
	sleep 0.25
done
kill -CONT "$B_PID"
echo "figure: answers while B was paused (count x exit code: first line): $(sed -E 's/X[0-9a-f]{16}/X.../g; s/[0-9]+\.[0-9]+ s/N s/g' "$T_TMP/seen" |
	sort | uniq -c | sort -rn | head -n 8 | sed -E 's/^ *([0-9]+) ([0-9]+) /\1 x \2: /' | paste -sd';' | sed 's/;/; /g')"
grep -q "^3 .*is not answering (suspected for" "$T_TMP/seen" ||
	fail "no call said the owner was unavailable while it was suspected"
if grep -n "no such server" "$T_TMP/seen" | head -n 1 | grep -q .; then
	first_nf=$(grep -n "no such server" "$T_TMP/seen" | head -n 1 | cut -d: -f1)
	last_un=$(grep -n "is not answering" "$T_TMP/seen" | tail -n 1 | cut -d: -f1)
	[ "$last_un" -lt "$first_nf" ] || fail "\"unavailable\" came after \"no such server\""
fi
ok "while the owner is suspected, new calls fail at once with \"unavailable\" (exit 3)"

for _ in $(seq 1 300); do [ -s "$T_TMP/recv.rc" ] && break; sleep 0.1; done
[ -s "$T_TMP/recv.rc" ] || fail "the relayed recv still waits on a server the cluster declared dead"
rc=$(cat "$T_TMP/recv.rc")
[ "$rc" = 3 ] || fail "the relayed recv exited $rc: $(cat "$T_TMP/recv.err")"
grep -q "became unreachable" "$T_TMP/recv.err" || fail "the relayed recv said: $(cat "$T_TMP/recv.err")"
took_ms=$(($(date +%s%3N) - stopped_ms))
echo "figure: the relayed recv ended $((took_ms / 1000)).$((took_ms % 1000 / 100)) s after B was paused or less: $(cat "$T_TMP/recv.err" | sed -E 's/X[0-9a-f]{16}/X.../g')"
ok "a call relayed to an owner declared dead fails with \"became unreachable\" (exit 3)"

# B is back: it refutes, and calls through A work again.
wait_true 40 'a peek /$B/q >/dev/null 2>&1'
ok "the owner answers again once it is back"

# A server whose member table is full (D, --max-members 3) does not know a
# fourth live server E; asked for E's anchors, it asks the others first.
start_server --plugins=proc,chan --max-members 3 -j "$A_URL"
D_URL=$SERVER_URL
wait_true 10 '[ "$("$CIRCUIT_BIN" -d "$D_URL" ls / | wc -l)" = 3 ]'
start_server --plugins=proc,chan -j "$A_URL"
E=$SERVER_ID
wait_true 10 '[ "$(a ls / | wc -l)" = 5 ]'
sleep 1
"$CIRCUIT_BIN" -d "$D_URL" ls / | grep -q "/$E\$" && fail "D should not have room for E in its table"
"$CIRCUIT_BIN" -d "$D_URL" mkchan /$E/r 1 || fail "D answered for E, a live server it does not know"
echo hi | "$CIRCUIT_BIN" -d "$D_URL" send /$E/r
[ "$(a recv /$E/r)" = hi ] || fail "the send through D did not reach E"
expect_fail 3 "no such server X0123456789abcdef" "$CIRCUIT_BIN" -d "$D_URL" peek /X0123456789abcdef/x
ok "a server that does not know a live member asks the others before answering \"no such server\""
