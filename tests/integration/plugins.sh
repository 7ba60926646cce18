#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# plugins.sh - circuitd's plugin loading, end to end, on the fixture plugins
# of tests/fixtures/ (each broken on purpose): --plugins names exactly what
# must load and fails the start clearly; without it, broken plugins are
# skipped with a warning; a plugin whose init fails leaves its kind
# "unavailable" with the reason.
source "$CIRCUIT_TESTLIB"

FIX="$CIRCUIT_BUILD_DIR/fixtures"
[ -f "$FIX/good/good.so" ] || fail "fixtures not built in $FIX"

# start_fails DIR PLUGINS SUBSTRING: circuitd must refuse to start, exiting
# non-zero with one line on stderr that holds SUBSTRING, and print no URL.
start_fails() {
	local dir=$1 plugins=$2 sub=$3 rc=0
	timeout 20 "$CIRCUITD_BIN" -a 127.0.0.1:0 --plugin-dir "$dir" --plugins="$plugins" \
		>"$T_TMP/sf.out" 2>"$T_TMP/sf.err" </dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "--plugins=$plugins in $dir: circuitd started"
	[ "$rc" -ne 124 ] || fail "--plugins=$plugins in $dir: circuitd neither started nor failed"
	[ ! -s "$T_TMP/sf.out" ] || fail "--plugins=$plugins: printed $(cat "$T_TMP/sf.out")"
	grep -qF -- "$sub" "$T_TMP/sf.err" || {
		cat "$T_TMP/sf.err" >&2
		fail "--plugins=$plugins: stderr lacks '$sub'"
	}
	[ "$(wc -l <"$T_TMP/sf.err")" -eq 1 ] || {
		cat "$T_TMP/sf.err" >&2
		fail "--plugins=$plugins: error is not one line"
	}
	ok "--plugins=$plugins fails: $(cat "$T_TMP/sf.err")"
}

# An unknown kind.
start_fails "$FIX/good" good,nosuchkind 'no plugin "nosuchkind"'
start_fails "$CIRCUIT_PLUGIN_DIR" nosuchkind 'no plugin "nosuchkind"'

# Each broken fixture, named in --plugins, fails the start naming the problem.
start_fails "$FIX/garbage" garbage "garbage.so"
start_fails "$FIX/nosymbol" nosymbol "no symbol circuit_plugin_nosymbol"
start_fails "$FIX/abimajor" abimajor "built for SDK ABI 2."
start_fails "$FIX/abiminor" abiminor "built for SDK ABI 1."
start_fails "$FIX/wrongkind" wrongkind 'declares kind "otherkind"'
start_fails "$FIX/good" good,good 'kind "good" is loaded already'
start_fails "$FIX/nocreate" nocreate 'its descriptor lacks create'
start_fails "$FIX/nopeek" nopeek 'its descriptor lacks peek'
start_fails "$FIX/peekop" peekop 'reserved'

# Without --plugins: a directory with every broken fixture, the good one and
# the one whose init fails starts; each broken one is skipped with a warning.
MIX="$T_TMP/plugins"
mkdir -p "$MIX"
broken=(garbage nosymbol abimajor abiminor wrongkind nocreate nopeek peekop missingfn)
for k in "${broken[@]}" good initfail; do cp "$FIX/$k/$k.so" "$MIX/"; done
start_server --plugin-dir "$MIX"
for k in "${broken[@]}"; do
	grep -q "warning: skipping .*$k" "$SERVER_LOG" || {
		cat "$SERVER_LOG" >&2
		fail "no warning about $k.so"
	}
done
ok "broken plugins skipped with a warning each"

peek=$(c peek "/$SERVER_ID")
plugins=$(printf '%s' "$peek" | tr -d ' \t\n' | sed -n 's/.*"Plugins":\[\([^]]*\)\].*/\1/p')
[ "$plugins" = '"good"' ] || fail "loaded kinds are [$plugins], wanted only good"
printf '%s' "$peek" | grep -q '"initfail" : "fixture engine at /nonexistent is unreachable"' ||
	fail "peek lists no unavailable initfail: $peek"
ok "peek: Plugins [good], Unavailable initfail with its reason"

# The good kind works through the CLI; the failed one says why it cannot.
c mkgood "/$SERVER_ID/g"
c ls -l "/$SERVER_ID" | grep -q '^good .*/g$' || fail "mkgood made no element"
expect_fail 3 "fixture engine at /nonexistent is unreachable" c mkinitfail "/$SERVER_ID/i"
expect_fail 3 "unavailable" c mkinitfail "/$SERVER_ID/i"
# A failed mk leaves nothing behind.
expect_fail 1 "no anchor" c ls "/$SERVER_ID/i"
# Skipped kinds are unknown kinds.
expect_fail 1 'unknown element kind "abimajor"' c mkabimajor "/$SERVER_ID/a"
server_alive
ok "mkinitfail fails with the init reason; the server keeps serving"

# With --plugins naming it, a failing init is not fatal either.
start_server --plugin-dir "$FIX/initfail" --plugins=initfail
grep -q "fixture engine at /nonexistent is unreachable" "$SERVER_LOG" ||
	fail "no log line about the failed init"
expect_fail 3 "unavailable on this server" c mkinitfail "/$SERVER_ID/i"
server_alive
ok "--plugins=initfail starts; the kind is unavailable"
