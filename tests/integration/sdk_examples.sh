#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sdk_examples.sh - the SDK as a third party sees it: install the project
# into a private prefix, build sdk/examples (as installed) out of tree with
# pkg-config only, load the counter kind into circuitd, drive it through the
# unmodified CLI and run circuit-tree against the server.
source "$CIRCUIT_TESTLIB"

PREFIX="$T_TMP/prefix"
cmake --install "$CIRCUIT_BUILD_DIR" --prefix "$PREFIX" >"$T_TMP/install.log" 2>&1 || {
	cat "$T_TMP/install.log" >&2
	fail "cmake --install failed"
}
pcdir=$(dirname "$(find "$PREFIX" -name circuit-plugin.pc | head -n1)")
[ -f "$pcdir/circuit.pc" ] || fail "no circuit.pc / circuit-plugin.pc installed"
export PKG_CONFIG_PATH="$pcdir"
[ "$(pkg-config --variable=prefix circuit-plugin)" = "$PREFIX" ] ||
	fail "circuit-plugin.pc does not point into $PREFIX"
[ "$(pkg-config --variable=prefix circuit)" = "$PREFIX" ] ||
	fail "circuit.pc does not point into $PREFIX"
ok "installed into a private prefix; the .pc files point there"

# The examples as shipped, copied out so their builds write nowhere else.
EX="$T_TMP/examples"
cp -r "$PREFIX/share/doc/circuit/examples" "$EX" || fail "examples are not installed"

# A sanitized libcircuit needs sanitized programs (the ASan runtime first).
san=""
if grep -q '^CIRCUIT_SANITIZE:BOOL=ON' "$CIRCUIT_BUILD_DIR/CMakeCache.txt"; then
	san="-fsanitize=address,undefined -fno-omit-frame-pointer"
fi
export CFLAGS="-O1 -g $san" LDFLAGS="$san"

cmake -S "$EX/counter" -B "$T_TMP/counter-build" >"$T_TMP/counter.log" 2>&1 &&
	cmake --build "$T_TMP/counter-build" >>"$T_TMP/counter.log" 2>&1 || {
	cat "$T_TMP/counter.log" >&2
	fail "the counter plugin does not build against the installed SDK"
}
SO="$T_TMP/counter-build/counter.so"
[ -f "$SO" ] || fail "no counter.so"
# Its unit tests, on the SDK's fake host (circuit-plugin-test), no daemon.
[ -x "$T_TMP/counter-build/test_counter" ] || fail "test_counter was not built: no circuit-plugin-test?"
(cd "$T_TMP/counter-build" && ctest --output-on-failure) >"$T_TMP/counter-test.log" 2>&1 || {
	cat "$T_TMP/counter-test.log" >&2
	fail "the counter's unit tests failed against the installed harness"
}
grep -q "100% tests passed" "$T_TMP/counter-test.log" || fail "the counter's unit tests did not run"
ok "the counter's unit tests ran out of tree on the installed fake host (circuit-plugin-test)"
if command -v nm >/dev/null; then
	# (ASan adds an __odr_asan.* marker per global; it is not ours.)
	syms=$(nm -D --defined-only "$SO" | awk '$2 ~ /^[TDRB]$/ && $3 !~ /^__odr_asan/ {print $3}')
	[ "$syms" = circuit_plugin_counter ] || fail "counter.so exports: $syms"
fi
make -C "$EX/circuit-tree" >"$T_TMP/tree.log" 2>&1 || {
	cat "$T_TMP/tree.log" >&2
	fail "circuit-tree does not build against the installed libcircuit"
}
TREE="$EX/circuit-tree/circuit-tree"
ok "counter.so (cmake) and circuit-tree (make) built out of tree with pkg-config"

