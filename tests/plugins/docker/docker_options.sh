#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The service options of the container spec against a real engine, each
# proven from inside the container and by the engine's inspect (peek): User,
# Hostname, Labels (with the element's io.circuit.*), Init (PID 1 is the
# init, a TERM reaches the command), ReadOnly, Tmpfs (object and array
# forms, the size option), Ulimits, Network (none, host with a listener
# reached on 127.0.0.1, container:NAME) and Ports. Bad values are refused in
# one line naming the key, leaving nothing behind.
#
# Ports need an engine network (the test engine runs with netns "none", and
# with ports podman would set up its bridge on the host): they are tested on
# a second podman service started in a network namespace of its own, with a
# private CNI bridge, so that a connection to 127.0.0.1:PORT in that
# namespace reaches a listener in the container without touching the host's
# networking. Every other connection is to the host's 127.0.0.1.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"

# "Network" "host" and "container:..." leave the container's own network
# namespace: refused unless the operator allows them (docker.allow-network).
start_docker_server
for net in host container:other; do
	echo "{\"Image\":\"$IMAGE\",\"Path\":\"true\",\"Network\":\"$net\"}" >"$T_TMP/net.json"
	expect_fail 1 "\"Network\" \"$net\": the container would" \
		bash -c "'$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$SERVER_ID/net <'$T_TMP/net.json'"
done
grep -q 'allowed only with --plugin-option docker.allow-network=container' "$T_TMP/ef.err" ||
	fail "the refusal should name the option that allows it"
engine_lacks "$SERVER_ID.net" || fail "a refused Network reached the engine"
expect_fail 2 '--plugin-option docker.allow-network=bridge: "bridge" is not a network mode to allow' \
	timeout 20 "$CIRCUITD_BIN" -a 127.0.0.1:0 --docker --docker-host "$DOCKER_URL" --plugin-option docker.allow-network=bridge
ok "Network host and container: refused without docker.allow-network, in one line"

start_docker_server --plugin-option docker.allow-network=host,container
X=$SERVER_ID

# mk NAME DICT: makes /$X/NAME from IMAGE and the spec DICT (a Python
# literal, so that shell scripts in it need no JSON escapes).
mk() {
	python3 -c 'import ast,json,sys
d = ast.literal_eval(sys.argv[2]); d["Image"] = sys.argv[1]; print(json.dumps(d))' \
		"$IMAGE" "$2" | mkd "/$X/$1"
}
# run NAME DICT: mk, then its stdout into $T_TMP/NAME.out; it must exit 0.
run() {
	mk "$@"
	c stdout "/$X/$1" >"$T_TMP/$1.out"
	c wait "/$X/$1" >"$T_TMP/$1.wait" || fail "$1 failed: $(cat "$T_TMP/$1.wait" "$T_TMP/$1.out")"
}
# inspect NAME EXPR: the Python expression EXPR over the element's peek
# (the engine's inspect) as d; "<missing: ...>" when it cannot be evaluated
# (peek answers with the latest inspect, which may lag by one).
inspect() {
	c peek "/$X/$1" | python3 -c 'import json,sys
d = json.load(sys.stdin)
try:
    print(eval(sys.argv[1]))
except (KeyError, IndexError, TypeError) as e:
    print("<missing: %r>" % e)' "$2"
}
# want NAME EXPR VALUE: inspect NAME EXPR prints VALUE (within 10 s).
want() {
	local got
	for _ in $(seq 1 50); do
		got=$(inspect "$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.2
	done
	fail "$1: inspect $2 is '$got', wanted '$3'"
}
# within SECONDS 'CONDITION': CONDITION (eval'd at each try, every 0.2 s)
# holds before SECONDS have passed by the clock (a peek takes a while, so
# lib.sh's count of tries would stretch far beyond the time asked for).
within() {
	local secs=$1 end=$((SECONDS + $1))
	shift
	until eval "$*" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "not within ${secs}s: $*"
		sleep 0.2
	done
}
# out_is NAME EXPECTED: NAME's stdout, exactly.
out_is() {
	[ "$(cat "$T_TMP/$1.out")" = "$2" ] || fail "$1 printed '$(cat "$T_TMP/$1.out")', wanted '$2'"
}
# high_port [PREFIX...]: a random port in 20000-32767 (below the kernel's
# ephemeral range, where engines pick theirs) that nothing holds, for TCP or
# UDP, checked by binding it (no listen) with PREFIX (e.g. nsenter ...).
high_port() {
	"$@" python3 - <<'PY'
import random, socket
while True:
    p = random.randint(20000, 32767)
    free = True
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("0.0.0.0", p))
        except OSError:
            free = False
        s.close()
    if free:
        print(p)
        break
PY
}

