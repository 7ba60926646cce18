# SPDX-License-Identifier: Apache-2.0
# tests/plugins/docker/engine.sh - sourced by the docker tests after lib.sh.
# Runs a private Docker-API engine, chosen by CIRCUIT_TEST_ENGINE:
#
#  podman (default): podman's compatible service, as root, with its own
#    storage, run and tmp directories under $T_TMP (the machine's podman
#    state is never touched), runc, the cgroupfs manager, a file event log,
#    no network namespace setup and modest ulimits (what works on CI
#    runners and in nested containers).
#  dockerd: Docker's own engine (Debian's docker.io, 20.10), with vfs
#    storage, no iptables, no bridge, live-restore (unless the test set
#    ENGINE_LIVE_RESTORE=0 before sourcing this), the cgroupfs driver under
#    a cgroup parent of its own, and private data-root, exec-root, PID
#    file, socket, daemon.json (so neither /etc/docker/daemon.json nor
#    /etc/docker/key.json is read or written) and containerd namespaces.
#    dockerd starts its own containerd below the exec-root, unless a system
#    containerd answers at /run/containerd/containerd.sock: dockerd 20.10
#    then uses that one, and our namespaces keep its containers apart from
#    the machine's Docker. The machine's docker.service is never used.
#
# The test image is imported from a busybox-static root filesystem (podman
# import; for dockerd POST /images/create?fromSrc=-): no registry is ever
# contacted.
#
# Sets ENGINE (podman|dockerd), DOCKER_SOCK, DOCKER_URL (unix://...),
# IMAGE. Functions: engine_start (also again after engine_stop or
# engine_kill: a restart on the same storage), engine_stop (SIGTERM),
# engine_kill (SIGKILL of the engine's API process: podman's containers and,
# with live-restore, dockerd's keep running), engine_pause / engine_resume
# (SIGSTOP / SIGCONT of that process), engine_api METHOD PATH [JSON],
# engine_containers, engine_has, engine_lacks, start_docker_server
# [circuitd flags...], spec, mkd.
#
# Exits 77 ("skip: <why>", shown by ctest as skipped) only when the machine
# cannot run containers at all: no engine installed, not root, or the
# engine cannot run a trivial container (the engine's own words are
# printed). Under CI (CI=true) the same line is a failure (exit 1): CI must
# not pass by skipping. At exit, everything started here is stopped by PID
# (servers, containers through the API, the engine and, for dockerd, its
# containerd and any shim or container process of ours left), and whatever
# is mounted under our directories is unmounted.

ENGINE=${CIRCUIT_TEST_ENGINE:-podman}
E_DIR="$T_TMP/engine"
IMAGE=localhost/circuit-test:latest
ENGINE_PID=
E_STARTED=0

skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $* (CI=true: no skipping)" >&2
		exit 1
	fi
	echo "skip: $*"
	exit 77
}

case "$ENGINE" in
podman | dockerd) ;;
*) fail "CIRCUIT_TEST_ENGINE=$ENGINE: the engines are podman and dockerd" ;;
esac

[ "$(id -u)" = 0 ] || skip "the test engine runs as root ($ENGINE as $(id -un) needs a rootless setup)"
runtime=$(command -v runc || command -v crun || true)
[ -n "$runtime" ] || skip "no OCI runtime (apt-get install runc)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || fail "busybox is missing (apt-get install busybox-static): it makes the test image"
if ldd "$busybox" >/dev/null 2>&1; then
	fail "$busybox is dynamically linked; the test image needs busybox-static"
fi
mkdir -p "$E_DIR"/{rootfs/bin,rootfs/tmp,rootfs/data}

# --- podman -----------------------------------------------------------------
if [ "$ENGINE" = podman ]; then
	command -v podman >/dev/null || skip "podman is not installed (apt-get install podman runc), so no container engine"
	DOCKER_SOCK="$E_DIR/podman.sock"
	mkdir -p "$E_DIR"/{root,run,tmp}
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
fi

# e_podman ARGS...: podman on our storage. It execs, so that a background
# e_podman's $! is podman itself (the PID engine_stop signals).
e_podman() {
	exec podman --root "$E_DIR/root" --runroot "$E_DIR/run" --storage-driver vfs "$@"
}

