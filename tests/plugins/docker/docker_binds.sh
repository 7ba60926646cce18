#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Host paths a container may bind (issue 16, part 3): only those under a
# directory given with --docker-allow-bind, after "..", "." and symbolic
# links are resolved; never /, the engine's socket or a directory holding
# it, even when listed (circuitd says so at start). Named volumes are no
# host paths and stay allowed. Without the flag no host path is bound.
# Each refusal is one line naming the path and the flag, and leaves neither
# element nor container. Before: every bind reached the engine, / included.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
mkdir -p "$T_TMP/allowed/data" "$T_TMP/outside"
echo secret >"$T_TMP/outside/file"
ln -s "$T_TMP/outside" "$T_TMP/allowed/link"
start_docker_server --docker-allow-bind "$T_TMP/allowed" --docker-allow-bind / \
	--docker-allow-bind "$E_DIR" --docker-allow-bind "$DOCKER_SOCK"
X=$SERVER_ID
for listed in / "$E_DIR" "$DOCKER_SOCK"; do
	grep -qF -- "--docker-allow-bind $listed: ignored" "$SERVER_LOG" ||
		fail "circuitd did not say that --docker-allow-bind $listed is ignored: $(cat "$SERVER_LOG")"
done
ok "/, the engine socket and its directory are ignored in --docker-allow-bind, with a line each"

# bind NAME VOLUME: a container of IMAGE writing into /mnt/out through VOLUME.
bind() {
	python3 -c 'import json,sys
print(json.dumps({"Image": sys.argv[1], "Volume": [sys.argv[2]],
  "Path": "sh", "Args": ["-c", "echo from-container >/mnt/out; cat /mnt/file 2>/dev/null; true"]}))' \
		"$IMAGE" "$2" | mkd "/$X/$1"
}
bind ok "$T_TMP/allowed/data:/mnt"
c wait "/$X/ok" >/dev/null || fail "a container with an allowed bind failed"
[ "$(cat "$T_TMP/allowed/data/out")" = from-container ] || fail "the allowed bind did not reach the host"
bind okdots "$T_TMP/allowed/./data/../data:/mnt"
c wait "/$X/okdots" >/dev/null || fail "an allowed bind spelled with . and .. failed"
ok "a bind under an allowed directory works (also spelled with . and ..)"

refused() { # refused NAME VOLUME SUBSTRING
	expect_fail 1 "$3" bind "$1" "$2"
	grep -qF -- "--docker-allow-bind" "$T_TMP/ef.err" || fail "the refusal of $2 does not name --docker-allow-bind"
	c ls "/$X/..." | grep -q "/$1\$" && fail "a refused bind left an element behind"
	engine_lacks "$X.$1" || fail "a refused bind reached the engine"
}
refused out "$T_TMP/outside:/mnt" "host path $T_TMP/outside is not under"
refused dots "$T_TMP/allowed/../outside:/mnt" "host path $T_TMP/allowed/../outside (resolves to $T_TMP/outside) is not under"
refused link "$T_TMP/allowed/link:/mnt:ro" "host path $T_TMP/allowed/link (resolves to $T_TMP/outside) is not under"
[ ! -e "$T_TMP/outside/out" ] || fail "a refused bind wrote to the host"
ok "binds outside the allowed directories are refused, also through .. and symbolic links"

refused root "/:/mnt" "binding / is never allowed"
refused rootdots "$T_TMP/allowed/../../../../../../../..:/mnt" "binding / is never allowed"
refused sock "$DOCKER_SOCK:/mnt/sock" "holds the engine socket"
refused sockdir "$E_DIR:/mnt" "holds the engine socket"
ok "/, the engine socket and its directory are refused although listed"

# A named volume is no host path.
python3 -c 'import json,sys
print(json.dumps({"Image": sys.argv[1], "Volume": ["circuitvol" + sys.argv[2] + ":/v"],
  "Path": "sh", "Args": ["-c", "echo x >/v/f && cat /v/f"]}))' "$IMAGE" "$SERVER_PID" | mkd "/$X/named"
[ "$(c stdout "/$X/named")" = x ] || fail "a named volume did not work"
c wait "/$X/named" >/dev/null || fail "a container with a named volume failed"
ok "named volumes stay allowed"

# Without the flag no host path is bound; named and anonymous volumes are.
start_docker_server
X=$SERVER_ID
expect_fail 1 "no --docker-allow-bind given" bind none "$T_TMP/allowed/data:/mnt"
echo "{\"Image\":\"$IMAGE\",\"Volume\":[\"/anon\"],\"Path\":\"true\"}" | mkd "/$X/anon"
c wait "/$X/anon" >/dev/null || fail "an anonymous volume failed without --docker-allow-bind"
server_alive
ok "without --docker-allow-bind no host path is bound; anonymous volumes are"
