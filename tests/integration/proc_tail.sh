#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# circuit tail: the last bytes of a process's stdout or stderr, after a
# reader took them, after the exit, still unread in the pipe; -n, --stderr,
# bad arguments; and a reader still gets everything.
source "$CIRCUIT_TESTLIB"
start_server
X=$SERVER_ID

# After the output was read, and after the exit: tail still answers.
echo '{"Path":"/bin/sh","Args":["-c","seq 1 100000; echo oops >&2; exit 4"]}' | c mkproc /$X/job
seq 1 100000 >"$T_TMP/want"
tail_after_exit /$X/job "$T_TMP/want" oops
[ "$(c tail -n 5 --stderr /$X/job | od -An -c | tr -d ' ')" = 'oops\n' ] ||
	fail "tail -n 5 --stderr should print oops and its newline"
[ "$(c tail --stderr -n 3 /$X/job)" = "ps" ] || fail "flags in either order"
c tail -n 99999999999999999999 /$X/job | cmp - "$T_TMP/tail" || fail "-n over the kept size is all that is kept"
ok "tail after the reader took the output and after the exit; -n, --stderr"

# Output nobody read yet (it waits in the pipe) is shown, and stays for the
# reader: tail takes nothing.
echo '{"Path":"/bin/sh","Args":["-c","echo first; echo second >&2; sleep 1000"]}' | c mkproc /$X/unread
wait_until 10 bash -c "[ \"\$('$CIRCUIT_BIN' -d '$SERVER_URL' tail /$X/unread)\" = first ]"
[ "$(c tail /$X/unread)" = first ] || fail "a second tail should show the same"
[ "$(c tail --stderr /$X/unread)" = second ] || fail "unread stderr should show"
timeout 10 "$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/unread >"$T_TMP/out" &
t_track $!
wait_until 10 grep -q first "$T_TMP/out"
[ "$(cat "$T_TMP/out")" = first ] || fail "the reader should get what tail showed, once"
[ "$(c tail /$X/unread)" = first ] || fail "after the reader: tail shows what passed, once"
ok "tail shows output still in the pipe and leaves it to the reader"

# Read and unread together, and much more than is kept: the reader gets
# every byte, in order, while tails run beside it.
head -c 3000000 /dev/urandom >"$T_TMP/big"
echo "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/big\"]}" | c mkproc /$X/big
sleep 0.3
c tail /$X/big >"$T_TMP/t1"
[ "$(stat -c %s "$T_TMP/t1")" = 65536 ] || fail "tail of a blocked writer should show its full pipe"
# The newest 64 KiB the pipe holds: a piece of the file, ending where the
# pipe (its size, a multiple of the page size) ends.
python3 - "$T_TMP/big" "$T_TMP/t1" <<'PY' || fail "tail of a writer nobody read is not the end of its pipe"
import sys
big, t = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
at = big.find(t)
sys.exit(0 if at > 0 and (at + len(t)) % 4096 == 0 else 1)
PY
( for _ in $(seq 1 20); do "$CIRCUIT_BIN" -d "$SERVER_URL" tail /$X/big >/dev/null; done ) &
t_track $!
c stdout /$X/big | cmp - "$T_TMP/big" || fail "the reader lost bytes to tail"
c wait /$X/big >/dev/null
c tail /$X/big | cmp - <(tail -c 65536 "$T_TMP/big") || fail "tail after the whole output"
ok "a reader gets everything while tails run; tail ends with the last bytes"

# A process that printed nothing: tail prints nothing and succeeds.
echo '{"Path":"/bin/true"}' | c mkproc /$X/quiet
c wait /$X/quiet >/dev/null
[ -z "$(c tail /$X/quiet)" ] || fail "tail of silence should be empty"
ok "tail of a silent process is empty"

# Bad arguments: the CLI exits 2 with one line.
expect_fail 2 "-n 0: expected a positive number of bytes" c tail -n 0 /$X/job
expect_fail 2 "-n abc: expected a positive number of bytes" c tail -n abc /$X/job
expect_fail 2 "-n -5: expected a positive number of bytes" c tail -n -5 /$X/job
expect_fail 2 "-n needs a value" c tail /$X/job -n
expect_fail 2 "unknown flag --stdin" c tail --stdin /$X/job
expect_fail 2 "unexpected argument extra" c tail /$X/job extra
expect_fail 2 "usage: circuit tail [-n BYTES] [--stderr] PATH" c tail -x /$X/job
ok "bad arguments are usage errors, one line"

c help tail >"$T_TMP/help" 2>&1 || true
grep -q -- "-n BYTES" "$T_TMP/help" || { cat "$T_TMP/help"; fail "help tail should show its usage"; }
server_alive
