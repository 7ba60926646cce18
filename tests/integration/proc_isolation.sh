#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Jobs are kept away from the daemon (issue 16, part 3): a process that
# inherits the server's environment gets none of its CIRCUIT_* variables
# (the client key file's path, the server's settings), and none of the
# daemon's descriptors, not even one circuitd was started with and did not
# mark close-on-exec. Before: both were inherited.
source "$CIRCUIT_TESTLIB"
echo "a secret" >"$T_TMP/secret"
exec 7<"$T_TMP/secret"
# A keyed server, its key named by $CIRCUIT_HMAC as the CLI's is.
"$CIRCUIT_BIN" keygen "$T_TMP/key"
export CIRCUIT_HMAC="$T_TMP/key"
CIRCUIT_TEST_SETTING=x KEEP_ME=yes start_server --plugins=proc
exec 7<&-
X=$SERVER_ID
echo '{"Path":"/usr/bin/env"}' | c mkproc /$X/env
c stdout /$X/env >"$T_TMP/env"
grep -q '^KEEP_ME=yes$' "$T_TMP/env" || fail "the job did not inherit the server's environment"
if grep -E '^CIRCUIT(_|=)' "$T_TMP/env"; then fail "the job inherited the server's CIRCUIT_* variables"; fi
# An explicit Env is the job's own: it may name CIRCUIT_ variables.
echo '{"Path":"/usr/bin/env","Env":["CIRCUIT_MINE=1"]}' | c mkproc /$X/env2
[ "$(c stdout /$X/env2)" = "CIRCUIT_MINE=1" ] || fail "an explicit Env was changed"
ok "jobs inherit the server's environment without its CIRCUIT_* variables"

echo '{"Path":"/bin/sh","Args":["-c","ls /proc/$$/fd; cat <&7 2>/dev/null && echo LEAKED"]}' | c mkproc /$X/fds
c stdout /$X/fds >"$T_TMP/fds"
[ "$(grep -v LEAKED "$T_TMP/fds" | sort -n | tr '\n' ' ')" = "0 1 2 " ] ||
	fail "the job has descriptors beyond 0-2: $(tr '\n' ' ' <"$T_TMP/fds")"
if grep -q LEAKED "$T_TMP/fds"; then fail "the job read the file circuitd was started with"; fi
ok "jobs get no descriptor of the daemon's but their standard streams"
