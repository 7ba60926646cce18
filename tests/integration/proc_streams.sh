#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Output with back-pressure: 100 MiB byte for byte, a slow reader beside a
# fast one, a reader that leaves mid-stream, and a process blocked by a
# full pipe when nobody reads.
source "$CIRCUIT_TESTLIB"
start_server
X=$SERVER_ID

# 100 MiB, byte for byte.
head -c $((100 * 1024 * 1024)) /dev/urandom >"$T_TMP/big"
echo "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/big\"]}" | c mkproc /$X/big
c stdout /$X/big | cmp - "$T_TMP/big" || fail "100 MiB stdout differs"
ok "100 MiB of stdout byte for byte"

# With no reader the process blocks on its full pipe: nothing is dropped.
echo '{"Path":"/bin/sh","Args":["-c","head -c 8000000 /dev/zero; echo done >&2"]}' | c mkproc /$X/blocked
sleep 1
c peek /$X/blocked | grep -q '"Phase" : "running"' || fail "the writer should block without a reader"
[ "$(c stdout /$X/blocked | wc -c)" = 8000000 ] || fail "blocked output incomplete"
c wait /$X/blocked >/dev/null
ok "back-pressure: a process blocks while nobody reads"

# A slow reader does not hold back a fast one (on another element).
echo '{"Path":"/bin/sh","Args":["-c","seq 1 3000000"]}' | c mkproc /$X/slow
echo "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/big\"]}" | c mkproc /$X/fast
mkfifo "$T_TMP/slowfifo"
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/slow >"$T_TMP/slowfifo" &
slow=$!
t_track $slow
(while read -r _; do sleep 0.01; done) <"$T_TMP/slowfifo" &
t_track $!
timeout 60 "$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/fast | cmp - "$T_TMP/big" || fail "fast reader failed"
kill -0 $slow 2>/dev/null || fail "the slow reader should still be reading"
kill $slow 2>/dev/null || true
ok "a slow reader does not stall a fast one"

# One reader at a time.
echo '{"Path":"/bin/sh","Args":["-c","sleep 1000"]}' | c mkproc /$X/busy
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/busy >/dev/null &
first=$!
t_track $first
sleep 0.5
expect_fail 1 "being read by another client" c stdout /$X/busy
kill -0 $first 2>/dev/null || { rc=0; wait $first || rc=$?; fail "the first reader ended early (rc=$rc)"; }
kill $first
ok "a second reader gets busy"

# A reader that leaves mid-stream loses nothing it did not receive: the
# next reader continues where the first one's acknowledged bytes ended.
seq 1 2000000 >"$T_TMP/seq"
echo "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/seq\"]}" | c mkproc /$X/seq
# The first reader writes into a slow consumer, so it is surely mid-stream
# when it is killed; what it wrote before dying reaches part1.
mkfifo "$T_TMP/seqfifo"
"$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/seq >"$T_TMP/seqfifo" &
r1=$!
t_track $r1
(while IFS= read -r l; do printf '%s\n' "$l"; done) <"$T_TMP/seqfifo" >"$T_TMP/part1" &
consumer=$!
t_track $consumer
wait_until 20 bash -c "[ \$(stat -c %s $T_TMP/part1) -gt 100000 ]"
kill -KILL $r1
wait $r1 2>/dev/null || true
wait $consumer
c stdout /$X/seq >"$T_TMP/part2"
n1=$(stat -c %s "$T_TMP/part1")
n2=$(stat -c %s "$T_TMP/part2")
total=$(stat -c %s "$T_TMP/seq")
[ "$n1" -lt "$total" ] || fail "the first reader should have been stopped mid-stream"
cmp -n "$n1" "$T_TMP/part1" "$T_TMP/seq" || fail "first part is not a prefix"
start=$((total - n2))
[ "$start" -le "$n1" ] || fail "bytes lost between readers: next reader starts at $start, first got $n1"
cmp "$T_TMP/part2" <(tail -c "$n2" "$T_TMP/seq") || fail "second part is not the rest"
ok "a reader that dies mid-stream loses nothing (gap 0, overlap $((n1 - start)) bytes)"
server_alive
