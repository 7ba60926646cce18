#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The exit-code table of docs/cli.md, case by case (issue 19): every
# documented case gives its code, and where a server is involved the same
# code dialed directly at the owner and through a relay (dialed at server A
# for a path on server B). The help's table is the document's.
. "$CIRCUIT_TESTLIB"

start_server --plugins=proc,chan
A=$SERVER_ID A_URL=$SERVER_URL
start_server --plugins=proc,chan -j "$A_URL"
B=$SERVER_ID B_URL=$SERVER_URL
wait_true 10 '[ "$("$CIRCUIT_BIN" -d "$A_URL" ls / | wc -l)" = 2 ]'

# code WANT WHAT CMD...: CMD (stdin from $IN, else nothing) exits WANT and
# says at most one line.
IN=/dev/null
code() {
	local want=$1 what=$2 rc=0
	shift 2
	"$@" <"$IN" >"$T_TMP/out" 2>"$T_TMP/err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$T_TMP/err" >&2; fail "$what: '$*' exited $rc, wanted $want"; }
	[ "$(wc -l <"$T_TMP/err")" -le 1 ] || { cat "$T_TMP/err" >&2; fail "$what: more than one line"; }
	echo "ok - $what: $want${rc:+ }$(head -c 200 "$T_TMP/err")"
}
# both WANT WHAT ARGS...: the CLI with ARGS (paths on B) dialed at B, then at A.
both() {
	local want=$1 what=$2
	shift 2
	code "$want" "$what (direct)" "$CIRCUIT_BIN" -d "$B_URL" "$@"
	code "$want" "$what (relayed)" "$CIRCUIT_BIN" -d "$A_URL" "$@"
}
cb() { "$CIRCUIT_BIN" -d "$B_URL" "$@"; }

# ---- 0: ok, help included ------------------------------------------------------
code 0 "help" "$CIRCUIT_BIN" help
code 0 "ls -h is help" "$CIRCUIT_BIN" ls -h
code 0 "VERB --help PATH is help" "$CIRCUIT_BIN" mkproc --help "/$B/x"
both 0 "ls" ls "/$B"

# ---- 2: a usage or configuration mistake ---------------------------------------
code 2 "no command" "$CIRCUIT_BIN"
code 2 "an unknown flag of ls" "$CIRCUIT_BIN" -d "$B_URL" ls --bogus
code 2 "an unknown command" "$CIRCUIT_BIN" -d "$B_URL" lss /
code 2 "an unknown global flag" "$CIRCUIT_BIN" --bogus ls /
code 2 "a malformed URL ID" "$CIRCUIT_BIN" -d circuit://127.0.0.1:1/1/Xzz ls /
code 2 "a bad -discover" "$CIRCUIT_BIN" -discover bogus ls /
code 2 "a missing key file" "$CIRCUIT_BIN" -d "$B_URL" -hmac /nonexistent ls /
code 2 "a bad -timeout" "$CIRCUIT_BIN" -d "$B_URL" -timeout soon ls /
: >"$T_TMP/empty"
code 2 "\$CIRCUIT names an empty file" env CIRCUIT="$T_TMP/empty" "$CIRCUIT_BIN" ls /
grep -qF "\$CIRCUIT names $T_TMP/empty, which is empty" "$T_TMP/err" || fail "origin not named"
code 2 "\$CIRCUIT names a missing file" env CIRCUIT="$T_TMP/none" "$CIRCUIT_BIN" ls /
echo 'circuit://127.0.0.1:1/1/Xzz' >"$HOME/.circuit"
code 2 "~/.circuit holds a malformed URL" "$CIRCUIT_BIN" ls /
grep -qF "~/.circuit ($HOME/.circuit): " "$T_TMP/err" || fail "~/.circuit not named"
rm "$HOME/.circuit"
code 2 "PATH not absolute" "$CIRCUIT_BIN" -d "$B_URL" peek relative
IN="$T_TMP/bad.json"
echo '{Path:"/bin/true"}' >"$IN"
both 2 "a spec that is not JSON" mkproc "/$B/bad"
echo '{"Path":"/bin/true","Bogus":1}' >"$IN"
both 2 "a spec with an unknown key" mkproc "/$B/bad"
IN=/dev/null
both 2 "no spec" mkproc "/$B/bad"
both 2 "mkchan PATH without CAP" mkchan "/$B/ch"
both 2 "mkchan with a bad CAP" mkchan "/$B/ch" -1
echo '{"Path":"/bin/sleep","Args":["1000"]}' | cb mkproc "/$B/sleep"
both 2 "a signal that does not exist" signal BOGUS "/$B/sleep"
both 2 "a built-in with an extra argument" peek "/$B/sleep" extra
both 2 "an anchor name with a control byte" peek "/$B/a$(printf '\001')"