# ---- bad values: one line naming the key, no element, no container --------
bad() { # bad SUBSTRING JSON
	expect_fail 2 "$1" bash -c "echo '$2' | '$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/bad"
}
bad '"Ports"[0] "80/icmp": the protocol must be tcp, udp or sctp' '{"Image":"x","Ports":["80/icmp"]}'
bad '"Ports"[1] "8000-8001:80": port ranges are not supported' '{"Image":"x","Ports":["80","8000-8001:80"]}'
bad '"Ports" cannot be published with "Network" "none"' '{"Image":"x","Ports":["80"],"Network":"none"}'
bad '"Network" "my net": expected none, host, bridge' '{"Image":"x","Network":"my net"}'
bad '"User" "a b": expected uid, uid:gid, name or name:group' '{"Image":"x","User":"a b"}'
bad '"Hostname" "-web": not a valid host name' '{"Image":"x","Hostname":"-web"}'
bad '"Labels" "io.circuit.anchor": names under "io.circuit."' '{"Image":"x","Labels":{"io.circuit.anchor":"/X/y"}}'
bad '"Labels" "tier" is not a string' '{"Image":"x","Labels":{"tier":1}}'
bad '"Init" must be true or false' '{"Image":"x","Init":"yes"}'
bad '"ReadOnly" must be true or false' '{"Image":"x","ReadOnly":1}'
bad '"Tmpfs" "run": the path must be absolute' '{"Image":"x","Tmpfs":{"run":""}}'
bad '"Tmpfs"[0] "/": the root file system cannot be a tmpfs' '{"Image":"x","Tmpfs":["/"]}'
bad '"Ulimits" "nofiles": unknown limit' '{"Image":"x","Ulimits":{"nofiles":1}}'
bad '"Ulimits" "nofile": "Soft" 4096 is above "Hard" 1024' '{"Image":"x","Ulimits":{"nofile":{"Soft":4096,"Hard":1024}}}'
c ls "/$X/..." | grep -q bad && fail "a refused spec left an element behind"
engine_lacks bad || fail "a refused spec reached the engine"
ok "bad option values: one line naming the key, nothing left behind"

# What only the engine can know is its refusal, also in one line.
expect_fail 1 nosuchuser mk baduser "{'User': 'nosuchuser', 'Path': 'true'}"
expect_fail 1 nosuchnet mk badnet "{'Network': 'nosuchnet', 'Path': 'true'}"
engine_lacks baduser || fail "a container of an unknown user was left behind"
ok "an unknown user or network: mkdkr fails with the engine's words in one line"

# ---- User -----------------------------------------------------------------
run root "{'Path': 'sh', 'Args': ['-c', 'id -u; id -g']}"
out_is root $'0\n0'
run user "{'User': '1234:5678', 'Path': 'sh', 'Args': ['-c', 'id -u; id -g']}"
out_is user $'1234\n5678'
want user 'd["Config"]["User"]' 1234:5678
run uid "{'User': '4321', 'Path': 'id', 'Args': ['-u']}"
out_is uid 4321
ok "User: uid:gid and uid run the command as them (root without)"

# ---- Hostname ---------------------------------------------------------------
run host "{'Hostname': 'web-1.circuit-test', 'Path': 'sh', 'Args': ['-c', 'busybox hostname; cat /etc/hostname']}"
out_is host $'web-1.circuit-test\nweb-1.circuit-test'
want host 'd["Config"]["Hostname"]' web-1.circuit-test
ok "Hostname: the kernel's host name and /etc/hostname"

