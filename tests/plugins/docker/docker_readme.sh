#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The original README's "Make a docker container" example, adapted to the
# local busybox image (ubuntu is not here) and a volume under $T_TMP: the
# original's spelling, mkdkr, and its spec with the trailing comma.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"
mkdir -p "$T_TMP/src/webapp"
echo index >"$T_TMP/src/webapp/index.html"
# Host paths may be bound only under directories allowed (docker_binds.sh).
start_server -docker -docker-host "$DOCKER_URL" -grace 1 --docker-allow-bind "$T_TMP/src"
X=$SERVER_ID

c mkdkr /$X/docky <<EOF
{
	"Image": "$IMAGE",
	"Memory": 1000000000,
	"CpuShares": 3,
	"Lxc": ["lxc.cgroup.cpuset.cpus = 0,1"],
	"Volume": ["/webapp", "$T_TMP/src/webapp:/opt/webapp:ro"],
	"Dir": "/",
	"Entry": "",
	"Env": ["PATH=/usr/bin:/bin"],
	"Path": "/bin/ls",
	"Args": ["/", "/opt/webapp"],
}
EOF
c stdout /$X/docky >"$T_TMP/ls"
grep -qx bin "$T_TMP/ls" || fail "ls / should list bin"
grep -qx webapp "$T_TMP/ls" || fail "ls / should list the anonymous volume"
grep -qx index.html "$T_TMP/ls" || fail "the bind should show index.html"
c wait /$X/docky >/dev/null || fail "ls should exit 0"
c peek /$X/docky | grep -q '"Image" : "'"$IMAGE"'"' || fail "peek should describe the container"
c ls -l /$X | grep -q "docker .*/$X/docky" || fail "ls -l should show the docker kind"
ok "README example: mkdkr, stdout, wait, peek"
c scrub /$X/docky
wait_until 60 engine_lacks "$X.docky"
ok "scrub removes it"
