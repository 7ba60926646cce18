#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# circuit tail on a container: the last bytes of its stdout or stderr that
# the server read from the engine, after a reader took them, after the
# exit, and with nobody reading yet; -n, --stderr, bad arguments; a reader
# still gets everything.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
start_docker_server
X=$SERVER_ID

spec sh -c 'seq 1 30000; echo bad >&2; exit 3' | mkd /$X/job
seq 1 30000 >"$T_TMP/want"
tail_after_exit /$X/job "$T_TMP/want" bad
ok "tail of a container after the reader and the exit; -n, --stderr"

# Nobody reads yet: what the server read ahead from the engine shows, and
# the reader still gets it.
spec sh -c 'echo early; sleep 1000' | mkd /$X/idle
wait_until 60 bash -c "[ \"\$('$CIRCUIT_BIN' -d '$SERVER_URL' tail /$X/idle)\" = early ]"
timeout 20 "$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/idle >"$T_TMP/out" &
t_track $!
wait_until 20 grep -q early "$T_TMP/out"
[ "$(cat "$T_TMP/out")" = early ] || fail "the reader should get what tail showed, once"
ok "tail of a container nobody reads takes nothing from the reader"

expect_fail 2 "-n 0: expected a positive number of bytes" c tail -n 0 /$X/job
expect_fail 2 "unknown flag --stdin" c tail --stdin /$X/job
ok "bad arguments are usage errors"
server_alive
