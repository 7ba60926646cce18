#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The original README's "Make a process" example, verbatim, then the rest of
# what a newcomer does with a process.
source "$CIRCUIT_TESTLIB"
start_server
X=$SERVER_ID

[ "$(c ls /...)" = "/$X" ] || fail "ls /... should list the one server"

c mkproc /$X/pippi << EOF2
{
	"Path": "/bin/ls", 
	"Args":["/"]
}
EOF2
c peek /$X/pippi >"$T_TMP/peek"
grep -q '"Path" : "/bin/ls"' "$T_TMP/peek" || fail "peek lacks the Cmd"
grep -q '"Phase"' "$T_TMP/peek" || fail "peek lacks Phase"
cat /dev/null | c stdin /$X/pippi
c stdout /$X/pippi >"$T_TMP/out"
ls / >"$T_TMP/want"
cmp "$T_TMP/out" "$T_TMP/want" || fail "stdout differs from ls /"
c wait /$X/pippi >"$T_TMP/wait"
grep -q '"ExitCode" : 0' "$T_TMP/wait" || fail "wait should report exit code 0"
c scrub /$X/pippi
[ -z "$(c ls /$X)" ] || fail "the anchor should be gone after scrub"
ok "README process example"

# Output streams live, before stdin is closed (the original waited for it).
echo '{"Path":"/bin/sh","Args":["-c","echo early; cat"]}' | c mkproc /$X/live
timeout 2 "$CIRCUIT_BIN" -d "$SERVER_URL" stdout /$X/live >"$T_TMP/early" || true
[ "$(cat "$T_TMP/early")" = early ] || fail "stdout did not stream before stdin closed"
ok "stdout streams while stdin is open"

# stdin reaches the process; closing it ends cat.
echo '{"Path":"/bin/cat"}' | c mkproc /$X/cat
seq 1 1000 | c stdin /$X/cat
c stdout /$X/cat >"$T_TMP/cat"
seq 1 1000 | cmp - "$T_TMP/cat" || fail "cat did not echo its stdin"
c wait /$X/cat >/dev/null
ok "stdin to stdout through cat"

# wait returns when the process exits, even though nobody closed its stdin.
echo '{"Path":"/bin/sh","Args":["-c","sleep 0.2; exit 0"]}' | c mkproc /$X/nostdin
timeout 10 "$CIRCUIT_BIN" -d "$SERVER_URL" wait /$X/nostdin >/dev/null || fail "wait did not return"
ok "wait does not need stdin closed"

# stderr, Env, Dir.
echo '{"Path":"/bin/sh","Args":["-c","echo oops >&2; echo $FOO; pwd"],"Env":["FOO=bar"],"Dir":"/tmp"}' |
	c mkproc /$X/env
c stderr /$X/env >"$T_TMP/err"
[ "$(cat "$T_TMP/err")" = oops ] || fail "stderr"
c stdout /$X/env >"$T_TMP/envout"
[ "$(cat "$T_TMP/envout")" = "$(printf 'bar\n/tmp')" ] || fail "Env/Dir not applied: $(cat "$T_TMP/envout")"
echo '{"Path":"/usr/bin/env","Env":[]}' | c mkproc /$X/emptyenv
[ -z "$(c stdout /$X/emptyenv)" ] || fail "Env [] should be empty"
ok "stderr, Env, Dir"

# Scrub:true and -scrub remove the element once the process exits.
echo '{"Path":"/bin/true","Scrub":true}' | c mkproc /$X/a/b/gone
echo '{"Path":"/bin/true"}' | c mkproc -scrub /$X/gone2
wait_until 10 bash -c "[ -z \"\$($CIRCUIT_BIN -d $SERVER_URL ls /$X/...| grep gone)\" ]"
ok "Scrub removes the element and its empty anchors"

# ls -l shows kinds; nested anchors are listed with absolute paths.
echo '{"Path":"/bin/sleep","Args":["100"]}' | c mkproc /$X/jobs/build
c ls -l /$X/... >"$T_TMP/lsl"
grep -qE "^-  +/$X/jobs$" "$T_TMP/lsl" || fail "ls -l should show the empty anchor: $(cat "$T_TMP/lsl")"
grep -qE "^proc +/$X/jobs/build +Phase=" "$T_TMP/lsl" || fail "ls -l should show the kind"
c peek /$X >"$T_TMP/server"
grep -q '"Plugins"' "$T_TMP/server" || fail "server peek lacks Plugins"
ok "ls -l and server peek"