# ---- Labels -----------------------------------------------------------------
run lab "{'Labels': {'com.example.tier': 'web', 'team': 'a b', 'empty': ''}, 'Path': 'true'}"
want lab 'd["Config"]["Labels"]["com.example.tier"]' web
want lab 'd["Config"]["Labels"]["team"]' "a b"
want lab 'repr(d["Config"]["Labels"]["empty"])' "''"
want lab 'd["Config"]["Labels"]["io.circuit.anchor"]' "/$X/lab"
want lab 'd["Config"]["Labels"]["io.circuit.server"]' "$X"
want lab 'all(d["Config"]["Labels"].get("io.circuit." + k) for k in ("owner", "host"))' True
# The engine filters on them, as on its own.
found=$(engine_api GET "/containers/json?all=1&filters=$(python3 -c 'import json,urllib.parse
print(urllib.parse.quote(json.dumps({"label": ["com.example.tier=web"]})))')" |
	python3 -c 'import json,sys; print(" ".join(c["Labels"]["io.circuit.anchor"] for c in json.load(sys.stdin)))')
[ "$found" = "/$X/lab" ] || fail "the engine's label filter found '$found'"
ok "Labels: the user's next to io.circuit.*, filtered on by the engine"

# ---- Init -------------------------------------------------------------------
run noinit "{'Path': 'sh', 'Args': ['-c', 'echo pid=\$\$; busybox readlink /proc/1/exe']}"
out_is noinit $'pid=1\n/bin/busybox'
init_script='trap "echo got-term; exit 7" TERM; echo pid=$$ ppid=$PPID; echo init=$(busybox readlink /proc/1/exe); echo ready; while :; do sleep 0.1; done'
rc=0
python3 -c 'import json,sys
print(json.dumps({"Image": sys.argv[1], "Init": True, "Path": "sh", "Args": ["-c", sys.argv[2]]}))' \
	"$IMAGE" "$init_script" | mkd "/$X/init" 2>"$T_TMP/init.err" || rc=$?
if [ $rc != 0 ]; then
	grep -q container-init "$T_TMP/init.err" &&
		fail "the engine has no init for Init: install catatonit (podman 4.3's API looks only at /usr/libexec/podman/catatonit): $(cat "$T_TMP/init.err")"
	fail "Init: mkdkr failed: $(cat "$T_TMP/init.err")"
fi
c stdout "/$X/init" >"$T_TMP/init.out" &
reader=$!
t_track $reader
within 30 'grep -qx ready "$T_TMP/init.out"'
grep -qx 'pid=1 ppid=0' "$T_TMP/init.out" && fail "with Init the command is still PID 1"
grep -Eqx 'pid=[0-9]+ ppid=1' "$T_TMP/init.out" || fail "with Init the command is not a child of PID 1: $(cat "$T_TMP/init.out")"
grep -q '^init=/bin/busybox$' "$T_TMP/init.out" && fail "with Init, PID 1 is still the command"
grep -Eq '^init=/.+' "$T_TMP/init.out" || fail "PID 1's program is unknown: $(cat "$T_TMP/init.out")"
want init 'd["HostConfig"]["Init"]' True
c signal TERM "/$X/init"
rc=0
c wait "/$X/init" >"$T_TMP/init.wait" || rc=$?
[ $rc = 5 ] || fail "wait after TERM exited $rc: $(cat "$T_TMP/init.wait")"
wait $reader
grep -qx got-term "$T_TMP/init.out" || fail "the TERM did not reach the command: $(cat "$T_TMP/init.out")"
[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ExitCode"])' <"$T_TMP/init.wait")" = 7 ] ||
	fail "the command's exit code did not come through the init: $(cat "$T_TMP/init.wait")"
ok "Init: PID 1 is $(sed -n 's/^init=//p' "$T_TMP/init.out"), not the command; a TERM reaches the command (exit 7 through the init)"

