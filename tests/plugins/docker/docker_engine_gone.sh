#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The engine goes away mid-operation: a blocked wait and a stdout read fail
# with one clear line (exit 3: unavailable), the server keeps serving (other kinds too), making a
# container fails clearly, and once the engine is back the same element's
# wait works again.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
start_docker_server
X=$SERVER_ID

spec sh -c 'echo up; sleep 1000' | mkd /$X/long
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/long >"$T_TMP/out" 2>"$T_TMP/out.err" &
reader=$!
t_track $reader
wait_until 60 grep -q up "$T_TMP/out"
"$CIRCUIT_BIN" -d "$SERVER_URL" wait /$X/long >"$T_TMP/wait" 2>"$T_TMP/wait.err" &
waiter=$!
t_track $waiter
sleep 1
kill -0 $waiter || fail "wait should block while the container runs"

engine_stop
rc=0; wait $waiter || rc=$?
[ $rc = 3 ] || { cat "$T_TMP/wait.err"; fail "wait should fail (3: unavailable) when the engine goes away, got $rc"; }
grep -q "did not answer" "$T_TMP/wait.err" || { cat "$T_TMP/wait.err"; fail "wait's error should say the engine did not answer"; }
[ "$(wc -l <"$T_TMP/wait.err")" = 1 ] || fail "wait's error should be one line"
rc=0; wait $reader || rc=$?
[ $rc = 3 ] || { cat "$T_TMP/out.err"; fail "stdout should fail (3: unavailable) when the engine goes away, got $rc"; }
grep -q "stdout of /$X/long" "$T_TMP/out.err" || { cat "$T_TMP/out.err"; fail "stdout's error should name the stream"; }
ok "a blocked wait and a stdout read fail clearly when the engine goes away"

server_alive
echo '{"Path":"/bin/echo","Args":["still here"]}' | c mkproc /$X/proc
[ "$(c stdout /$X/proc)" = "still here" ] || fail "the server should keep serving other kinds"
orphaned() { spec true | mkd /$X/orphaned; }
expect_fail 3 "did not answer" orphaned
expect_fail 1 "no element at /$X/orphaned" c peek /$X/orphaned
ok "the server keeps serving; new containers fail clearly"

# The engine comes back: the element's container is still there (podman
# keeps it running without its service); wait asks again and works.
engine_start
c signal KILL /$X/long
rc=0; c wait /$X/long >"$T_TMP/w" || rc=$?
[ $rc = 5 ] || fail "wait after the engine returned should see the kill (5), got $rc"
grep -q '"ExitCode" : 137' "$T_TMP/w" || fail "wait should report 137"
ok "after the engine returns, the element is usable again"
