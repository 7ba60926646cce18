#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Usage mistakes are named and exit 2 (issue 19): an unknown word near a
# built-in command is a typo ("did you mean"), not a plugin verb, whether it
# names no path, the root, or an element that has no such operation; an
# unknown flag is named; every command answers -h/--help with its own help
# (before any server is dialed); -dial/--dial is the long form of -d.
# Before: `lsx /` said '"/" is the root' (exit 1), `foo` and `-v` said
# "no PATH given", `ls -h` said the path is not absolute (exit 1), and
# `mkproc --help PATH` was sent to the server.
source "$CIRCUIT_TESTLIB"
start_server --plugins=proc,chan
X=$SERVER_ID
cx() { "$CIRCUIT_BIN" -d "$SERVER_URL" "$@"; }
expect_fail 2 "unknown command lsx; did you mean ls?" cx lsx /
expect_fail 2 "unknown command peeek; did you mean peek?" cx peeek
c mkchan /$X/q 1
expect_fail 2 "unknown command peeek; did you mean peek? (/$X/q is a chan element, which has no operation \"peeek\"" cx peeek /$X/q
expect_fail 2 "unknown command lsx; did you mean ls?" cx help lsx
expect_fail 2 "unknown flag -v" "$CIRCUIT_BIN" -v
ok "typos of built-in commands and unknown flags: named, exit 2"

# Plugin verbs still go to the element (none of them is a typo of a built-in).
echo hi | cx send /$X/q
[ "$(cx recv /$X/q)" = hi ] || fail "send/recv stopped working"
expect_fail 1 "has no operation \"frobnicate\" (it has send, recv, close, peek, scrub)" cx frobnicate /$X/q
ok "plugin verbs and far-off words still reach the element"

for cmd in ls peek scrub mkproc stdin stdout stderr wait signal keygen version; do
	out=$("$CIRCUIT_BIN" -d 127.0.0.1:1 "$cmd" -h) || fail "circuit $cmd -h exited $?"
	grep -q "^usage: circuit $cmd" <<<"$out" || fail "circuit $cmd -h printed: $out"
	out=$("$CIRCUIT_BIN" -d 127.0.0.1:1 "$cmd" /$X/x --help) || fail "circuit $cmd PATH --help exited $?"
	grep -q "^usage: circuit $cmd" <<<"$out" || fail "circuit $cmd PATH --help printed: $out"
done
ok "every built-in command answers -h and --help with its own usage, without dialing"

"$CIRCUIT_BIN" --dial "$SERVER_URL" ls / | grep -qx "/$X" || fail "--dial is not the long form of -d"
"$CIRCUIT_BIN" -dial="$SERVER_URL" ls / | grep -qx "/$X" || fail "-dial= is not the long form of -d"
ok "-dial and --dial are -d"

# Nothing silently ignored: extra words and flags of built-ins are named.
expect_fail 2 "unexpected argument extra" cx peek /$X/q extra
expect_fail 2 "unknown flag --json" cx peek --json /$X/q
expect_fail 2 "unknown flag -f" cx stdout -f /$X/q
expect_fail 2 "unexpected argument KILL" cx signal TERM /$X/q KILL
ok "extra arguments and flags of built-in commands: named, exit 2"

# Output that cannot be written is a failure, not a success.
rc=0; cx peek /$X/q >/dev/full 2>"$T_TMP/full.err" || rc=$?
[ "$rc" = 1 ] || fail "peek > /dev/full exited $rc"
grep -q "writing standard output" "$T_TMP/full.err" || fail "peek > /dev/full said: $(cat "$T_TMP/full.err")"
rc=0; cx ls / >/dev/full 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "ls > /dev/full exited $rc"
# A reader that leaves early (| true, | grep -q) is no failure: circuit ends
# quietly, as a tool ended by SIGPIPE would.
rc=0; cx peek /$X/q 2>"$T_TMP/pipe.err" | true || rc=$?
[ "$rc" = 0 ] && [ ! -s "$T_TMP/pipe.err" ] || fail "peek | true exited $rc: $(cat "$T_TMP/pipe.err")"
ok "peek and ls exit 1 when standard output cannot be written, 0 when their reader left"