# circuitd with the build's plugins plus the third-party one.
PLUGINS="$T_TMP/plugins"
mkdir -p "$PLUGINS"
cp "$SO" "$PLUGINS/"
for so in "$CIRCUIT_PLUGIN_DIR"/*.so; do ln -s "$so" "$PLUGINS/"; done
start_server --plugin-dir "$PLUGINS"
c peek "/$SERVER_ID" | tr -d ' \t\n' | grep -q '"Plugins":\[[^]]*"counter"' ||
	fail "the server did not load counter"

C="/$SERVER_ID/c"
c mkcounter "$C" 5
[ "$(c incr "$C" 2)" = 7 ] || fail "incr 2 from 5 is not 7"
[ "$(c get "$C")" = 7 ] || fail "get is not 7"
[ "$(c incr "$C")" = 8 ] || fail "incr is not 8"
[ "$(c incr "$C" -10)" = -2 ] || fail "incr -10 is not -2"
peek=$(c peek "$C" | tr -d ' \t\n')
[[ "$peek" == *'"Value":-2'* && "$peek" == *'"Start":5'* && "$peek" == *'"Watchers":0'* ]] ||
	fail "peek: $peek"
c ls -l "/$SERVER_ID" | grep -q "^counter .*$C\$" || fail "ls -l does not show the counter"
ok "mkcounter, incr, get, peek, ls through the unmodified CLI"

# Bad input: one clear line each, and the server keeps serving.
expect_fail 2 'START must be an integer, not "five"' c mkcounter "/$SERVER_ID/d" five
expect_fail 1 "no anchor" c ls "/$SERVER_ID/d"
expect_fail 2 'N must be an integer, not "1.5"' c incr "$C" 1.5
expect_fail 2 "wrong number of arguments" c incr "$C" 1 2
c mkcounter "/$SERVER_ID/big" 9223372036854775807
expect_fail 2 "would overflow" c incr "/$SERVER_ID/big"
c scrub "/$SERVER_ID/big"
expect_fail 1 'no operation "frob"' c frob "$C"
expect_fail 1 "already holds a counter" c mkcounter "$C"
[ "$(c get "$C")" = -2 ] || fail "a failed incr changed the value"
server_alive
ok "bad input refused clearly"

# watch: the value, then a line per change, until the client leaves.
"$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" watch "$C" >"$T_TMP/watch.out" 2>"$T_TMP/watch.err" &
WATCH=$!
t_track "$WATCH"
wait_until 10 grep -qx -- -2 "$T_TMP/watch.out"
wait_until 10 sh -c "'$CIRCUIT_BIN' -d '$CIRCUIT_TEST_URL' peek '$C' | grep -q '\"Watchers\" : 1'"
c incr "$C" 3 >/dev/null
wait_until 10 grep -qx 1 "$T_TMP/watch.out"
kill -TERM "$WATCH"
wait "$WATCH" 2>/dev/null || true
# The watcher left: nothing of it stays on the server.
wait_until 10 sh -c "'$CIRCUIT_BIN' -d '$CIRCUIT_TEST_URL' peek '$C' | grep -q '\"Watchers\" : 0'"
c incr "$C" >/dev/null
[ "$(c get "$C")" = 2 ] || fail "incr after the watcher left"
ok "watch streams changes; a watcher that leaves is forgotten"

# Scrub ends watchers cleanly.
"$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" watch "$C" >"$T_TMP/watch2.out" 2>&1 &
WATCH2=$!
t_track "$WATCH2"
wait_until 10 grep -qx 2 "$T_TMP/watch2.out"
c scrub "$C"
rc=0
wait "$WATCH2" || rc=$?
[ "$rc" = 0 ] || fail "watch exited $rc at scrub: $(cat "$T_TMP/watch2.out")"
expect_fail 1 "no anchor" c ls "$C"
ok "scrub ends a watch with exit 0 and removes the counter"

# circuit-tree prints the anchor tree.
c mkcounter "/$SERVER_ID/c" 1
c mkcounter "/$SERVER_ID/jobs/hits"
echo '{"Path":"/bin/sleep","Args":["30"]}' | c mkproc "/$SERVER_ID/jobs/p"
"$TREE" -d "$SERVER_URL" >"$T_TMP/tree.out" 2>&1 || {
	cat "$T_TMP/tree.out" >&2
	fail "circuit-tree failed"
}
cat >"$T_TMP/tree.want" <<WANT
/
└── $SERVER_ID (server)
    ├── c (counter)
    └── jobs
        ├── hits (counter)
        └── p (proc)
WANT
diff -u "$T_TMP/tree.want" "$T_TMP/tree.out" || fail "circuit-tree printed something else"
"$TREE" -d "$SERVER_URL" "/$SERVER_ID/jobs" >"$T_TMP/tree2.out"
printf '%s\n' "/$SERVER_ID/jobs" "├── hits (counter)" "└── p (proc)" \
	>"$T_TMP/tree2.want"
diff -u "$T_TMP/tree2.want" "$T_TMP/tree2.out" || fail "circuit-tree PATH printed something else"
rc=0
"$TREE" -d "$SERVER_URL" "/$SERVER_ID/nope" >/dev/null 2>"$T_TMP/tree3.err" || rc=$?
[ "$rc" = 1 ] && grep -q "no anchor" "$T_TMP/tree3.err" || fail "circuit-tree on a missing path"
c scrub "/$SERVER_ID/jobs/p"
ok "circuit-tree prints the anchor tree"

# The third-party kind is configured like the built-in ones: its option is
# checked at start, used, and listed by --help-plugin.
expect_fail 2 "--plugin-option counter.start=ten: counter.start must be an integer" \
	timeout 20 "$CIRCUITD_BIN" -a 127.0.0.1:0 --plugin-dir "$PLUGINS" --plugin-option counter.start=ten
expect_fail 2 "the counter plugin has no such option (it has: counter.start" \
	timeout 20 "$CIRCUITD_BIN" -a 127.0.0.1:0 --plugin-dir "$PLUGINS" --plugin-option counter.stat=1
start_server --plugin-dir "$PLUGINS" --plugin-option counter.start=40
c mkcounter "/$SERVER_ID/conf"
[ "$(c incr "/$SERVER_ID/conf" 2)" = 42 ] || fail "counter.start was not used"
"$CIRCUITD_BIN" --plugin-dir "$PLUGINS" --help-plugin counter | grep -q '^  counter.start=N  *the value of a counter' ||
	fail "--help-plugin counter lists no counter.start"
ok "the third-party kind's option is checked, used, and listed"

# A third-party kind's verbs are in `circuit help`, from its descriptor.
start_server --plugin-dir "$PLUGINS"
c help | grep -qE '^    incr PATH \[N\]  *add N \(default 1\) and print the new value$' ||
	fail "circuit help does not list the counter's incr"
c incr -h | grep -qx 'usage: circuit incr PATH \[N\]' || fail "circuit incr -h"
ok "the third-party kind's verbs are in circuit help"