# ---- ReadOnly and Tmpfs -------------------------------------------------------
rw_script='echo x >/rootfile && echo root-writable; grep " /data " /proc/mounts || echo data-not-tmpfs'
run rw "{'Path': 'sh', 'Args': ['-c', '$rw_script']}"
out_is rw $'root-writable\ndata-not-tmpfs'
ro_script='echo x >/rootfile 2>/dev/null && echo root-writable; echo y >/data/f && cat /data/f
grep " /data " /proc/mounts | cut -d" " -f3
grep " /data " /proc/mounts | grep -q size=64k && echo size=64k
dd if=/dev/zero of=/data/big bs=1k count=100 2>/dev/null || echo data-full'
run ro "{'ReadOnly': True, 'Tmpfs': {'/data': 'size=64k'}, 'Path': 'sh', 'Args': ['-c', '''$ro_script''']}"
out_is ro $'y\ntmpfs\nsize=64k\ndata-full'
want ro 'd["HostConfig"]["ReadonlyRootfs"]' True
# (podman's inspect adds its default options, and its own tmpfs for /run,
# /tmp and /var/tmp under ReadOnly; Docker shows the spec's.)
want ro '"size=64k" in d["HostConfig"]["Tmpfs"]["/data"].split(",")' True
ok "ReadOnly: / refuses writes (and takes them without); the Tmpfs path is writable, 64k at most"

# (mode= on /scratch, which the image lacks: podman gives a tmpfs over an
# image directory that directory's mode, whatever mode= says.)
ta_script='for p in /scratch /data; do grep " $p " /proc/mounts | cut -d" " -f3; done
grep " /data " /proc/mounts | grep -q size=32k && echo size=32k; stat -c %a /scratch'
run tarr "{'Tmpfs': ['/scratch:mode=1777', '/data:size=32k'], 'Path': 'sh', 'Args': ['-c', '''$ta_script''']}"
out_is tarr $'tmpfs\ntmpfs\nsize=32k\n1777'
want tarr '"size=32k" in d["HostConfig"]["Tmpfs"]["/data"].split(",") and "mode=1777" in d["HostConfig"]["Tmpfs"]["/scratch"].split(",")' True
ok "Tmpfs: an array of paths (with options after a colon), mounted as tmpfs with them"

# ---- Ulimits ------------------------------------------------------------------
run ul0 "{'Path': 'sh', 'Args': ['-c', 'ulimit -n']}"
[ "$(cat "$T_TMP/ul0.out")" != 512 ] || fail "the engine's default nofile is 512 already: the test proves nothing"
run ul "{'Ulimits': {'nofile': {'Soft': 512, 'Hard': 768}, 'nproc': 300, 'core': 0}, 'Path': 'sh', 'Args': ['-c', 'ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu; ulimit -c']}"
out_is ul $'512\n768\n300\n300\n0'
# (podman's inspect names them RLIMIT_NOFILE and so on, and adds its own.)
want ul 'sorted((u["Name"].lower().replace("rlimit_", ""), u["Soft"], u["Hard"]) for u in d["HostConfig"]["Ulimits"] if u["Name"].lower().replace("rlimit_", "") in ("nofile", "nproc", "core"))' \
	"[('core', 0, 0), ('nofile', 512, 768), ('nproc', 300, 300)]"
ok "Ulimits: nofile soft 512 hard 768, nproc 300, core 0 inside (the default was $(cat "$T_TMP/ul0.out"))"

# ---- Network ------------------------------------------------------------------
host_ns=$(stat -L -c %i /proc/self/ns/net)
run netnone "{'Network': 'none', 'Path': 'sh', 'Args': ['-c', 'ls /sys/class/net; stat -L -c ns=%i /proc/self/ns/net']}"
[ "$(grep -v '^ns=' "$T_TMP/netnone.out")" = lo ] || fail "Network none has more than lo: $(cat "$T_TMP/netnone.out")"
grep -qx "ns=$host_ns" "$T_TMP/netnone.out" && fail "Network none runs in the host's network namespace"
want netnone 'd["HostConfig"]["NetworkMode"]' none
ok "Network none: only lo, in a namespace of its own"

