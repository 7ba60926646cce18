#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The cluster under load and chaos, bounded for ctest (issue 15): 60 clients
# for 20 s against 3 servers, a relay SIGKILLed and an owner SIGSTOPped for
# 3 s meanwhile; nothing a sender was told was sent is lost, nothing is
# received twice, no client stays blocked (load_chaos.py). The full run
# (200 clients, 60 s, a 12 s stop) is tests/bench/load_chaos.sh.
source "$CIRCUIT_TESTLIB"
CLIENTS=${LOAD_CLIENTS:-60} SECONDS_RUN=${LOAD_SECONDS:-20} STOP=${LOAD_STOP:-3}
start_server --plugins=proc,chan
U1=$SERVER_URL P1=$SERVER_PID
start_server --plugins=proc,chan -j "$U1"
U2=$SERVER_URL P2=$SERVER_PID
start_server --plugins=proc,chan -j "$U1"
U3=$SERVER_URL P3=$SERVER_PID
wait_true 20 '[ "$(c ls / | grep -c "^/X")" = 3 ]'
for u in "$U1" "$U2" "$U3"; do
	id=${u##*/}
	"$CIRCUIT_BIN" -d "$u" mkchan /$id/load0 0
	"$CIRCUIT_BIN" -d "$u" mkchan /$id/load10 10
done
# Server 3 is killed (a relay for most of its clients), server 2 stopped.
python3 "$CIRCUIT_SOURCE_DIR/tests/integration/load_chaos.py" "$CLIENTS" "$SECONDS_RUN" "$STOP" \
	"$U1" "$U2" "$U3" "$P3" "$P2"
kill -0 "$P1" && kill -0 "$P2" || fail "a server that was not killed died"
"$CIRCUIT_BIN" -d "$U1" ls / >/dev/null || fail "the cluster stopped serving"
ok "load with a relay killed and an owner stopped: nothing lost, nothing doubled, no client hung"
