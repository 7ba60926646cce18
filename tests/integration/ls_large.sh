#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Listings of any size (issue 15, finding 6; issue 23, target 5): 10,000
# anchors with 200-byte names (a listing of about 2.3 MB, over the 1 MiB
# frame cap) on server B, listed with `ls -l /B/...` dialed into B, the
# same through server A (relayed), and `ls /...` through A across both.
# Each must list every anchor exactly once, in order. No time is asserted:
# the timings are printed as figures.
. "$CIRCUIT_TESTLIB"

N=10000
WIDTH=194 # + 6 digits: names of 200 bytes
MAKE="python3 $CIRCUIT_SOURCE_DIR/tests/bench/ls.py"

PA=$(free_port)
start_server -a "127.0.0.1:$PA" --plugins=chan
A=$SERVER_URL XA=$SERVER_ID
PB=$(free_port)
start_server -a "127.0.0.1:$PB" --plugins=chan -j "127.0.0.1:$PA"
B=$SERVER_URL XB=$SERVER_ID
sees() { "$CIRCUIT_BIN" -d "$1" ls / | grep -qx "/$2"; }
wait_until 20 sees "$A" "$XB"
wait_until 20 sees "$B" "$XA"
ok "A and B see each other"

$MAKE "$PB" "$XB" "$N" "$WIDTH"
$MAKE "$PA" "$XA" 100 "$WIDTH" a-side-
ok "made $N anchors on B and 100 on A"

pad=$(printf '%*s' "$WIDTH" '' | tr ' ' a)
# ls -l: the kind, the path, and each channel's status (the path is wider
# than the column, so one space pair follows it).
for i in $(seq 0 $((N - 1))); do printf 'chan       /%s/%s%06d  Pending=0 Cap=1 Closed=false\n' "$XB" "$pad" "$i"; done >"$T_TMP/want.b"
for i in $(seq 0 99); do printf '/%s/a-side-%s%06d\n' "$XA" "$pad" "$i"; done >"$T_TMP/want.a"

# timed NAME CMD...: runs CMD into $T_TMP/NAME.out, prints its time.
timed() {
	local name=$1; shift
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$T_TMP/$name.out" || fail "$name: '$*' exited $?"
	t1=$(date +%s%N)
	echo "figure: ls $name $(wc -l <"$T_TMP/$name.out") lines, $(wc -c <"$T_TMP/$name.out") bytes in $(((t1 - t0) / 1000000)) ms"
}

timed direct "$CIRCUIT_BIN" -d "$B" ls -l "/$XB/..."
cmp -s "$T_TMP/direct.out" "$T_TMP/want.b" || { diff "$T_TMP/want.b" "$T_TMP/direct.out" | head -5; fail "ls -l /B/... dialed into B is not every anchor once, in order"; }
ok "ls -l /B/... direct: all $N, once each, in order"

timed relayed "$CIRCUIT_BIN" -d "$A" ls -l "/$XB/..."
cmp -s "$T_TMP/relayed.out" "$T_TMP/want.b" || { diff "$T_TMP/want.b" "$T_TMP/relayed.out" | head -5; fail "ls -l /B/... through A is not every anchor once, in order"; }
ok "ls -l /B/... through A (relayed): all $N, once each, in order"

# Non-recursive too, through A: the same entries (they are all children).
timed relayed-children "$CIRCUIT_BIN" -d "$A" ls -l "/$XB"
cmp -s "$T_TMP/relayed-children.out" "$T_TMP/want.b" || fail "ls -l /B through A differs"
ok "ls -l /B through A: all $N"

timed all "$CIRCUIT_BIN" -d "$A" ls /...
{ echo "/$XA"; cat "$T_TMP/want.a"; echo "/$XB"; sed 's/^chan *//; s/  Pending=.*//' "$T_TMP/want.b"; } >"$T_TMP/want.all"
cmp -s "$T_TMP/all.out" "$T_TMP/want.all" || { diff "$T_TMP/want.all" "$T_TMP/all.out" | head -5; fail "ls /... through A is not A's then B's anchors, each once"; }
ok "ls /... through A: A's 100 then B's $N, once each"

timed all-b "$CIRCUIT_BIN" -d "$B" ls /...
[ "$(sort "$T_TMP/all-b.out" | uniq -d | wc -l)" = 0 ] || fail "ls /... through B repeats entries"
[ "$(wc -l <"$T_TMP/all-b.out")" = $((N + 102)) ] || fail "ls /... through B: $(wc -l <"$T_TMP/all-b.out") lines"
ok "ls /... through B: every anchor once"

# Both servers still answer small listings.
"$CIRCUIT_BIN" -d "$A" ls / | grep -qx "/$XB" || fail "ls / through A lacks B"
"$CIRCUIT_BIN" -d "$B" ls "/$XB" >/dev/null || fail "B stopped serving"
ok "servers still serving"
