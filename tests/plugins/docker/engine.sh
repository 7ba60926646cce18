# SPDX-License-Identifier: Apache-2.0
# tests/plugins/docker/engine.sh - sourced by the docker tests after lib.sh.
# Runs a private Docker-API engine: podman's compatible service, as root,
# with its own storage, run and tmp directories under $T_TMP (the machine's
# podman state is never touched), runc, the cgroupfs manager, a file event
# log, no network namespace setup and modest ulimits (what works on CI
# runners and in nested containers). The test image is imported from a
# busybox-static root filesystem: no registry is ever contacted.
#
# Sets DOCKER_SOCK, DOCKER_URL (unix://...), IMAGE. Functions: engine_start,
# engine_stop, engine_api METHOD PATH [JSON], engine_containers,
# start_docker_server [circuitd flags...].
#
# Exits 77 ("skip: <why>", shown by ctest as skipped) only when the machine
# cannot run containers at all: no podman, not root, or the engine cannot
# run a trivial container (the engine's own words are printed).

E_DIR="$T_TMP/engine"
DOCKER_SOCK="$E_DIR/podman.sock"
DOCKER_URL="unix://$DOCKER_SOCK"
IMAGE=localhost/circuit-test:latest
ENGINE_PID=

skip() {
	echo "skip: $*"
	exit 77
}

command -v podman >/dev/null || skip "podman is not installed (apt-get install podman runc), so no container engine"
[ "$(id -u)" = 0 ] || skip "the test engine runs as root (podman as $(id -un) needs subuid setup)"
runtime=$(command -v runc || command -v crun || true)
[ -n "$runtime" ] || skip "no OCI runtime (apt-get install runc)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || fail "busybox is missing (apt-get install busybox-static): it makes the test image"
if ldd "$busybox" >/dev/null 2>&1; then
	fail "$busybox is dynamically linked; the test image needs busybox-static"
fi

mkdir -p "$E_DIR"/{root,run,tmp,rootfs/bin,rootfs/tmp,rootfs/data}
cat >"$E_DIR/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "$(basename "$runtime")"
tmp_dir = "$E_DIR/tmp"
EOF
export CONTAINERS_CONF="$E_DIR/containers.conf"

# e_podman ARGS...: podman on our storage. It execs, so that a background
# e_podman's $! is podman itself (the PID engine_stop signals).
e_podman() {
	exec podman --root "$E_DIR/root" --runroot "$E_DIR/run" --storage-driver vfs "$@"
}

# engine_api METHOD PATH [JSON]: the engine, directly (prints the body).
engine_api() {
	local args=(-sS --max-time 60 --unix-socket "$DOCKER_SOCK" -X "$1")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' -d "$3")
	curl "${args[@]}" "http://docker/v1.41$2"
}

# engine_containers: "name state" per container the engine has (fails if
# the engine does not answer).
engine_containers() {
	local list
	list=$(engine_api GET '/containers/json?all=1') || return 1
	python3 -c 'import json,sys
for c in json.load(sys.stdin): print(c["Names"][0].lstrip("/"), c["State"])' <<<"$list"
}

engine_start() {
	e_podman system service --time=0 "$DOCKER_URL" >>"$E_DIR/service.log" 2>&1 &
	ENGINE_PID=$!
	t_track "$ENGINE_PID"
	for _ in $(seq 1 300); do
		[ "$(curl -s --max-time 2 --unix-socket "$DOCKER_SOCK" http://docker/_ping 2>/dev/null)" = OK ] && return 0
		kill -0 "$ENGINE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$E_DIR/service.log" >&2
	skip "podman system service did not come up (log above)"
}

engine_stop() {
	[ -n "$ENGINE_PID" ] || return 0
	kill -TERM "$ENGINE_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$ENGINE_PID" 2>/dev/null || true
	wait "$ENGINE_PID" 2>/dev/null || true
	ENGINE_PID=
}

