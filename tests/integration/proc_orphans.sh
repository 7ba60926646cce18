#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGKILL of circuitd leaves no orphans: circuit-guard kills the groups.
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
