#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scrub stops (TERM, then KILL after the grace period) and removes the
# container; "Scrub": true removes element and container once it exits;
# SIGTERM to circuitd removes every container it made.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
start_docker_server
X=$SERVER_ID

# A container that exits on TERM.
spec sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' | mkd /$X/polite
wait_until 60 bash -c "'$CIRCUIT_BIN' -d '$SERVER_URL' peek /$X/polite | grep -q '\"Running\" : true'"
c scrub /$X/polite
[ -z "$(c ls /$X/... | grep polite)" ] || fail "the anchor should be gone at once"
wait_until 60 engine_lacks "$X.polite"
ok "scrub stops and removes a running container"

# One that ignores TERM is killed after the grace period (1 s here).
spec sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done' | mkd /$X/stubborn
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/stubborn >"$T_TMP/out" &
t_track $!
wait_until 60 grep -q ready "$T_TMP/out"
c scrub /$X/stubborn
wait_until 60 engine_lacks "$X.stubborn"
grep -q '"event":"exit","path":"/'"$X"'/stubborn","kind":"docker","value":137' "$SERVER_LOG" ||
	fail "a TERM-ignoring container should end by SIGKILL (137)"
ok "scrub kills after the grace period"

# Scrub while the container is still being made: nothing is left.
spec sleep 100 | mkd /$X/early
c scrub /$X/early
wait_until 60 bash -c "grep -q '\"event\":\"removed\",\"path\":\"/$X/early\"' '$SERVER_LOG'"
engine_lacks "$X.early" || fail "a container scrubbed while being made was left"
ok "scrub during creation leaves no container"

# "Scrub": true: the element and the container go when it exits.
echo "{\"Image\":\"$IMAGE\",\"Path\":\"sh\",\"Args\":[\"-c\",\"exit 0\"],\"Scrub\":true}" | mkd /$X/once
wait_until 60 bash -c "! '$CIRCUIT_BIN' -d '$SERVER_URL' ls /$X/... | grep -q once"
wait_until 60 engine_lacks "$X.once"
ok "Scrub: true removes element and container on exit"

# A waiter sees the end of a scrubbed container.
spec sleep 100 | mkd /$X/waited
wait_until 60 bash -c "'$CIRCUIT_BIN' -d '$SERVER_URL' peek /$X/waited | grep -q '\"Running\" : true'"
"$CIRCUIT_BIN" -d "$SERVER_URL" wait /$X/waited >"$T_TMP/waited" 2>&1 &
waiter=$!
t_track $waiter
sleep 0.5
c scrub /$X/waited
rc=0; wait $waiter || rc=$?
[ $rc = 5 ] || { cat "$T_TMP/waited"; fail "a waiter should see the killed container (exit 5), got $rc"; }
ok "a waiter learns how a scrubbed container ended"

# SIGTERM to circuitd removes its containers.
spec sleep 100 | mkd /$X/last1
spec sleep 100 | mkd /$X/last2
wait_until 60 bash -c "'$CIRCUIT_BIN' -d '$SERVER_URL' peek /$X/last2 | grep -q '\"Running\" : true'"
kill -TERM "$SERVER_PID"
wait_until 30 bash -c "! kill -0 $SERVER_PID 2>/dev/null"
wait "$SERVER_PID" || fail "circuitd should exit 0 on SIGTERM"
engine_lacks "$X.last" || fail "circuitd left containers behind at shutdown"
ok "SIGTERM to circuitd removes its containers"