# host: the container's listener on the host's 127.0.0.1, reached from here.
port=$(high_port)
# (sh stays PID 1 with a trap: PID 1 ignores a TERM it has no handler for.)
nh_script="stat -L -c ns=%i /proc/self/ns/net; mkdir /tmp/www && echo token-$X >/tmp/www/t || exit 1
busybox httpd -f -p 127.0.0.1:$port -h /tmp/www & trap 'kill \$!; exit 0' TERM; wait"
mk nethost "{'Network': 'host', 'Path': 'sh', 'Args': ['-c', '''$nh_script''']}"
within 30 '[ "$(curl -s --noproxy "*" --max-time 2 http://127.0.0.1:$port/t)" = "token-$X" ]'
want nethost 'd["HostConfig"]["NetworkMode"]' host
c signal TERM "/$X/nethost"
c stdout "/$X/nethost" >"$T_TMP/nethost.out"
c wait "/$X/nethost" >/dev/null || fail "the listener did not end at TERM"
grep -qx "ns=$host_ns" "$T_TMP/nethost.out" || fail "Network host is not the host's namespace: $(cat "$T_TMP/nethost.out") (host: $host_ns)"
ok "Network host: the host's namespace; a listener in the container answered on 127.0.0.1:$port"

# container:NAME: the namespace of another element's container.
mk netbase "{'Path': 'sleep', 'Args': ['60']}"
within 30 '[ "$(inspect netbase "d[\"State\"][\"Pid\"] > 0")" = True ]'
base_name=$(inspect netbase 'd["Name"].lstrip("/")')
base_ns=$(stat -L -c %i "/proc/$(inspect netbase 'd["State"]["Pid"]')/ns/net")
run netjoin "{'Network': 'container:$base_name', 'Path': 'stat', 'Args': ['-L', '-c', 'ns=%i', '/proc/self/ns/net']}"
out_is netjoin "ns=$base_ns"
c scrub "/$X/netbase"
ok "Network container:NAME: the other container's namespace"

