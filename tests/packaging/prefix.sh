#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# prefix.sh: `cmake --install` into a private prefix, then the installed
# circuit and circuitd run from there without LD_LIBRARY_PATH: a server
# started from the prefix finds its plugins there, and the installed CLI
# (which needs libcircuit.so.0 from PREFIX/lib...) lists and peeks it.
set -euo pipefail
source "$CIRCUIT_TESTLIB"
prefix=$T_TMP/prefix
cmake --install "$CIRCUIT_BUILD_DIR" --prefix "$prefix" >"$T_TMP/install.log" 2>&1 ||
	{ cat "$T_TMP/install.log"; exit 1; }
cli=$prefix/bin/circuit
daemon=$prefix/sbin/circuitd
[ -x "$cli" ] && [ -x "$daemon" ] || { echo "no circuit or circuitd under $prefix"; exit 1; }
# ldd's output whole, then grep (grep -q on a pipe would end ldd with SIGPIPE
# under pipefail and fail the check at random).
libs=$(ldd "$cli")
if grep -q "not found" <<<"$libs"; then
	echo "$libs"
	echo "the installed circuit cannot find its libraries"
	exit 1
fi
grep -qF "$prefix/" <<<"$libs" || { echo "$libs"; echo "circuit does not use the prefix's libcircuit"; exit 1; }
env -u LD_LIBRARY_PATH "$cli" --version
# The installed circuitd finds its own plugins and circuit-guard, relative
# to itself, as the one in the build tree does.
unset CIRCUIT_PLUGIN_DIR
CIRCUITD_BIN=$daemon start_server
grep -q "circuit-guard" "$SERVER_LOG" && { cat "$SERVER_LOG"; fail "the installed circuitd did not start its circuit-guard"; }
CIRCUIT_BIN=$cli
export -n LD_LIBRARY_PATH
unset LD_LIBRARY_PATH
c ls / | grep -qx "/$SERVER_ID" || fail "the installed circuit did not list the server"
c mkproc "/$SERVER_ID/p" <<<'{"Path":"/bin/echo","Args":["from the prefix"]}'
[ "$(c stdout "/$SERVER_ID/p")" = "from the prefix" ] || fail "no output through the installed CLI"
c wait "/$SERVER_ID/p" >/dev/null
c scrub "/$SERVER_ID/p"
ok "installed into $prefix: circuit and circuitd run without LD_LIBRARY_PATH"

# The Python package: pkg-config says where it is (as for the SDK), and the
# installed module imports from there and finds the prefix's libcircuit
# without LD_LIBRARY_PATH (issue 21).
pc=$(find "$prefix" -name circuit-python.pc | head -n1)
[ -n "$pc" ] || fail "no circuit-python.pc installed under $prefix"
pydir=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=pythondir circuit-python)
[ -f "$pydir/circuit/__init__.py" ] || fail "circuit-python.pc's pythondir ($pydir) holds no circuit package"
[ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --modversion circuit-python)" = "$("$cli" version | cut -d' ' -f2)" ] ||
	fail "circuit-python.pc's version is not the CLI's"
# (Under ASan the interpreter needs the runtimes first: CIRCUIT_PY_PRELOAD.)
preload=()
[ -n "${CIRCUIT_PY_PRELOAD:-}" ] && preload=(LD_PRELOAD="$CIRCUIT_PY_PRELOAD" ASAN_OPTIONS=detect_leaks=0)
got=$(env -u LD_LIBRARY_PATH "${preload[@]}" PYTHONPATH="$pydir" python3 -c '
import sys, circuit
print(circuit.__file__)
print(" ".join(circuit.dial(sys.argv[1]).servers()))' "$SERVER_URL") || fail "the installed package does not import or dial"
grep -qF "$pydir/circuit/__init__.py" <<<"$got" || fail "python imported another circuit package: $got"
grep -qx "/$SERVER_ID" <<<"$(tail -n1 <<<"$got")" || fail "the installed package did not list the server: $got"
ok "the installed Python package: found by pkg-config, imports and dials without LD_LIBRARY_PATH"
