#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hostile input (issue 14): deep JSON, inflated credit, unread replies,
# descriptor exhaustion, idle and per-source connection caps, the op log's
# descriptor and mode, state limits. Each attack must cost the server
# nothing beyond the one connection that carries it: the server keeps
# serving a bystander (one round trip under a second), its RSS stays under a
# bound stated as a multiple of its caps, and it never exits.
source "$CIRCUIT_TESTLIB"
# Under ASan (the suite's second build) freed memory sits in a quarantine
# and the RSS bounds below would measure it: keep it small there (no effect
# on a normal build).
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=0:allocator_release_to_os_interval_ms=50"
H="python3 $CIRCUIT_SOURCE_DIR/tests/integration/hostile.py"
# The per-connection output cap circuitd is started with (KiB); RSS bounds
# below are multiples of it.
CAP_KIB=4096

start_server --plugins=proc,chan --log "$T_TMP/op.log" --max-conn-output $((CAP_KIB * 1024))
X=$SERVER_ID PID=$SERVER_PID
PORT=${SERVER_URL#circuit://127.0.0.1:}
PORT=${PORT%%/*}
echo '{"Path":"/bin/cat"}' | c mkproc /$X/witness

# 1. Deep JSON nesting anywhere the server reads JSON.
$H deep-json "$PORT" "$X" "$PID"
python3 -c 'import sys; sys.stdout.write("[" * 75000)' >"$T_TMP/deep.json"
mk_from() { c mkproc "$1" <"$2"; }
expect_fail 2 "nested deeper than" mk_from /$X/deep "$T_TMP/deep.json"
kill -0 "$PID" || fail "deep JSON killed the server"
ok "deep JSON is refused with one line; the server lives"

# 2a. Credit beyond what was sent.
echo '{"Path":"/bin/cat","Args":["/dev/zero"]}' | c mkproc /$X/zero
$H credit "$PORT" "$X" "$PID" "/$X/zero" "$CAP_KIB"
# The next reader still gets the stream (nothing held for it beyond a window).
[ "$(c stdout /$X/zero | head -c 1000000 | wc -c)" = 1000000 ] || fail "the stream broke"
ok "inflated credit closes that connection only"

# 2b. Replies a client never reads: 600 recursive listings of 1,000 anchors.
$H anchors "$PORT" "$X" "$PID" 1000 200
$H unread-replies "$PORT" "$X" "$PID" "$CAP_KIB"
ok "unread replies are bounded by the connection's output cap"

# 2c. The same through a relay: B's job read by a client dialed into A.
start_server --plugins=proc,chan -j "$SERVER_URL" --max-conn-output $((CAP_KIB * 1024))
A_PID=$SERVER_PID A_ID=$SERVER_ID
A_PORT=${SERVER_URL#circuit://127.0.0.1:}
A_PORT=${A_PORT%%/*}
wait_true 10 '[ "$(c ls / | wc -l)" = 2 ]'
$H credit "$A_PORT" "$A_ID" "$A_PID" "/$X/zero" "$CAP_KIB"
kill -0 "$PID" || fail "the owner died"
# The relay link survived: a relayed call still works.
c peek /$X/witness | grep -q '"Phase" : "running"' || fail "the relayed call failed"
ok "inflated credit through a relay closes the client's connection only"

# cu URL ARGS...: the CLI dialed into URL.
cu() { "$CIRCUIT_BIN" -d "$1" "${@:2}"; }
# 6. The op log: close-on-exec (no job inherits it), created 0600.
OWNER_URL=circuit://127.0.0.1:$PORT/$PID/$X
[ "$(stat -c %a "$T_TMP/op.log")" = 600 ] || fail "the op log is mode $(stat -c %a "$T_TMP/op.log")"
echo '{"Path":"/bin/sh","Args":["-c","ls -l /proc/self/fd/"]}' | cu "$OWNER_URL" mkproc /$X/fds
cu "$OWNER_URL" stdout /$X/fds >"$T_TMP/fds"
cu "$OWNER_URL" wait /$X/fds >/dev/null
! grep -q 'op.log' "$T_TMP/fds" || { cat "$T_TMP/fds"; fail "a job inherited the op log"; }
ok "the op log is 0600 and no job inherits it"

# 6. State limits: anchors.
start_server --plugins=proc,chan --max-anchors 10
L=$SERVER_URL LX=$SERVER_ID
for i in $(seq 1 5); do cu "$L" mkchan /$LX/d$i/q 1; done
expect_fail 1 "limit of 10 anchors" cu "$L" mkchan /$LX/d6/q 1
cu "$L" scrub /$LX/d1/q
cu "$L" mkchan /$LX/d6/q 1
ok "a mk beyond --max-anchors fails with one line; scrub gives the room back"

# 3. Idle connections are closed after --idle-timeout; busy ones stay.
start_server --plugins=proc,chan --idle-timeout 1
cu "$SERVER_URL" mkchan /$SERVER_ID/idleq 0
I_PORT=${SERVER_URL#circuit://127.0.0.1:}
I_PORT=${I_PORT%%/*}
$H idle "$I_PORT" "$SERVER_ID" "$SERVER_PID" 1
ok "--idle-timeout closes connections that hold no stream"

# 3. Per-source cap: the connection over it is refused with one clear line.
start_server --plugins=proc,chan --max-conns-per-source 3
S_PORT=${SERVER_URL#circuit://127.0.0.1:}
S_PORT=${S_PORT%%/*}
exec 7<>"/dev/tcp/127.0.0.1/$S_PORT" 8<>"/dev/tcp/127.0.0.1/$S_PORT" 9<>"/dev/tcp/127.0.0.1/$S_PORT"
sleep 0.2
expect_fail 3 "server is busy" cu "$SERVER_URL" ls /
exec 7>&- 8>&- 9>&-
wait_until 5 cu "$SERVER_URL" ls /
ok "--max-conns-per-source refuses one connection too many, with one line"

# 3. Out of descriptors (RLIMIT_NOFILE 64): no spin, no log flood, and a
# new client still gets in.
CIRCUITD_REAL=$CIRCUITD_BIN
CIRCUITD_BIN="$T_TMP/circuitd-64"
printf '#!/bin/sh\nulimit -n 64\nexec "%s" "$@"\n' "$CIRCUITD_REAL" >"$CIRCUITD_BIN"
chmod +x "$CIRCUITD_BIN"
start_server --plugins=proc,chan
CIRCUITD_BIN=$CIRCUITD_REAL
F_PORT=${SERVER_URL#circuit://127.0.0.1:}
F_PORT=${F_PORT%%/*}
$H fd-exhaust "$F_PORT" "$SERVER_ID" "$SERVER_PID" "$SERVER_LOG"
kill -0 "$SERVER_PID" || fail "the server died"
ok "out of descriptors: the idlest connection is shed, no spin"

cu "$OWNER_URL" ls /$X >/dev/null || fail "the first server stopped serving"
echo hello | cu "$OWNER_URL" stdin /$X/witness
[ "$(cu "$OWNER_URL" stdout /$X/witness)" = hello ] || fail "the server lost state"
ok "the servers kept serving throughout"
