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
