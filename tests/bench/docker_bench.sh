#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# docker_bench: N containers running `true` (default 50), made and waited
# for through circuit (mkdocker + wait + scrub, and the removals done) against
# the same create/start/wait/remove sequence sent straight to the engine
# with curl --unix-socket, in the same run, on the same engine: the one
# CIRCUIT_TEST_ENGINE names (podman, the default: podman's Docker-API
# service; dockerd: Docker's engine; both private, from
# tests/plugins/docker/engine.sh). Records the figures as the section
# "docker-ENGINE" of docs/BENCHMARKS.md through record.sh. The bar (circuit
# at most 1.2 times the direct time) is reported, never asserted.
#
# Run through ctest (-DCIRCUIT_BENCH=ON, label bench: bench/docker-podman,
# bench/docker-dockerd) or by hand:
#   CIRCUIT_TEST_ENGINE=dockerd CIRCUIT_BUILD_DIR=/path/to/build tests/bench/docker_bench.sh
source "$(dirname "$0")/bench_lib.sh"
build=$CIRCUIT_BUILD_DIR
source "$CIRCUIT_SOURCE_DIR/tests/plugins/docker/engine.sh"

N=${DOCKER_BENCH_N:-50}
HALF=$((N / 2))
start_docker_server
X=$SERVER_ID
SPEC="{\"Image\":\"$IMAGE\",\"Path\":\"true\"}"      # circuit's spec
CREATE="{\"Image\":\"$IMAGE\",\"Cmd\":[\"true\"]}" # the engine's create body

now() { date +%s.%N; }

# The direct sequence, as a client of the engine would send it.
direct() { # direct COUNT
	local id answer
	for _ in $(seq 1 "$1"); do
		answer=$(engine_api POST /containers/create "$CREATE")
		id=$(sed -n 's/.*"Id":"\([0-9a-f]*\)".*/\1/p' <<<"$answer")
		[ -n "$id" ] || fail "direct create failed: $answer"
		engine_api POST "/containers/$id/start" >/dev/null
		engine_api POST "/containers/$id/wait" | grep -q '"StatusCode":0' || fail "direct wait failed"
		engine_api DELETE "/containers/$id" >/dev/null
	done
}

# The same through circuit: the element is scrubbed (its container removed)
# after wait; the run ends when the engine has removed every container.
through_circuit() { # through_circuit COUNT TAG
	for i in $(seq 1 "$1"); do
		echo "$SPEC" | c mkdocker "/$X/b$2-$i"
		c wait "/$X/b$2-$i" >/dev/null || fail "wait through circuit failed"
		c scrub "/$X/b$2-$i"
	done
	for _ in $(seq 1 600); do
		engine_lacks "circuit-$X." && return 0
		sleep 0.05
	done
	fail "circuit's containers were not removed"
}

timed() { # timed VAR CMD...: adds the seconds CMD took to VAR
	local t0 t1
	t0=$(now)
	"${@:2}"
	t1=$(now)
	printf -v "$1" '%s' "$(echo "${!1} + $t1 - $t0" | bc -l)"
}

# Warm both paths once (image layers, engine caches, the CLI binary).
direct 1
through_circuit 1 warm

# A-B-B-A, so a drift in the machine's load (it may be shared) weighs on
# both alike.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_direct=0 t_circuit=0
timed t_direct direct "$HALF"
timed t_circuit through_circuit "$HALF" 1
timed t_circuit through_circuit $((N - HALF)) 2
timed t_direct direct $((N - HALF))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

ratio=$(echo "$t_circuit / $t_direct" | bc -l)
per_direct=$(echo "$t_direct * 1000 / $N" | bc -l)
per_circuit=$(echo "$t_circuit * 1000 / $N" | bc -l)
verdict=$(echo "$ratio <= 1.2" | bc -l)
[ "$verdict" = 1 ] && verdict="meets the bar" || verdict="MISSES the bar"
read -r e_version e_api e_containerd < <(engine_api GET /version | python3 -c 'import json,sys
v = json.load(sys.stdin)
c = {x["Name"]: x["Version"] for x in v["Components"]}
print(v["Version"], v["ApiVersion"], c.get("containerd", "-"))')
if [ "$ENGINE" = podman ]; then
	engine="podman's Docker-API service (Podman Engine $e_version, API $e_api) with conmon and runc"
else
	engine="Docker's own engine, dockerd $e_version (API $e_api), with containerd $e_containerd and runc"
fi

out="$T_TMP/docker-$ENGINE.md"
{
	echo "\`tests/bench/docker_bench.sh\`: $N containers running \`true\` on $engine"
	echo "(private, vfs storage), A-B-B-A order. Direct: create, start, wait,"
	echo "remove with \`curl --unix-socket\`. Circuit: \`circuit mkdocker\`, \`wait\`,"
	echo "\`scrub\`, until the engine has removed every container."
	echo
	echo "| path | total (s) | per container (ms) |"
	echo "|---|---|---|"
	printf '| direct (curl) | %.2f | %.0f |\n' "$t_direct" "$per_direct"
	printf '| through circuit | %.2f | %.0f |\n' "$t_circuit" "$per_circuit"
	echo
	printf 'Ratio circuit/direct: **%.3f** (bar: at most 1.2; %s). ' "$ratio" "$verdict"
	echo "Load average before/after: $load_before / $load_after."
	echo
	echo "Circuit removes a scrubbed container in the background, so that removal"
	echo "overlaps the next container's creation. The direct client waits for each"
	echo "DELETE, which is why the ratio can come out below 1."
	if awk -v a="$load_before" -v b="$load_after" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] > 1 || y[1] > 1) }'; then
		echo
		echo "The machine was shared with other builds and tests (load average above 1):"
		echo "a change in that load between the A and B runs moves the ratio, so one"
		echo "run's ratio says little."
	fi
} >"$out"
cat "$out"
bash "$here/record.sh" "docker-$ENGINE" "$out"
