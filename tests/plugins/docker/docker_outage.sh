#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Removals while the engine is down or stopped (issue 17, findings 3, 4).
#  - scrub while the engine is down: the element goes at once (exit 0),
#    the removal is kept pending (the server's peek: Kinds.docker.State.
#    PendingRemovals, and the log), retried with back-off, and done within
#    seconds of the engine's return: nothing left in the engine's list.
#  - a create against a stopped engine (SIGSTOP) fails after its timeout;
#    after SIGCONT whatever the engine made of it is removed by its name.
# Before, both containers stayed until the next circuitd start swept them.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
start_docker_server
X=$SERVER_ID
json() { python3 -c 'import json,sys; j = json.load(sys.stdin); print('"$1"')'; }
pending() { c peek /$X | json 'len(j["Kinds"]["docker"]["State"]["PendingRemovals"])'; }

spec sleep 1000 | mkd /$X/left
wait_until 60 bash -c "'$CIRCUIT_BIN' -d '$SERVER_URL' peek /$X/left | grep -q '\"Running\" : true'"
engine_stop
c scrub /$X/left || fail "scrub while the engine is down should succeed"
expect_fail 1 "no element at /$X/left" c peek /$X/left
wait_true 30 '[ "$(pending)" = 1 ]'
c peek /$X | json 'j["Kinds"]["docker"]["State"]["PendingRemovals"][0]["Anchor"]' | grep -qx "/$X/left" ||
	fail "the pending removal should name the anchor"
grep -q "the engine could not remove container .* of /$X/left .*kept pending" "$SERVER_LOG" ||
	fail "the log should say the removal is pending"
engine_start
wait_until 60 engine_lacks "$X.left" || fail "the container was not removed once the engine came back"
wait_true 30 '[ "$(pending)" = 0 ]'
grep -q "container .* of /$X/left removed (after [0-9]* attempt" "$SERVER_LOG" || fail "the log should say it was removed"
ok "scrub while the engine is down: removed once it is back"

engine_pause
rc=0
spec sleep 1000 | "$CIRCUIT_BIN" -d "$SERVER_URL" mkdocker /$X/frozen 2>"$T_TMP/mk.err" || rc=$?
[ $rc != 0 ] || fail "mkdkr against a stopped engine should fail"
[ "$(wc -l <"$T_TMP/mk.err")" = 1 ] || { cat "$T_TMP/mk.err"; fail "one line of error"; }
grep -q "creating container circuit-$X.frozen" "$T_TMP/mk.err" || { cat "$T_TMP/mk.err"; fail "the error should name the container"; }
expect_fail 1 "no element at /$X/frozen" c peek /$X/frozen
engine_resume
wait_until 60 engine_lacks "$X.frozen" || { engine_containers; fail "a create that timed out left a container"; }
wait_true 30 '[ "$(pending)" = 0 ]'
sleep 6
engine_lacks "$X.frozen" || { engine_containers; fail "a container of the timed-out create appeared late and stayed"; }
ok "a create that timed out against a stopped engine leaves nothing once it runs again"
server_alive
