#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The docker kind on a keyed cluster: a container made, fed, read, waited
# and scrubbed on server B entirely through server A (which has no docker
# kind itself), every connection and datagram keyed.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
"$CIRCUIT_BIN" keygen "$T_TMP/k1"
chmod 600 "$T_TMP/k1"
start_server --hmac "$T_TMP/k1" --plugins=proc
A=$SERVER_URL
start_docker_server --hmac "$T_TMP/k1" --plugins=proc -j "$A"
XB=$SERVER_ID
k() { "$CIRCUIT_BIN" -d "$A" -hmac "$T_TMP/k1" "$@"; }
two() { [ "$(k ls / | grep -c '^/X')" = 2 ]; }
wait_until 20 two
spec sh -c 'tr a-z A-Z; echo gone >&2; exit 4' | k mkdkr "/$XB/box"
k ls -l "/$XB" | grep -q "docker .*/$XB/box" || fail "ls through A should show the docker element"
echo hello | k stdin "/$XB/box"
[ "$(k stdout "/$XB/box")" = HELLO ] || fail "stdout of a container through A"
[ "$(k stderr "/$XB/box")" = gone ] || fail "stderr of a container through A"
rc=0; k wait "/$XB/box" >"$T_TMP/w" || rc=$?
[ $rc = 5 ] || fail "wait through A exited $rc, wanted 5"
grep -q '"ExitCode" : 4' "$T_TMP/w" || fail "wait should report ExitCode 4"
k peek "/$XB/box" | grep -q '"Image"' || fail "peek through A"
k scrub "/$XB/box"
wait_until 30 engine_lacks box
ok "a container on B driven entirely through A on a keyed cluster"