# keygen FILE: a new file of mode 0600, never overwritten.
"$CIRCUIT_BIN" keygen "$T_TMP/new.key"
[ "$(stat -c %a "$T_TMP/new.key")" = 600 ] || fail "keygen FILE wrote mode $(stat -c %a "$T_TMP/new.key")"
[ "$(base64 -d "$T_TMP/new.key" | wc -c)" = 32 ] || fail "keygen FILE did not write a 256-bit key"
expect_fail 2 "File exists" "$CIRCUIT_BIN" keygen "$T_TMP/new.key"
ok "keygen FILE writes a new key file of mode 0600"

# ls / in one order whichever server is dialed.
start_server --plugins=proc -j "$SERVER_URL"
start_server --plugins=proc -j "$SERVER_URL"
wait_true 10 '[ "$(cx ls / | wc -l)" = 3 ] && [ "$(c ls / | wc -l)" = 3 ]'
[ "$(cx ls /)" = "$(cx ls / | sort)" ] || fail "ls / is not sorted"
[ "$(cx ls /)" = "$(c ls /)" ] || fail "ls / differs between servers"
ok "ls / is sorted, the same from every server"

# The original's commands: waitall (and -first), ls --long, --json, --depth.
for n in 0 3 0; do
	i=$((${i:-0} + 1))
	echo "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"sleep 0.$i; exit $n\"]}" | cx mkproc /$X/w/p$i
done
rc=0
printf '/%s/w/p1\n/%s/w/p2\n/%s/w/p3\n' "$X" "$X" "$X" | cx waitall >"$T_TMP/wa.out" 2>"$T_TMP/wa.err" || rc=$?
[ "$rc" = 5 ] || fail "waitall with one failed process exited $rc"
[ "$(wc -l <"$T_TMP/wa.out")" = 3 ] || fail "waitall printed: $(cat "$T_TMP/wa.out")"
grep -q "failed: /$X/w/p2\$" "$T_TMP/wa.err" || fail "waitall did not name the failed one: $(cat "$T_TMP/wa.err")"
[ "$(head -n 1 "$T_TMP/wa.out" | cut -d' ' -f1)" = "/$X/w/p1" ] || fail "waitall did not print the first to end first"
echo '{"Path":"/bin/sleep","Args":["30"]}' | cx mkproc /$X/w/slow
echo '{"Path":"/bin/true"}' | cx mkproc /$X/w/quick
start=$(date +%s)
printf '/%s/w/slow\n/%s/w/quick\n' "$X" "$X" | cx waitall -first >"$T_TMP/wf.out"
[ $(($(date +%s) - start)) -lt 20 ] || fail "waitall -first waited for the slow one"
grep -q "^/$X/w/quick " "$T_TMP/wf.out" || fail "waitall -first printed: $(cat "$T_TMP/wf.out")"
cx scrub /$X/w/slow
ok "waitall names the failed processes (exit 5); -first returns with the first to end"

cx ls --long /$X/w | grep -qE "^proc +/$X/w/p1 +Phase=exited Pid=[0-9]+ ExitCode=0\$" || fail "ls --long"
cx ls -long /$X/w | grep -qE "^proc +/$X/w/p1 +Phase=exited" || fail "ls -long"
cx ls --json /$X/w | python3 -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin]
assert rows and all(r["kind"]=="proc" and r["path"].startswith("/") for r in rows), rows' ||
	fail "ls --json is not one JSON object per line"
cx ls "/$X/..." >"$T_TMP/ls.all"
cx ls --depth "/$X/..." | python3 -c 'import sys
got = [l.strip() for l in sys.stdin]
assert sorted(got) == sorted(l.strip() for l in open(sys.argv[1])), "not the same entries"
for i, p in enumerate(got):
    assert not any(q.startswith(p + "/") for q in got[i + 1:]), p + " came before a child"' "$T_TMP/ls.all" ||
	fail "ls --depth does not list every child before its parent"
expect_fail 2 "unknown flag --bogus" cx ls --bogus /
ok "ls --long, --json, --depth"
