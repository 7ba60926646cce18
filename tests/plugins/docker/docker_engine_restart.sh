#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The engine restarts while a container prints (issue 17, finding 2): the
# container survives (podman's conmon; dockerd's live-restore), and a
# `circuit stdout` reading through the restart gets every line, in order,
# once, and exits 0. Before, the reader waited for the exit and ended with
# exit 0 and nothing printed after the restart. Its stdin, which no engine
# carries over a restart, ends with one clear line. An outage longer than a
# reader's patience fails the reader with one line (exit 3), and a reader
# after the engine is back gets the rest, where the first one stopped.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
start_docker_server
X=$SERVER_ID

# expect_lines FILE N: FILE is exactly "line 1" .. "line N".
expect_lines() {
	seq 1 "$2" | sed 's/^/line /' >"$T_TMP/want"
	cmp -s "$T_TMP/want" "$1" ||
		{ diff "$T_TMP/want" "$1" | head -20; fail "$1: not exactly line 1 to line $2"; }
}

# --- a short restart, while one reader reads -------------------------------
spec sh -c 'i=1; while [ $i -le 100 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done' | mkd /$X/talk
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/talk >"$T_TMP/out" 2>"$T_TMP/out.err" &
reader=$!
t_track $reader
wait_until 60 grep -q "line 10$" "$T_TMP/out"
engine_kill
sleep 1
engine_start
rc=0
wait $reader || rc=$?
[ $rc = 0 ] || { cat "$T_TMP/out.err"; fail "stdout across an engine restart exited $rc"; }
expect_lines "$T_TMP/out" 100
grep -q "reading the output again from the engine's log" "$SERVER_LOG" ||
	fail "the server should say it read the output again"
c wait /$X/talk | grep -q '"ExitCode" : 0' || fail "wait after the restart should see exit 0"
expect_fail 4 "stdin of /$X/talk is closed already: the connection to the container" \
	bash -c "echo x | '$CIRCUIT_BIN' -d '$SERVER_URL' stdin /$X/talk"
ok "a reader across an engine restart gets every line once, in order; stdin says why it closed"

# --- an outage longer than the reader's patience ---------------------------
spec sh -c 'i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done' | mkd /$X/long
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/long >"$T_TMP/long1" 2>"$T_TMP/long1.err" &
reader=$!
t_track $reader
wait_until 60 grep -q "line 5$" "$T_TMP/long1"
engine_stop
rc=0
wait $reader || rc=$?
[ $rc = 3 ] || { cat "$T_TMP/long1.err"; fail "a reader of a long outage should fail (3), got $rc"; }
[ "$(wc -l <"$T_TMP/long1.err")" = 1 ] || { cat "$T_TMP/long1.err"; fail "one line of error"; }
grep -q "stdout of /$X/long: the connection to the container broke and the engine at .* has not answered" "$T_TMP/long1.err" ||
	{ cat "$T_TMP/long1.err"; fail "the reader's error should say why"; }
engine_start
c stdout /$X/long >"$T_TMP/long2" || fail "a reader after the engine came back failed"
cat "$T_TMP/long1" "$T_TMP/long2" >"$T_TMP/long"
expect_lines "$T_TMP/long" 300
ok "a long outage fails the reader in one line; the next reader goes on where it stopped"
