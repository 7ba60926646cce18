#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An engine that starts after circuitd (issue 17, finding 5): the server
# starts with docker under Unavailable, looks for the engine in the
# background, and once it answers the kind is available (Plugins, the
# server's Kinds.docker.State.Engine) and mkdkr works, without a restart of
# circuitd. Before, the kind stayed unavailable until circuitd restarted.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
engine_stop
start_docker_server
X=$SERVER_ID
json() { python3 -c 'import json,sys; j = json.load(sys.stdin); print('"$1"')'; }
c peek /$X | json '"docker" in j["Unavailable"] and "docker" not in j["Plugins"]' | grep -q True ||
	fail "without an engine, docker should be unavailable"
spec true >"$T_TMP/spec.json"
expect_fail 3 "kind docker is unavailable on this server: the engine at $DOCKER_SOCK did not answer" \
	bash -c "'$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/early <'$T_TMP/spec.json'"
ok "no engine: the kind is unavailable and mkdkr says why"

engine_start
available() { c peek /$X | json '"docker" in j["Plugins"] and "docker" not in j["Unavailable"] and j["Kinds"]["docker"]["State"]["Engine"]["Answering"]' | grep -q True; }
wait_until 30 available || { c peek /$X; fail "the kind did not become available once the engine started"; }
grep -q "plugin docker: available again" "$SERVER_LOG" || fail "the server should log that docker is available"
spec echo hello | mkd /$X/late
[ "$(c stdout /$X/late)" = hello ] || fail "a container made after the engine appeared should run"
c peek /$X | json 'j["Kinds"]["docker"]["State"]["Engine"]["ApiVersion"]' | grep -qE '^1\.[0-9]+$' ||
	fail "the server's peek should show the version spoken"
ok "the engine started after circuitd: the kind becomes available without a restart"
