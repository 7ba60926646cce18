#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The container spec against a real engine: bad specs refused in one line
# naming the key (and no element left), Lxc accepted with a warning, Memory
# and CpuShares applied, volumes (bind rw, bind ro, anonymous), a missing
# image, and Pull for an image no registry has.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
# Binds of host paths need the directory allowed (see docker_binds.sh).
start_docker_server --docker-allow-bind "$T_TMP"
X=$SERVER_ID

bad() { # bad SUBSTRING JSON
	expect_fail 2 "$1" bash -c "echo '$2' | '$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/bad"
}
bad 'unknown key "Bogus"' '{"Image":"x","Bogus":1}'
bad '"Memory" must be a non-negative integer' '{"Image":"x","Memory":"1g"}'
bad '"Env" must be an array of strings' '{"Image":"x","Env":"A=1"}'
bad '"Args"[1] is not a string' '{"Image":"x","Args":["a",2]}'
bad '"Scrub" must be true or false' '{"Image":"x","Scrub":"yes"}'
bad '"Image" is required' '{"Path":"/bin/true"}'
bad '"Volume"[0] "data": a container path must be absolute' '{"Image":"x","Volume":["data"]}'
bad 'not valid JSON' '{"Image":'
expect_fail 2 "no container spec" c mkdocker /$X/bad
[ -z "$(c ls /$X/... | grep bad)" ] || fail "a refused spec left an element behind"
engine_lacks bad || fail "a refused spec reached the engine"
ok "bad specs: one line naming the key, nothing left behind"

# Lxc is accepted and warned about; Memory and CpuShares reach the engine.
python3 -c 'import json,sys
print(json.dumps({"Image": sys.argv[1], "Memory": 100000000, "CpuShares": 3,
  "Lxc": ["lxc.cgroup.cpuset.cpus = 0,1"], "Path": "true"}))' "$IMAGE" | mkd /$X/limits
c wait /$X/limits >/dev/null
c peek /$X/limits >"$T_TMP/peek"
grep -q '"Memory" : 100000000' "$T_TMP/peek" || fail "Memory not applied"
grep -q '"CpuShares" : 3' "$T_TMP/peek" || fail "CpuShares not applied"
grep -q "Lxc options are ignored" "$SERVER_LOG" || fail "Lxc should be warned about"
ok "Lxc warned about; Memory and CpuShares applied"

# Volumes: a read-write bind, a read-only bind, an anonymous volume.
mkdir -p "$T_TMP/rw" "$T_TMP/ro"
echo from-host >"$T_TMP/ro/file"
python3 -c 'import json,sys
print(json.dumps({"Image": sys.argv[1],
  "Volume": [sys.argv[2] + ":/rw", sys.argv[3] + ":/ro:ro", "/anon"],
  "Path": "sh", "Args": ["-c",
  "echo from-container >/rw/out; cat /ro/file; echo x >/anon/f && echo anon-ok; echo y >/ro/nope || echo ro-refused"]}))' \
	"$IMAGE" "$T_TMP/rw" "$T_TMP/ro" | mkd /$X/vol
c stdout /$X/vol >"$T_TMP/vol.out"
c wait /$X/vol >/dev/null || fail "the volume script failed"
[ "$(cat "$T_TMP/rw/out")" = from-container ] || fail "the rw bind did not reach the host"
grep -qx from-host "$T_TMP/vol.out" || fail "the ro bind is not readable"
grep -qx anon-ok "$T_TMP/vol.out" || fail "the anonymous volume is not writable"
grep -qx ro-refused "$T_TMP/vol.out" || fail "the ro bind was writable"
[ ! -e "$T_TMP/ro/nope" ] || fail "the ro bind was written"
ok "volumes: rw bind, ro bind, anonymous"

# A missing image: mkdkr itself fails with one clear line, leaving no
# element and no container.
missing() { echo '{"Image":"localhost/no-such-image:1","Path":"true"}' | mkd /$X/missing; }
expect_fail 1 'no image "localhost/no-such-image:1" on the engine' missing
expect_fail 1 "no element at /$X/missing" c peek /$X/missing
engine_lacks "$X.missing" || fail "a failed element left a container"
ok "missing image: mkdkr fails with one clear line, no container"

# Pull: true tries the registry, and says so when it fails.
pullfail() { echo '{"Image":"localhost:1/circuit-nope:1","Pull":true,"Path":"true"}' | mkd /$X/pull; }
expect_fail 1 'pulling image "localhost:1/circuit-nope:1"' pullfail
# Pull: true with an image the engine has runs without a registry.
echo "{\"Image\":\"$IMAGE\",\"Pull\":true,\"Path\":\"true\"}" | mkd /$X/present
c wait /$X/present >/dev/null || fail "Pull with a present image should just run"
ok "Pull: pulls only when missing, fails clearly"

# A command the image lacks fails clearly, and the server keeps serving.
rc=0; spec /bin/no-such-command | mkd /$X/nocmd 2>"$T_TMP/err" >/dev/null || rc=$?
[ $rc != 0 ] || fail "a missing command should fail mkdkr"
[ "$(wc -l <"$T_TMP/err")" -le 1 ] || fail "the error should be one line"
server_alive
ok "a missing command fails clearly"