# ---- Ports, on an engine in a network namespace of its own ----------------------
N_DIR="$E_DIR/n"
N_SOCK="$N_DIR/podman.sock"
N_PID=
N_SERVER_PID=
mkdir -p "$N_DIR"/{root,run,tmp,cni,ipam}
cat >"$N_DIR/containers.conf" <<EOF
[containers]
netns = "bridge"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "$(basename "$runtime")"
tmp_dir = "$N_DIR/tmp"
EOF
# podman's default network, "podman", on a bridge of this namespace only,
# with its address leases under $N_DIR (not /var/lib/cni).
cat >"$N_DIR/cni/circuit-test.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "podman", "plugins": [
  {"type": "bridge", "bridge": "circuit0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$N_DIR/ipam", "routes": [{"dst": "0.0.0.0/0"}],
            "ranges": [[{"subnet": "10.213.0.0/24", "gateway": "10.213.0.1"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "firewall"}]}
EOF
n_podman() {
	CONTAINERS_CONF="$N_DIR/containers.conf" exec podman --root "$N_DIR/root" --runroot "$N_DIR/run" \
		--storage-driver vfs --network-config-dir "$N_DIR/cni" "$@"
}
# Runs before engine.sh's cleanup: this server, then its containers (from
# inside the namespace, where their network lives), then the engine.
netns_cleanup() {
	set +e
	if [ -n "$N_SERVER_PID" ]; then
		kill -TERM "$N_SERVER_PID" 2>/dev/null
		for _ in $(seq 1 150); do kill -0 "$N_SERVER_PID" 2>/dev/null || break; sleep 0.05; done
	fi
	if [ -n "$N_PID" ] && kill -0 "$N_PID" 2>/dev/null; then
		(nsenter --net="/proc/$N_PID/ns/net" -- bash -c "$(declare -f n_podman); N_DIR='$N_DIR'; n_podman rm -a -f -t 0" >/dev/null 2>&1)
		kill -TERM "$N_PID" 2>/dev/null
		for _ in $(seq 1 100); do kill -0 "$N_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$N_PID" 2>/dev/null
		wait "$N_PID" 2>/dev/null
	fi
	for f in "$N_DIR"/run/vfs-containers/*/userdata/conmon.pid "$N_DIR"/run/vfs-containers/*/userdata/pidfile; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	return 0
}
trap 'e_rc=$?; netns_cleanup; engine_cleanup; (exit $e_rc); t_cleanup' EXIT

unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh \
	bash -c "$(declare -f n_podman); N_DIR='$N_DIR'; n_podman system service --time=0 unix://$N_SOCK" \
	>>"$N_DIR/service.log" 2>&1 &
N_PID=$!
for _ in $(seq 1 300); do
	[ "$(curl -s --max-time 2 --unix-socket "$N_SOCK" http://docker/_ping 2>/dev/null)" = OK ] && break
	kill -0 "$N_PID" 2>/dev/null || break
	sleep 0.1
done
[ "$(curl -s --max-time 2 --unix-socket "$N_SOCK" http://docker/_ping 2>/dev/null)" = OK ] ||
	fail "the engine in its own network namespace did not come up: $(tail -5 "$N_DIR/service.log")"
N_NET="/proc/$N_PID/ns/net"
[ "$(stat -L -c %i "$N_NET")" != "$host_ns" ] || fail "the second engine runs in the host's network namespace"
(n_podman import "$E_DIR/rootfs.tar" "$IMAGE") >"$N_DIR/import.log" 2>&1 ||
	fail "podman import into the second engine failed: $(cat "$N_DIR/import.log")"
start_docker_server --docker-host "unix://$N_SOCK"
N_SERVER_PID=$SERVER_PID
X=$SERVER_ID

in_ns() { nsenter --net="$N_NET" -- "$@"; }
# fetch PORT: what a TCP connection to 127.0.0.1:PORT in the namespace reads.
fetch() {
	in_ns python3 -c 'import socket,sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
data = b""
while True:
    b = s.recv(4096)
    if not b: break
    data += b
print(data.decode().strip())' "$1"
}
p1=$(high_port in_ns)
p2=$(high_port in_ns)
while [ "$p2" = "$p1" ]; do p2=$(high_port in_ns); done
mk ports "{'Ports': ['127.0.0.1:$p1:80', '$p2:81/udp', '82'], 'Path': 'sh', 'Args': ['-c', '(echo picked-$X | busybox nc -l -p 82) & echo hello-$X | busybox nc -l -p 80; wait']}"
within 30 '[[ "$(inspect ports "d[\"NetworkSettings\"][\"Ports\"][\"82/tcp\"][0][\"HostPort\"]")" =~ ^[0-9]+$ ]]'
want ports 'd["HostConfig"]["PortBindings"]["80/tcp"]' "[{'HostIp': '127.0.0.1', 'HostPort': '$p1'}]"
want ports 'd["HostConfig"]["PortBindings"]["81/udp"]' "[{'HostIp': '', 'HostPort': '$p2'}]"
want ports 'sorted(d["Config"]["ExposedPorts"])' "['80/tcp', '81/udp', '82/tcp']"
want ports 'd["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]' "$p1"
picked=$(inspect ports 'd["NetworkSettings"]["Ports"]["82/tcp"][0]["HostPort"]')
[ "$picked" != "$p1" ] && [ "$picked" != "$p2" ] || fail "the engine's pick for 82/tcp is $picked"
within 30 '[ "$(fetch $p1 2>/dev/null)" = "hello-$X" ]'
within 30 '[ "$(fetch $picked 2>/dev/null)" = "picked-$X" ]'
c wait "/$X/ports" >/dev/null || fail "the container with ports failed"
ok "Ports: 127.0.0.1:$p1 reached port 80 in the container, the engine's pick $picked reached 82; inspect shows $p1, $p2/udp and the pick"
server_alive
