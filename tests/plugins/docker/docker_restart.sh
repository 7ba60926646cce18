#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Restart of circuitd: containers of a circuitd that died (SIGKILL, so it
# could not clean up) are found by their labels and stopped and removed by
# the next circuitd on the host; containers of a live circuitd on the same
# engine are left alone.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"

start_docker_server
A_URL=$SERVER_URL A_PID=$SERVER_PID A=$SERVER_ID
spec sleep 1000 | mkd /$A/job
wait_until 60 bash -c "'$CIRCUIT_BIN' -d '$A_URL' peek /$A/job | grep -q '\"Running\" : true'"

start_docker_server
B_URL=$SERVER_URL B=$SERVER_ID
spec sleep 1000 | mkd /$B/keep
wait_until 60 bash -c "'$CIRCUIT_BIN' -d '$B_URL' peek /$B/keep | grep -q '\"Running\" : true'"

kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null || true
engine_has "circuit-$A.job-.* running" || fail "the dead server's container should still run"
ok "a killed circuitd leaves its container running"

start_docker_server
C_LOG=$SERVER_LOG
wait_until 60 engine_lacks "circuit-$A.job"
grep -q "was made by a circuitd that is gone: stopping and removing it" "$C_LOG" ||
	fail "the sweep should say what it removes"
grep -q "/$A/job" "$C_LOG" || fail "the sweep should name the old anchor"
engine_has "circuit-$B.keep-.* running" || fail "a live server's container was touched"
grep -q "belongs to a running circuitd" "$C_LOG" || fail "the live server's container should be reported"
ok "the next circuitd removes the dead one's containers and leaves a live one's"

CIRCUIT_TEST_URL=$B_URL c wait /$B/keep >/dev/null 2>&1 &
t_track $!
CIRCUIT_TEST_URL=$B_URL c signal KILL /$B/keep
ok "the live server still drives its container"
