#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGKILL of circuitd leaves no orphans: circuit-guard kills the groups.
# Also after the guard itself was killed: circuitd starts another and tells
# it every group, those made before the first one died included.
source "$CIRCUIT_TESTLIB"
start_server
X=$SERVER_ID
pids=()
for i in 1 2 3; do
	echo '{"Path":"/bin/sh","Args":["-c","sleep 1000 & sleep 1000"]}' | c mkproc /$X/p$i
	pids+=("$(c peek /$X/p$i | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p')")
done
# Children of the shells (the background sleeps) too.
for p in "${pids[@]}"; do kill -0 "$p" || fail "process $p not running"; done
kill -KILL "$SERVER_PID"
for p in "${pids[@]}"; do
	wait_until 5 bash -c "! kill -0 -$p 2>/dev/null"
done
ok "no process of a SIGKILLed circuitd survives"

# guards_of PID: the circuit-guard children of PID.
guards_of() { pgrep -P "$1" -x circuit-guard || true; }
start_server
X=$SERVER_ID
echo '{"Path":"/bin/sh","Args":["-c","sleep 1000 & sleep 1000"]}' | c mkproc /$X/before
before=$(c peek /$X/before | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p')
[[ $before =~ ^[0-9]+$ ]] || fail "no PID for /$X/before"
guard=$(guards_of "$SERVER_PID")
[[ $guard =~ ^[0-9]+$ ]] || fail "circuitd has no single circuit-guard: '$guard'"
kill -KILL "$guard"
wait_true 10 '[ -n "$(guards_of "$SERVER_PID")" ] && [ "$(guards_of "$SERVER_PID")" != "$guard" ]'
guard2=$(guards_of "$SERVER_PID")
grep -q "circuit-guard (pid $guard) was killed by signal 9; starting another" "$SERVER_LOG" ||
	fail "circuitd did not say its guard died"
echo '{"Path":"/bin/sh","Args":["-c","sleep 1000 & sleep 1000"]}' | c mkproc /$X/after
after=$(c peek /$X/after | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p')
[[ $after =~ ^[0-9]+$ ]] || fail "no PID for /$X/after"
kill -KILL "$SERVER_PID"
for p in "$before" "$after"; do
	wait_until 5 bash -c "! kill -0 -$p 2>/dev/null"
done
ok "a guard killed before circuitd is replaced, and the new one kills every group"
