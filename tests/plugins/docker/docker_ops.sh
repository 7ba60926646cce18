#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every operation of a docker element against a real engine: stdout and
# stderr kept apart, stdin to EOF, wait's exit codes, peek's inspect JSON,
# signals, a busy reader, env, Dir, Entry, and output under back-pressure.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
start_docker_server
X=$SERVER_ID

# stdout and stderr apart, through the multiplexed attach stream.
spec sh -c 'echo to-out; echo to-err >&2; exit 0' | mkd /$X/split
[ "$(c stdout /$X/split)" = to-out ] || fail "stdout should hold only stdout"
[ "$(c stderr /$X/split)" = to-err ] || fail "stderr should hold only stderr"
c wait /$X/split >"$T_TMP/w" || fail "wait on exit 0 should exit 0"
grep -q '"ExitCode" : 0' "$T_TMP/w" || fail "wait should report ExitCode 0"
ok "stdout and stderr demultiplexed; wait exits 0"

# Exit codes: non-zero -> the CLI's failed-outcome code 5.
spec sh -c 'exit 3' | mkd /$X/three
rc=0; c wait /$X/three >"$T_TMP/w" || rc=$?
[ $rc = 5 ] || fail "wait on exit 3 should exit 5, got $rc"
grep -q '"Exit" : "exit status 3"' "$T_TMP/w" || fail "wait should say exit status 3"
c wait /$X/three >/dev/null && fail "a second wait should report the exit again"
# Once it has exited, its stdin takes no writer (nothing would read it).
expect_fail 4 "closed already" c stdin /$X/three
ok "wait: exit status 3 gives exit code 5, every time; stdin closed after the exit"

# stdin to EOF: cat copies it and ends.
spec cat | mkd /$X/cat
seq 1 20000 >"$T_TMP/in"
c stdin /$X/cat <"$T_TMP/in" || fail "stdin failed"
c stdout /$X/cat | cmp - "$T_TMP/in" || fail "cat's output differs from its input"
c wait /$X/cat >/dev/null || fail "cat should exit 0 after EOF"
expect_fail 4 "closed already" c stdin /$X/cat
ok "stdin delivered whole; EOF ends it; a closed stdin refuses writers"

# peek is the engine's inspect JSON.
spec sleep 100 | mkd /$X/sleeper
wait_until 60 bash -c "'$CIRCUIT_BIN' -d '$SERVER_URL' peek /$X/sleeper | grep -q '\"Running\" : true'"
c peek /$X/sleeper >"$T_TMP/peek"
grep -q '"io.circuit.anchor" : "/'"$X"'/sleeper"' "$T_TMP/peek" || fail "peek should show the anchor label"
grep -A7 '"Engine" : {' "$T_TMP/peek" | grep -qE '"ApiVersion" : "1\.[0-9]+"' ||
	fail "peek should say which engine and API version answer"
grep -A7 '"Engine" : {' "$T_TMP/peek" | grep -qE '"MinAPIVersion" : "1\.[0-9]+"' ||
	fail "peek should show the engine's own range"
grep -q '"io.circuit.server" : "'"$X"'"' "$T_TMP/peek" || fail "peek should show the server label"
grep -q '"Name" : "/\?circuit-'"$X"'.sleeper-' "$T_TMP/peek" || fail "the name should derive from the anchor"
grep -q '"OpenStdin" : true' "$T_TMP/peek" || fail "stdin should be open"
ok "peek shows inspect, name from the anchor, labels, open stdin"

# Signals through the kill endpoint.
c signal KILL /$X/sleeper
rc=0; c wait /$X/sleeper >"$T_TMP/w" || rc=$?
[ $rc = 5 ] || fail "a killed container's wait should exit 5, got $rc"
grep -q '"ExitCode" : 137' "$T_TMP/w" || fail "SIGKILL should give 137"
spec sh -c 'trap "exit 42" USR1; echo ready; while :; do sleep 0.1; done' | mkd /$X/trap
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/trap >"$T_TMP/trapout" &
t_track $!
wait_until 60 grep -q ready "$T_TMP/trapout"
c signal usr1 /$X/trap
rc=0; c wait /$X/trap >"$T_TMP/w" || rc=$?
[ $rc = 5 ] && grep -q '"ExitCode" : 42' "$T_TMP/w" || fail "USR1 should make it exit 42"
expect_fail 2 'unknown signal "BOGUS"' c signal BOGUS /$X/trap
expect_fail 1 "has exited already" c signal TERM /$X/trap
ok "signals: KILL, a trapped USR1; bad and late signals refused"

# One reader at a time.
spec sleep 100 | mkd /$X/busy
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/busy >/dev/null &
first=$!
t_track $first
sleep 1
expect_fail 1 "being read by another client" c stdout /$X/busy
kill $first
c scrub /$X/busy
ok "a second reader gets busy"

# Env, Dir and Entry reach the engine.
python3 -c 'import json,sys
print(json.dumps({"Image": sys.argv[1], "Env": ["GREETING=hi there", "PATH=/bin"],
  "Dir": "/tmp", "Entry": "/bin/sh", "Args": ["-c", "echo \"$GREETING\"; pwd"]}))' "$IMAGE" |
	mkd /$X/env
[ "$(c stdout /$X/env | tr '\n' '|')" = "hi there|/tmp|" ] || fail "Env, Dir or Entry not applied"
c wait /$X/env >/dev/null
ok "Env, Dir and Entry"

# Output under back-pressure: 4 MiB read late, byte for byte.
spec sh -c 'dd if=/dev/zero bs=65536 count=64 2>/dev/null | tr "\0" x; echo end >&2' | mkd /$X/big
sleep 2
c stdout /$X/big >"$T_TMP/big"
[ "$(stat -c %s "$T_TMP/big")" = 4194304 ] || fail "4 MiB of stdout expected, got $(stat -c %s "$T_TMP/big")"
[ "$(tr -d x <"$T_TMP/big" | wc -c)" = 0 ] || fail "stdout corrupted"
[ "$(c stderr /$X/big)" = end ] || fail "stderr lost behind a large stdout"
c wait /$X/big >/dev/null
ok "4 MiB of stdout read late, whole, stderr intact"

# A reader that leaves mid-stream: the next one gets the rest. As for proc
# (integration/proc_streams): nothing is lost; bytes the killed reader
# wrote but had not yet acknowledged (its credit goes with its next read,
# at most one 256 KiB read) come again.
spec sh -c 'seq 1 300000' | mkd /$X/seq
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/seq >"$T_TMP/part1" &
r1=$!
t_track $r1
wait_until 60 bash -c "[ \$(stat -c %s $T_TMP/part1) -gt 1000 ]"
kill -KILL $r1
wait $r1 2>/dev/null || true
c stdout /$X/seq >"$T_TMP/part2"
seq 1 300000 >"$T_TMP/seq"
n1=$(stat -c %s "$T_TMP/part1")
n2=$(stat -c %s "$T_TMP/part2")
total=$(stat -c %s "$T_TMP/seq")
cmp -n "$n1" "$T_TMP/part1" "$T_TMP/seq" || fail "the first part is not a prefix"
start=$((total - n2))
[ "$start" -le "$n1" ] || fail "bytes lost between readers: the next starts at $start, the first got $n1"
[ $((n1 - start)) -le 262144 ] || fail "$((n1 - start)) bytes came twice: more than one unacknowledged read"
cmp "$T_TMP/part2" <(tail -c "$n2" "$T_TMP/seq") || fail "the second part is not the rest"
ok "a reader that leaves gives back what it did not get"
server_alive
