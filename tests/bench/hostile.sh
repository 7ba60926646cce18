#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# hostile.sh (issue 14): each attack of tests/integration/hostile.py against
# a fresh circuitd, with the server's peak RSS, its CPU time and the worst
# round trip of a bystander client during the attack; the bystander's round
# trip on the idle server, measured in the same run, is the baseline. The
# "before" column is what the same attacks did to circuitd at b78685c
# (measured once, by hand, with the same script: it cannot run any more,
# since those servers crash, spin or grow by gigabytes). Records the
# "hostile" section of docs/BENCHMARKS.md; never asserts.
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/hostile.sh
source "$(dirname "$0")/bench_lib.sh"
H="python3 $CIRCUIT_SOURCE_DIR/tests/integration/hostile.py"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
CAP_KIB=8192 # the default --max-conn-output

port_of() { local p=${1#circuit://127.0.0.1:}; echo "${p%%/*}"; }
# figure NAME FILE KEY: the value after KEY on the line "figure: NAME ...".
figure() { sed -n "s/^figure: $1 .*$3 \([^ ]*\).*/\1/p" "$2" | head -n1; }

start_server --plugins=proc,chan
X=$SERVER_ID PID=$SERVER_PID PORT=$(port_of "$SERVER_URL")
base=$(python3 -c "
import sys; sys.path.insert(0, '$CIRCUIT_SOURCE_DIR/tests/tools'); import circuit_wire as w
t = sorted(w.round_trip('127.0.0.1', $PORT, '$X') for _ in range(20)); print('%.1f' % (t[10] * 1000))")

out="$T_TMP/figures"
$H deep-json "$PORT" "$X" "$PID" >>"$out"
echo '{"Path":"/bin/cat","Args":["/dev/zero"]}' | c mkproc /$X/zero
$H credit "$PORT" "$X" "$PID" "/$X/zero" "$CAP_KIB" >>"$out"
$H anchors "$PORT" "$X" "$PID" 1000 200
$H unread-replies "$PORT" "$X" "$PID" "$CAP_KIB" >>"$out"
CIRCUITD_REAL=$CIRCUITD_BIN
CIRCUITD_BIN="$T_TMP/circuitd-64"
printf '#!/bin/sh\nulimit -n 64\nexec "%s" "$@"\n' "$CIRCUITD_REAL" >"$CIRCUITD_BIN"
chmod +x "$CIRCUITD_BIN"
start_server --plugins=proc,chan
CIRCUITD_BIN=$CIRCUITD_REAL
$H fd-exhaust "$(port_of "$SERVER_URL")" "$SERVER_ID" "$SERVER_PID" "$SERVER_LOG" >>"$out"
cat "$out"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
md="$T_TMP/hostile.md"
{
	echo "Each attack against a fresh circuitd (release build) on 127.0.0.1, one at a time;"
	echo "the bystander dials and lists the server anchor every 50 ms meanwhile."
	echo "Bystander round trip on the idle server, same run (baseline): **$base ms** (median of 20)."
	echo "Load average when the benchmark started: $load_start (the machine may be shared)."
	echo
	echo "| attack | before (b78685c) | now: peak RSS | now: server CPU | now: bystander worst |"
	echo "|---|---|---:|---:|---:|"
	echo "| 75,000 nested \`[\` in an OPEN, a RESET and a HELLO | SIGSEGV: the server and every job it ran died | $(mib "$(figure deep-json "$out" peak)") | - | $(figure deep-json "$out" bystander_worst_ms) ms |"
	echo "| 4 CREDIT of 0xFFFFFFFF on \`cat /dev/zero\`'s stdout, never read | 5.8 MiB -> 1,486 MiB in 4 s, 4.0 s CPU; 4.7 GiB and no answer to a new HELLO after the client left | $(mib "$(figure credit "$out" peak)") | $(figure credit "$out" cpu_s) s | $(figure credit "$out" bystander_worst_ms) ms |"
	echo "| 600 \`ls -r\` of 1,000 anchors (250 KB replies), never read | 6.9 MiB -> 149 MiB, 1.0 s CPU, bystander 460 ms (2.0 s with 2,000 anchors) | $(mib "$(figure unread-replies "$out" peak)") | $(figure unread-replies "$out" cpu_s) s | $(figure unread-replies "$out" bystander_worst_ms) ms |"
	echo "| 120 connections with RLIMIT_NOFILE 64, held | 2.00 s CPU in 2 s (spinning), 1,771,916 log lines in 2 s, a new client timed out | - | $(figure fd-exhaust "$out" cpu_s_in_2s) s in 2 s, $(figure fd-exhaust "$out" log_lines_in_2s) log lines | new client $(figure fd-exhaust "$out" new_client_rtt_ms) ms |"
	echo
	echo "Peak RSS is over the whole attack, from /proc/PID/status; the tests (integration/hostile_input)"
	echo "bound it at the starting RSS plus 4 x --max-conn-output."
} >"$md"
bash "$here/record.sh" hostile "$md"
