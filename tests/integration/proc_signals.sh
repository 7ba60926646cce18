#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# signal names, wait's exit codes, scrub of running processes.
source "$CIRCUIT_TESTLIB"
start_server --grace 1
X=$SERVER_ID

# Exit codes through wait: 0 ok, non-zero -> the CLI exits 5 (distinct).
echo '{"Path":"/bin/sh","Args":["-c","exit 3"]}' | c mkproc /$X/three
rc=0; c wait /$X/three >"$T_TMP/w" || rc=$?
[ $rc = 5 ] || fail "wait on exit 3 should exit 5, got $rc"
grep -q '"ExitCode" : 3' "$T_TMP/w" || fail "stat should carry ExitCode 3"
grep -q '"Exit" : "exit status 3"' "$T_TMP/w" || fail "stat should carry the original's Exit text"
ok "wait exit codes"

# Every spelling of a signal name works; the stat names the signal.
i=0
for sig in TERM term SIGTERM sigterm 15 Int HUP usr1 KILL; do
	i=$((i + 1))
	echo '{"Path":"/bin/sleep","Args":["100"]}' | c mkproc /$X/s$i
	c signal "$sig" /$X/s$i
	rc=0; c wait /$X/s$i >"$T_TMP/w" || rc=$?
	[ $rc = 5 ] || fail "wait after signal $sig should exit 5, got $rc"
	grep -q '"Phase" : "signaled"' "$T_TMP/w" || fail "signal $sig: phase not signaled"
done
grep -q '"Signal" : "SIGKILL"' "$T_TMP/w" || fail "stat should name SIGKILL"
ok "signal names, case-insensitive, with or without SIG, numbers"

# STOP and CONT: the process lives on.
echo '{"Path":"/bin/sleep","Args":["100"]}' | c mkproc /$X/stopcont
c signal STOP /$X/stopcont
c signal CONT /$X/stopcont
wait_until 10 bash -c "'$CIRCUIT_BIN' -d '$SERVER_URL' peek /$X/stopcont | grep -q '\"Phase\" : \"continued\"'"
ok "STOP and CONT"

expect_fail 2 'unknown signal "BOGUS"' c signal BOGUS /$X/stopcont
expect_fail 2 'unknown signal "0"' c signal 0 /$X/stopcont
expect_fail 1 'has exited' c signal TERM /$X/three
ok "bad signals are refused with one line"

# scrub of a running process: SIGTERM to the group, then SIGKILL after grace.
echo '{"Path":"/bin/sh","Args":["-c","sleep 1000 & sleep 1000"]}' | c mkproc /$X/group
pid=$(c peek /$X/group | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p')
[ -n "$pid" ] || fail "no pid in peek"
kill -0 "$pid" || fail "process not running"
c scrub /$X/group
[ -z "$(c ls /$X | grep group)" ] || fail "anchor should be gone at once"
wait_until 5 bash -c "! kill -0 -$pid 2>/dev/null"
ok "scrub terminates the whole process group"

echo "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"trap '' TERM; touch $T_TMP/ready; while :; do sleep 0.1; done\"]}" |
	c mkproc /$X/stubborn
pid=$(c peek /$X/stubborn | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p')
wait_until 10 test -e "$T_TMP/ready"
c scrub /$X/stubborn
sleep 0.3
kill -0 "$pid" 2>/dev/null || fail "a TERM-ignoring process should survive until the grace period ends"
wait_until 5 bash -c "! kill -0 -$pid 2>/dev/null"
ok "SIGKILL after the grace period"

# SIGTERM to circuitd stops it cleanly and terminates its processes.
echo '{"Path":"/bin/sleep","Args":["1000"]}' | c mkproc /$X/last
pid=$(c peek /$X/last | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p')
kill -TERM "$SERVER_PID"
wait_until 10 bash -c "! kill -0 $SERVER_PID 2>/dev/null"
wait "$SERVER_PID" || fail "circuitd should exit 0 on SIGTERM"
! kill -0 "$pid" 2>/dev/null || fail "circuitd left a process running at shutdown"
ok "SIGTERM stops circuitd and its processes"