# ---- 1: the operation failed ---------------------------------------------------
both 1 "scrub of a missing element" scrub "/$B/missing"
both 1 "peek of an empty anchor" peek "/$B/missing"
both 1 "an operation the kind has not" send "/$B/sleep"
echo '{"Path":"/bin/true"}' | cb mkproc "/$B/taken"
IN="$T_TMP/true.json"
echo '{"Path":"/bin/true"}' >"$IN"
both 1 "mk on an occupied anchor" mkproc "/$B/taken"
IN=/dev/null

# ---- 3: no server, a wrong server, or the owner unavailable ----------------------
port=$(free_port)
code 3 "nothing listening" "$CIRCUIT_BIN" -d "127.0.0.1:$port" ls /
code 3 "a wrong server ID in the URL" "$CIRCUIT_BIN" -d "${B_URL%/*}/X0123456789abcdef" ls /
both 3 "a wrong server ID in the path" peek /X0123456789abcdef/x
if "$CIRCUIT_BIN" -d 127.0.0.1:11022 ls / >/dev/null 2>&1; then
	t_skip "a server answers at 127.0.0.1:11022: the default address is not checked"
else
	code 3 "no server at the default address" env CIRCUIT_SOCKET="$T_TMP/no.sock" "$CIRCUIT_BIN" ls /
	grep -qF "start one with circuitd, or name one with -d URL" "$T_TMP/err" || fail "no hint"
fi
# A server that dies mid-call: the same 3 dialed at it and through a relay.
start_server --plugins=proc,chan -j "$A_URL"
C=$SERVER_ID C_URL=$SERVER_URL C_PID=$SERVER_PID
wait_true 10 '[ "$("$CIRCUIT_BIN" -d "$A_URL" ls / | wc -l)" = 3 ]'
echo '{"Path":"/bin/sleep","Args":["1000"]}' | "$CIRCUIT_BIN" -d "$C_URL" mkproc "/$C/job"
lost_mid_call "$C_URL" "$A_URL" "/$C/job" "$C_PID"
ok "a server killed mid-call: 3 direct and relayed"

# ---- 4: the end of a closed channel or stream ----------------------------------
cb mkchan "/$B/closed" 0
cb close "/$B/closed"
both 4 "recv on a closed empty channel" recv "/$B/closed"
IN="$T_TMP/line"
echo hi >"$IN"
echo '{"Path":"/bin/sh","Args":["-c","exec 0<&-; sleep 1000"]}' | cb mkproc "/$B/noin"
sleep 0.3
both 4 "stdin of a process that closed it (first and second write)" stdin "/$B/noin"
echo '{"Path":"/bin/true"}' | cb mkproc "/$B/exited"
cb wait "/$B/exited" >/dev/null
code 4 "stdin of an exited process, first write" "$CIRCUIT_BIN" -d "$B_URL" stdin "/$B/exited"
code 4 "stdin of an exited process, second write" "$CIRCUIT_BIN" -d "$A_URL" stdin "/$B/exited"
IN=/dev/null

# ---- 5: a waited process failed ------------------------------------------------
echo '{"Path":"/bin/false"}' | cb mkproc "/$B/false"
both 5 "wait on false" wait "/$B/false"

# ---- 6: the -timeout passed ----------------------------------------------------
both 6 "-timeout 200ms wait on sleep" -timeout 200ms wait "/$B/sleep"

# ---- the help states the same table as docs/cli.md -------------------------------
doc="$CIRCUIT_SOURCE_DIR/docs/cli.md"
"$CIRCUIT_BIN" help | sed -n '/^Exit codes:/,/^$/p' | sed '/^$/d' >"$T_TMP/help"
sed -n '/^```exit-codes$/,/^```$/p' "$doc" | sed '1d;$d' >"$T_TMP/doc"
[ -s "$T_TMP/doc" ] || fail "docs/cli.md has no exit-codes block"
diff -u "$T_TMP/doc" "$T_TMP/help" || fail "circuit help's exit codes differ from docs/cli.md"
ok "circuit help's exit-code table is docs/cli.md's"