engine_kill() {
	[ -n "$ENGINE_PID" ] || return 0
	kill -KILL "$ENGINE_PID" 2>/dev/null || true
	wait "$ENGINE_PID" 2>/dev/null || true
	ENGINE_PID=
}
engine_pause() { kill -STOP "$ENGINE_PID"; }
engine_resume() { kill -CONT "$ENGINE_PID"; }

# Stops the servers (they remove their containers through the engine), then
# whatever containers remain, then the engine; lib.sh's cleanup follows.
engine_cleanup() {
	set +e
	for pid in "${T_PIDS[@]}"; do
		[ "$pid" = "$ENGINE_PID" ] && continue
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		[ "$pid" = "$ENGINE_PID" ] && continue
		for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	done
	for _ in 1 2 3; do
		(e_podman rm -a -f -t 0 >/dev/null 2>&1)
		[ -z "$(e_podman ps -a -q 2>/dev/null)" ] && break
		sleep 1
	done
	engine_stop
	# Whatever still runs (a container the engine could not remove) ends
	# with its monitor, found by the PID files of our run directory.
	for f in "$E_DIR"/run/vfs-containers/*/userdata/conmon.pid "$E_DIR"/run/vfs-containers/*/userdata/pidfile; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	grep -F " $E_DIR/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
}
trap 'e_rc=$?; engine_cleanup; (exit $e_rc); t_cleanup' EXIT

# The image: busybox and its applets, nothing else.
cp "$busybox" "$E_DIR/rootfs/bin/busybox"
for applet in sh cat echo sleep true false ls env pwd head yes wc printf kill trap test touch \
	mkdir rm seq tr grep sed od md5sum dd stat id; do
	ln -sf busybox "$E_DIR/rootfs/bin/$applet"
done
tar -C "$E_DIR/rootfs" -cf "$E_DIR/rootfs.tar" .
(e_podman import "$E_DIR/rootfs.tar" "$IMAGE") >"$E_DIR/import.log" 2>&1 || {
	cat "$E_DIR/import.log" >&2
	fail "podman import of the busybox image failed"
}
engine_start

# Can this machine run a container at all? The engine says why not.
probe=$(engine_api POST /containers/create "{\"Image\":\"$IMAGE\",\"Cmd\":[\"true\"]}")
probe_id=$(echo "$probe" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Id",""))' 2>/dev/null || true)
[ -n "$probe_id" ] || skip "the engine cannot create a container: $probe"
started=$(engine_api POST "/containers/$probe_id/start")
if [ -n "$started" ]; then
	engine_api DELETE "/containers/$probe_id?force=1" >/dev/null || true
	skip "the engine cannot run a container: $started"
fi
engine_api POST "/containers/$probe_id/wait" >/dev/null
engine_api DELETE "/containers/$probe_id?force=1" >/dev/null

# start_docker_server [flags...]: circuitd with the docker kind on our engine.
start_docker_server() {
	start_server --docker --docker-host "$DOCKER_URL" --grace 1 "$@"
}

# mkd PATH < spec: makes a docker element (mkdocker: see docker_readme.sh
# for the original's mkdkr spelling).
mkd() { c mkdocker "$@"; }

# spec ARGS...: a spec for IMAGE running ARGS.
spec() {
	python3 -c 'import json,sys
print(json.dumps({"Image": sys.argv[1], "Path": sys.argv[2], "Args": sys.argv[3:]}))' "$IMAGE" "$@"
}

# engine_lacks NAME_PART: the engine answers and has no container whose
# name contains NAME_PART.
engine_lacks() {
	local list
	list=$(engine_containers) || return 1
	! grep -qF -- "$1" <<<"$list"
}

# engine_has PATTERN: the engine has a container line matching PATTERN.
engine_has() {
	local list
	list=$(engine_containers) || return 1
	grep -q -- "$1" <<<"$list"
}