# --- dockerd ----------------------------------------------------------------
if [ "$ENGINE" = dockerd ]; then
	command -v dockerd >/dev/null || skip "dockerd is not installed (apt-get install docker.io), so no Docker engine"
	command -v containerd >/dev/null || skip "containerd is not installed (apt-get install containerd)"
	DOCKER_SOCK="$E_DIR/docker.sock"
	# dockerd puts unix sockets below its exec-root (the deepest:
	# containerd/containerd.sock.ttrpc); a socket path has 108 bytes.
	if [ ${#E_DIR} -le 48 ]; then
		E_XROOT="$E_DIR/x"
		mkdir -p "$E_XROOT"
	else
		E_XROOT=$(mktemp -d /tmp/circuit-dx.XXXXXX)
	fi
	# Names of our own, unique to this run: containerd namespaces and the
	# cgroup parent (so every container process of ours is found by its
	# cgroup, and nothing is shared with the machine's Docker).
	E_NS="circuit-test-$(basename "$T_TMP" | sed 's/^circuit-test\.//; s/[^A-Za-z0-9]//g')"
	E_CGROUP="/$E_NS"
	E_SYS_CONTAINERD=/run/containerd/containerd.sock
	echo "{\"deprecated-key-path\": \"$E_DIR/key.json\"}" >"$E_DIR/daemon.json"
	E_DOCKERD_ARGS=(--config-file "$E_DIR/daemon.json"
		--data-root "$E_DIR/data" --exec-root "$E_XROOT" --pidfile "$E_DIR/dockerd.pid"
		-H "unix://$DOCKER_SOCK"
		--containerd-namespace "$E_NS" --containerd-plugins-namespace "$E_NS-plugins"
		--storage-driver vfs --iptables=false --ip-forward=false --bridge=none
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$E_CGROUP")
	[ "${ENGINE_LIVE_RESTORE:-1}" = 0 ] || E_DOCKERD_ARGS+=(--live-restore)
fi
DOCKER_URL="unix://$DOCKER_SOCK"

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

e_log() { [ "$ENGINE" = podman ] && echo "$E_DIR/service.log" || echo "$E_DIR/dockerd.log"; }

# e_alive PID: PID runs and is no zombie.
e_alive() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# e_containerd_pid: the PID of the containerd dockerd started for us, if it
# runs (its PID file below our exec-root, checked against its command line).
e_containerd_pid() {
	local pid
	[ "$ENGINE" = dockerd ] || return 1
	pid=$(cat "$E_XROOT/containerd/containerd.pid" 2>/dev/null) || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] && e_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$E_XROOT/containerd/" || return 1
	echo "$pid"
}

# e_wait_gone PID TENTHS: waits (bounded) for PID to end.
e_wait_gone() {
	for _ in $(seq 1 "$2"); do e_alive "$1" || return 0; sleep 0.1; done
	return 1
}

# e_up: starts the engine's API process and waits for its /_ping (30 s at
# most). Fails (1) if it did not come up, leaving it stopped.
e_up() {
	if [ "$ENGINE" = podman ]; then
		e_podman system service --time=0 "$DOCKER_URL" >>"$E_DIR/service.log" 2>&1 &
	else
		# dockerd reuses the containerd its PID file names if kill -0
		# reaches it, which a zombie not yet reaped by init does.
		local f="$E_XROOT/containerd/containerd.pid"
		[ -f "$f" ] && ! e_containerd_pid >/dev/null && rm -f "$f"
		echo "--- dockerd ${E_DOCKERD_ARGS[*]}" >>"$E_DIR/dockerd.log"
		dockerd "${E_DOCKERD_ARGS[@]}" >>"$E_DIR/dockerd.log" 2>&1 &
	fi
	ENGINE_PID=$!
	t_track "$ENGINE_PID"
	for _ in $(seq 1 300); do
		[ "$(curl -s --max-time 2 --unix-socket "$DOCKER_SOCK" http://docker/_ping 2>/dev/null)" = OK ] && return 0
		kill -0 "$ENGINE_PID" 2>/dev/null || break
		sleep 0.1
	done
	engine_stop
	return 1
}

engine_start() {
	[ -z "$ENGINE_PID" ] || fail "engine_start: the engine runs already (PID $ENGINE_PID)"
	if e_up; then
		E_STARTED=$((E_STARTED + 1))
		return 0
	fi
	grep -v 'module=grpc' "$(e_log)" | tail -n 30 >&2
	[ "$E_STARTED" = 0 ] || fail "$ENGINE did not come back on the same storage (its log above)"
	[ "$ENGINE" = podman ] && skip "podman system service did not come up (log above)"
	skip "dockerd did not come up (log above)"
}

# e_end SIGNAL: sends SIGNAL to the engine's API process (resumed first, in
# case it was paused) and waits for it to end (SIGKILL after 30 s). For
# dockerd, then waits for its containerd to end too (dockerd stops it on
# SIGTERM; the kernel kills it with SIGKILL when dockerd dies), so that a
# restart starts a fresh one.
e_end() {
	local ctrd
	[ -n "$ENGINE_PID" ] || return 0
	ctrd=$(e_containerd_pid) || ctrd=
	kill -CONT "$ENGINE_PID" 2>/dev/null || true
	kill "-$1" "$ENGINE_PID" 2>/dev/null || true
	e_wait_gone "$ENGINE_PID" 300 || kill -KILL "$ENGINE_PID" 2>/dev/null || true
	wait "$ENGINE_PID" 2>/dev/null || true
	ENGINE_PID=
	if [ -n "$ctrd" ] && ! e_wait_gone "$ctrd" 100; then
		kill -KILL "$ctrd" 2>/dev/null || true
		e_wait_gone "$ctrd" 50 || true
	fi
}
engine_stop() { e_end TERM; }
engine_kill() { e_end KILL; }

# engine_pause / engine_resume: SIGSTOP / SIGCONT of the engine's API
# process (its containers, and dockerd's containerd, run on).
# (kill returns before every thread of the engine has stopped: wait until
# the kernel shows it stopped, state T, so that nothing answers after.)
engine_pause() {
	kill -STOP "${ENGINE_PID:?engine_pause: no engine runs}"
	local t stopped
	for _ in $(seq 1 100); do
		stopped=1
		for t in /proc/"$ENGINE_PID"/task/*/stat; do
			[ "$(cut -d' ' -f3 "$t" 2>/dev/null)" = T ] || stopped=0
		done
		[ "$stopped" = 1 ] && return 0
		sleep 0.05
	done
	fail "engine_pause: the engine ($ENGINE_PID) did not stop"
}
engine_resume() { kill -CONT "${ENGINE_PID:?engine_resume: no engine runs}"; }

# e_remove_all: removes every container through the API (3 rounds at most).
e_remove_all() {
	local ids id
	for _ in 1 2 3; do
		ids=$(engine_api GET '/containers/json?all=1' 2>/dev/null | python3 -c 'import json,sys
for c in json.load(sys.stdin): print(c["Id"])' 2>/dev/null) || return 1
		[ -n "$ids" ] || return 0
		for id in $ids; do
			curl -s --max-time 30 --unix-socket "$DOCKER_SOCK" -X DELETE \
				"http://docker/v1.41/containers/$id?force=1&v=1" >/dev/null 2>&1
		done
		sleep 0.5
	done
	return 1
}

# e_our_cgroups: the directories of our cgroup parent, in every hierarchy.
e_our_cgroups() {
	find /sys/fs/cgroup -maxdepth 2 -type d -name "${E_CGROUP#/}" 2>/dev/null
}

# e_shim_pids: containerd shims of ours: their -address lies under our
# exec-root, or their -namespace is one of ours (a system containerd's).
e_shim_pids() {
	python3 - "$E_XROOT" "$E_NS" <<'PY'
import os, sys
xroot, ns = sys.argv[1], sys.argv[2]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        a = open("/proc/%s/cmdline" % pid, "rb").read().decode(errors="replace").split("\0")
    except OSError:
        continue
    if not os.path.basename(a[0]).startswith("containerd-shim"):
        continue
    val = lambda k: a[a.index(k) + 1] if k in a[:-1] else ""
    if val("-address").startswith(xroot + "/") or val("-namespace") in (ns, ns + "-plugins"):
        print(pid)
PY
}

# e_dockerd_leftovers: what a dockerd that could not remove everything
# left: its containerd, our containers' processes (by cgroup), our shims
# and their sockets, our cgroups, the namespaces in a system containerd.
e_dockerd_leftovers() {
	local pid cg f addr dir
	pid=$(e_containerd_pid) && {
		kill -TERM "$pid"
		e_wait_gone "$pid" 100 || kill -KILL "$pid"
	}
	for cg in $(e_our_cgroups); do
		for f in $(find "$cg" -name cgroup.procs 2>/dev/null); do
			for pid in $(cat "$f" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		done
	done
	for pid in $(e_shim_pids); do kill -KILL "$pid" 2>/dev/null; done
	for f in "$E_XROOT"/containerd/daemon/io.containerd.runtime.v2.task/*/*/address \
		/run/containerd/io.containerd.runtime.v2.task/"$E_NS"/*/address; do
		[ -f "$f" ] || continue
		addr=$(cat "$f")
		addr=${addr#unix://}
		[[ "$addr" =~ ^/run/containerd/s/[0-9a-f]{64}$ ]] && [ -S "$addr" ] && rm -f "$addr"
	done
	for cg in $(e_our_cgroups); do
		for _ in 1 2 3 4 5; do
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$cg" ] || break
			sleep 0.2
		done
	done
	# A system containerd keeps our namespaces (in its metadata) and their
	# empty task directories: they go, if empty.
	if [ -S "$E_SYS_CONTAINERD" ] && command -v ctr >/dev/null; then
		timeout 10 ctr -a "$E_SYS_CONTAINERD" namespaces rm "$E_NS" "$E_NS-plugins" >/dev/null 2>&1
		for dir in /run/containerd /var/lib/containerd; do
			rmdir "$dir/io.containerd.runtime.v2.task/$E_NS" "$dir/io.containerd.runtime.v2.task/$E_NS-plugins" 2>/dev/null
		done
	fi
}

# Stops the servers (they remove their containers through the engine), then
# whatever containers remain (through the API, with the engine started
# again if the test left it stopped), then the engine and what it left;
# lib.sh's cleanup follows.
engine_cleanup() {
	set +e
	local pid dir
	[ -n "$ENGINE_PID" ] && kill -CONT "$ENGINE_PID" 2>/dev/null
	for pid in "${T_PIDS[@]}"; do
		[ "$pid" = "$ENGINE_PID" ] && continue
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		[ "$pid" = "$ENGINE_PID" ] && continue
		for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	done
	if [ "$E_STARTED" -gt 0 ]; then
		[ -n "$ENGINE_PID" ] && ! kill -0 "$ENGINE_PID" 2>/dev/null && ENGINE_PID=
		[ -n "$ENGINE_PID" ] || e_up >/dev/null 2>&1
		[ -n "$ENGINE_PID" ] && e_remove_all
	fi
	if [ "$ENGINE" = podman ]; then
		for _ in 1 2 3; do
			[ -z "$(e_podman ps -a -q 2>/dev/null)" ] && break
			(e_podman rm -a -f -t 0 >/dev/null 2>&1)
			sleep 1
		done
	fi
	engine_stop
	if [ "$ENGINE" = podman ]; then
		# Whatever still runs (a container the engine could not remove)
		# ends with its monitor, found by the PID files of our run directory.
		for f in "$E_DIR"/run/vfs-containers/*/userdata/conmon.pid "$E_DIR"/run/vfs-containers/*/userdata/pidfile; do
			[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
		done
	else
		e_dockerd_leftovers
	fi
	for dir in "$E_DIR" "${E_XROOT:-$E_DIR}"; do
		grep -F " $dir/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
	done
	[ -n "${E_XROOT:-}" ] && [[ "$E_XROOT" != "$T_TMP"/* ]] && rm -rf "$E_XROOT"
}
trap 'e_rc=$?; engine_cleanup; (exit $e_rc); t_cleanup' EXIT

# The image: busybox and its applets, nothing else.
cp "$busybox" "$E_DIR/rootfs/bin/busybox"
for applet in sh cat echo sleep true false ls env pwd head yes wc printf kill trap test touch \
	mkdir rm seq tr grep sed od md5sum dd stat id; do
	ln -sf busybox "$E_DIR/rootfs/bin/$applet"
done
tar -C "$E_DIR/rootfs" -cf "$E_DIR/rootfs.tar" .
if [ "$ENGINE" = podman ]; then
	(e_podman import "$E_DIR/rootfs.tar" "$IMAGE") >"$E_DIR/import.log" 2>&1 || {
		cat "$E_DIR/import.log" >&2
		fail "podman import of the busybox image failed"
	}
	engine_start
else
	engine_start
	curl -sS --max-time 120 --unix-socket "$DOCKER_SOCK" -X POST -H 'Content-Type: application/x-tar' \
		--data-binary @"$E_DIR/rootfs.tar" \
		"http://docker/v1.41/images/create?fromSrc=-&repo=${IMAGE%:*}&tag=${IMAGE##*:}" >"$E_DIR/import.log" 2>&1
	engine_api GET "/images/$IMAGE/json" 2>/dev/null | grep -q '"Id":"sha256:' || {
		cat "$E_DIR/import.log" >&2
		fail "importing the busybox image into dockerd failed"
	}
fi

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
