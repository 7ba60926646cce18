#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deb.sh - the Debian packages as an operator gets them. Builds them
# (packaging/build-debs.sh, a /usr build of its own), checks them with
# lintian (every tag must be explained in docs/packaging.md), installs them
# into this machine with dpkg -i (circuit and one plugin first, then the
# rest), checks the unit's hardening and the accounts postinst makes (the
# group circuit, the user circuit-job), runs the installed circuitd as the
# unit does (root, group circuit, only the unit's capabilities, umask 077,
# jobs as circuit-job) with no plugin flags, drives a process through the
# installed circuit (it runs as circuit-job and cannot signal circuitd), checks only
# the installed plugins load, builds the SDK examples out of tree against the
# installed libcircuit-dev with pkg-config, then removes everything: after
# dpkg -r only the conffile is left, after dpkg -P nothing.
# CIRCUIT_DEB_BUILD_DIR=DIR tests the packages build-debs.sh made in DIR
# instead of building them. Root only (it installs packages); refuses to touch a machine that already
# has circuit packages, a circuit or circuit-job user or group, or /etc/default/circuitd.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: installs packages into this machine: run as root"
	exit 77
fi
if grep -q '^CIRCUIT_SANITIZE:BOOL=ON' "${CIRCUIT_BUILD_DIR:?run through ctest}/CMakeCache.txt"; then
	# The packages are built from source by this test, never sanitized:
	# running it again under the sanitizer build would test the same thing.
	echo "SKIP: a sanitizer build; the packages are tested from the plain build"
	exit 77
fi
source "$CIRCUIT_TESTLIB"
# The installed circuitd must find its plugins by itself.
unset CIRCUIT_PLUGIN_DIR

SRC=$CIRCUIT_SOURCE_DIR
for tool in dpkg-deb dpkg-shlibdeps dpkg-buildflags dpkg-architecture cpack lintian pkg-config \
	make python3 setpriv; do
	command -v "$tool" >/dev/null || fail "$tool is missing (see .ci/deps)"
done
PLUGIN_DIR=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/circuit/plugins

# --- a clean machine, or refuse ---------------------------------------------
installed_pkgs() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'circuit' 'circuit-plugin-*' \
		'libcircuit*' 'python3-circuit' 2>/dev/null | awk '$1 != "un" {print $NF}'
}
[ -z "$(installed_pkgs)" ] ||
	fail "circuit packages are on this machine already ($(installed_pkgs | tr '\n' ' '));" \
		"refusing to replace them (dpkg -P them first)"
for account in circuit circuit-job; do
	! getent passwd "$account" >/dev/null || fail "a user $account exists already; refusing to touch it"
	! getent group "$account" >/dev/null || fail "a group $account exists already; refusing to touch it"
done
[ ! -e /etc/default/circuitd ] || fail "/etc/default/circuitd exists already; refusing to touch it"
for d in /var/lib/circuit /var/log/circuit /var/lib/circuit-job; do
	[ ! -e "$d" ] || fail "$d exists already; refusing to touch it"
done
snapshot() {
	find /etc /usr /var/lib /opt -xdev \( -name '*circuit*' -o -path '*/circuit/*' \) \
		-not -path "$T_TMP/*" -not -path '/var/lib/dpkg/*' 2>/dev/null | sort
}
snapshot >"$T_TMP/before.list"

DAEMON_PID=""
INSTALLED=0
MADE_RUN=0
stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	for _ in $(seq 1 200); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$DAEMON_PID" 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
}
deb_cleanup() {
	stop_daemon
	[ "$MADE_RUN" = 1 ] && rm -rf /run/circuit
	rm -f "$PLUGIN_DIR/counter.so" 2>/dev/null || true
	if [ "$INSTALLED" = 1 ]; then
		local -a left
		mapfile -t left < <(installed_pkgs)
		[ ${#left[@]} = 0 ] || dpkg -P "${left[@]}" >/dev/null 2>&1 ||
			echo "deb.sh: could not purge ${left[*]}" >&2
	fi
}
trap 'rc=$?; set +e; deb_cleanup; (exit $rc); t_cleanup' EXIT

# --- build ------------------------------------------------------------------
if [ -n "${CIRCUIT_DEB_BUILD_DIR:-}" ]; then
	# Packages packaging/build-debs.sh made already (a CI that builds once).
	BUILD=$CIRCUIT_DEB_BUILD_DIR
else
	BUILD="$T_TMP/build"
	"$SRC/packaging/build-debs.sh" "$BUILD" >"$T_TMP/build.log" 2>&1 || {
		tail -n 40 "$T_TMP/build.log" >&2
		fail "packaging/build-debs.sh failed"
	}
fi
cd "$BUILD"
deb() { ls "$BUILD/$1"_*.deb; }
[ -f "$(deb circuit)" ] && [ -f "$(deb libcircuit-dev)" ] || fail "no circuit or libcircuit-dev package"
# One plugin package per plugin the build made, named for its kind.
(cd "$(find "$BUILD" -type d -path "*/circuit/plugins" -not -path "*/_CPack_Packages/*" | head -1)" && ls ./*.so | sed 's|^\./||; s|\.so$||' | sort) >"$T_TMP/kinds.built"
ls "$BUILD"/circuit-plugin-*.deb | sed 's|.*/circuit-plugin-||; s|_.*||' | sort >"$T_TMP/kinds.deb"
diff "$T_TMP/kinds.built" "$T_TMP/kinds.deb" || fail "plugin packages differ from the plugins built"
grep -qx proc "$T_TMP/kinds.deb" || fail "no circuit-plugin-proc"
VERSION=$(dpkg-deb -f "$(deb circuit)" Version)
[ -f "$(deb python3-circuit)" ] || fail "no python3-circuit package"
for d in "$BUILD"/circuit-plugin-*.deb "$(deb libcircuit-dev)" "$(deb python3-circuit)"; do
	dpkg-deb -f "$d" Depends | grep -qF "circuit (= $VERSION)" ||
		fail "$(basename "$d") does not depend on circuit (= $VERSION)"
done
dpkg-deb -f "$(deb circuit)" Depends | grep -q 'libev4' || fail "circuit: no shared-library dependencies"
dpkg-deb -f "$(deb circuit-plugin-dns)" Depends | grep -q 'libldns' ||
	fail "circuit-plugin-dns does not depend on libldns"
[ "$(dpkg-deb --ctrl-tarfile "$(deb circuit)" | tar -xO ./conffiles)" = /etc/default/circuitd ] ||
	fail "circuit's conffiles are not exactly /etc/default/circuitd"
for d in "$BUILD"/*.deb; do
	if dpkg-deb -c "$d" | awk '{print $6}' | grep -q '^\./etc/' && [ "$(basename "$d")" != "$(basename "$(deb circuit)")" ]; then
		fail "$(basename "$d") ships files in /etc"
	fi
	# Only circuit has maintainer scripts, and python3-circuit dh_python3's.
	scripts=$(dpkg-deb --ctrl-tarfile "$d" | tar -t | grep -E 'inst$|rm$' | sort | tr '\n' ' ' || true)
	case "$(basename "$d")" in
	circuit_*) [ "$scripts" = "./postinst ./postrm ./prerm " ] ||
		fail "circuit's maintainer scripts: $scripts" ;;
	python3-circuit_*) [ "$scripts" = "./postinst ./prerm " ] ||
		fail "python3-circuit's maintainer scripts (py3compile, py3clean): $scripts" ;;
	*) [ -z "$scripts" ] || fail "$(basename "$d") has maintainer scripts: $scripts" ;;
	esac
done
ok "built $(ls "$BUILD"/*.deb | wc -l) packages, version $VERSION, plugins: $(tr '\n' ' ' <"$T_TMP/kinds.deb")"

# --- lintian: every tag explained in docs/packaging.md ------------------------
lintian -I --pedantic --no-tag-display-limit "$BUILD"/*.deb >"$T_TMP/lintian.out" 2>&1 || true
grep -E '^[EWIPX]: ' "$T_TMP/lintian.out" | awk '{print $3}' | sort -u >"$T_TMP/lintian.tags"
sed -n '/^## Lintian/,/^## /p' "$SRC/docs/packaging.md" | sed -nE 's/^- `([a-z0-9.+-]+)`.*/\1/p' |
	sort -u >"$T_TMP/lintian.explained"
[ -s "$T_TMP/lintian.explained" ] || fail "docs/packaging.md explains no lintian tag"
unexplained=$(comm -23 "$T_TMP/lintian.tags" "$T_TMP/lintian.explained")
[ -z "$unexplained" ] || {
	cat "$T_TMP/lintian.out" >&2
	fail "lintian tags not explained in docs/packaging.md: $unexplained"
}
ok "lintian: $(wc -l <"$T_TMP/lintian.tags") tag(s), each explained in docs/packaging.md"

# --- install circuit and the proc plugin only --------------------------------
INSTALLED=1
dpkg -i "$(deb circuit)" "$(deb circuit-plugin-proc)" >"$T_TMP/dpkg.log" 2>&1 || {
	cat "$T_TMP/dpkg.log" >&2
	fail "dpkg -i circuit circuit-plugin-proc failed"
}
for f in /usr/sbin/circuitd /usr/bin/circuit /usr/libexec/circuit/circuit-guard; do
	[ -x "$f" ] || fail "$f is not installed"
done
[ "$(ls "$PLUGIN_DIR")" = proc.so ] || fail "$PLUGIN_DIR holds: $(ls "$PLUGIN_DIR")"
# (ldd's output is taken whole first: grep -q stops reading at the match,
# and the SIGPIPE ldd may get then fails the pipeline under pipefail.)
libs=$(ldd /usr/bin/circuit)
grep -qE "libcircuit.so.0 => (/usr)?/lib/[^ ]*/libcircuit.so.0 " <<<"$libs" ||
	fail "the installed circuit does not use the installed libcircuit: $(ldd /usr/bin/circuit)"
! readelf -d /usr/bin/circuit /usr/sbin/circuitd | grep -qE 'R(UN)?PATH' ||
	fail "installed programs carry an rpath"
# The accounts: a group circuit for local users (no user circuit: circuitd
# runs as root), and circuit-job, the jobs' own system user and group.
getent group circuit >/dev/null || fail "no group circuit"
! getent passwd circuit >/dev/null || fail "postinst made a user circuit; circuitd runs as root"
[ "$(getent passwd circuit-job | cut -d: -f6,7)" = "/var/lib/circuit-job:/usr/sbin/nologin" ] ||
	fail "the circuit-job user: $(getent passwd circuit-job)"
[ "$(id -u circuit-job)" -lt 1000 ] || fail "circuit-job is not a system user"
[ "$(id -gn circuit-job)" = circuit-job ] || fail "circuit-job's group is $(id -gn circuit-job)"
[ "$(id -Gn circuit-job)" = circuit-job ] || fail "circuit-job is in more groups: $(id -Gn circuit-job)"
[ "$(stat -c '%U:%G %a' /var/lib/circuit-job)" = "circuit-job:circuit-job 750" ] ||
	fail "/var/lib/circuit-job: $(stat -c '%U:%G %a' /var/lib/circuit-job)"
[ -f /etc/default/circuitd ] || fail "no /etc/default/circuitd"
[ "$(dpkg-query -W -f='${Conffiles}' circuit | awk 'NF {print $1}')" = /etc/default/circuitd ] ||
	fail "dpkg does not know /etc/default/circuitd as a conffile"
[ -f /usr/share/bash-completion/completions/circuit ] || fail "no bash completion"
bash -n /usr/share/bash-completion/completions/circuit || fail "the completion does not parse"
[ -f /usr/share/man/man1/circuit.1.gz ] && [ -f /usr/share/man/man8/circuitd.8.gz ] ||
	fail "man pages not installed"
UNIT=/usr/lib/systemd/system/circuitd.service
[ -f "$UNIT" ] || fail "no $UNIT"
grep -qx 'EnvironmentFile=-/etc/default/circuitd' "$UNIT" || fail "the unit does not read /etc/default/circuitd"
# Issue 16: root with few capabilities, jobs as circuit-job in cgroups of
# their own, a private /tmp, homes read-only, a umask, a task limit, the
# runtime directory of the unix socket.
for line in 'Group=circuit' 'CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL' \
	'NoNewPrivileges=yes' 'PrivateTmp=yes' 'UMask=0077' 'ProtectHome=read-only' 'TasksMax=16384' \
	'Delegate=yes' 'RuntimeDirectory=circuit' 'RuntimeDirectoryMode=0750' 'KillMode=mixed' \
	'WorkingDirectory=/var/lib/circuit' \
	'ExecStart=/usr/sbin/circuitd --socket /run/circuit/circuitd.sock --plugin-option proc.user=circuit-job $CIRCUITD_ARGS'; do
	grep -qxF -- "$line" "$UNIT" || fail "the unit lacks the line $line"
done
! grep -q '^User=' "$UNIT" || fail "the unit names a User (circuitd must be root to run jobs as circuit-job)"
# Issue 17: after the container engines when they are there, never requiring one.
grep -qx 'After=network-online.target docker.socket docker.service podman.socket podman.service' "$UNIT" ||
	fail "the unit is not ordered after the container engines' units"
! grep -E '^(Requires|Wants|BindsTo|Requisite)=.*(docker|podman)' "$UNIT" || fail "the unit must not require a container engine"
! grep -q '^ProtectControlGroups=yes' "$UNIT" || fail "ProtectControlGroups=yes makes the delegated cgroup read-only"
if command -v systemd-analyze >/dev/null; then
	# (man: the Documentation= pages are checked only where man is.)
	systemd-analyze verify "$UNIT" >"$T_TMP/verify" 2>&1 || true
	if grep -v "Command 'man " "$T_TMP/verify" | grep -q .; then
		cat "$T_TMP/verify" >&2
		fail "systemd-analyze verify complains about circuitd.service"
	fi
fi
ok "circuit and circuit-plugin-proc installed: files, accounts, conffile, unit, man pages, completion"

# start_installed: the installed circuitd as the unit runs it (root, group
# circuit, the unit's bounding set, no new privileges, umask 077, the unit's
# flags and /etc/default/circuitd's, no plugin flags); sets URL, ID,
# SERVER_LOG.
UNIT_FLAGS=$(sed -n 's|^ExecStart=/usr/sbin/circuitd ||p' "$UNIT" | sed 's/\$CIRCUITD_ARGS//')
N=0
# systemd makes the socket's directory (RuntimeDirectory=); without systemd
# the test does, unless one is there (a circuitd of the machine's own: then
# the test cannot use the packaged socket path and says so).
if [ -e /run/circuit ]; then
	echo "skip: /run/circuit exists on this machine (a packaged circuit runs here?)"
	exit 77
fi
install -d -m 0750 -g circuit /run/circuit
MADE_RUN=1
start_installed() {
	N=$((N + 1))
	SERVER_LOG="$T_TMP/server$N.log"
	# The flags split at spaces, as systemd splits them.
	# shellcheck disable=SC1091,SC2086
	(cd / && source /etc/default/circuitd && exec setpriv --regid=circuit --clear-groups \
		--bounding-set=-all,+setuid,+setgid,+kill --no-new-privs \
		sh -c 'umask 077; exec "$0" "$@"' /usr/sbin/circuitd -a 127.0.0.1:0 $UNIT_FLAGS \
		$CIRCUITD_ARGS >"$T_TMP/url$N" 2>"$SERVER_LOG") &
	DAEMON_PID=$!
	for _ in $(seq 1 200); do
		grep -q '^circuit://' "$T_TMP/url$N" 2>/dev/null && break
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; fail "installed circuitd exited"; }
		sleep 0.05
	done
	URL=$(head -n1 "$T_TMP/url$N")
	[[ $URL == circuit://* ]] || fail "installed circuitd printed no URL"
	ID=${URL##*/}
}
C() { /usr/bin/circuit -d "$URL" "$@"; }
# kinds: what the server loaded (Plugins) or tried to (Unavailable), sorted.
kinds() {
	C peek "/$ID" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("\n".join(sorted(d["Plugins"] + list(d["Unavailable"]))))'
}

start_installed
SOCK=/run/circuit/circuitd.sock
[ "$(stat -c '%a %G' "$SOCK")" = "660 circuit" ] || fail "the socket is $(stat -c '%a %G' "$SOCK")"
# No -d and no ~/.circuit: the CLI finds the packaged socket by itself.
/usr/bin/circuit ls / | grep -qx "/$ID" || fail "circuit without -d did not reach the packaged socket"
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/circuit ls / >"$T_TMP/nobody.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "nobody listed the circuit through the socket"
grep -q "$SOCK" "$T_TMP/nobody.out" || fail "nobody was told: $(cat "$T_TMP/nobody.out")"
ok "the packaged socket is 0660 group circuit; root's circuit finds it without -d; nobody cannot use it"
[ "$(kinds)" = proc ] || fail "with only circuit-plugin-proc installed, the server loaded: $(kinds)"
[ "$(C peek "/$ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Version"])')" = "$VERSION" ] ||
	fail "the server is not version $VERSION"
echo '{"Path":"/bin/sh","Args":["-c","id -un; id -Gn; pwd; umask; cat"]}' | C mkproc "/$ID/job" >/dev/null
echo hello | C stdin "/$ID/job"
C stdout "/$ID/job" >"$T_TMP/job.out"
printf 'circuit-job\ncircuit-job\n/var/lib/circuit-job\n0077\nhello\n' | cmp -s - "$T_TMP/job.out" ||
	fail "the process printed: $(cat "$T_TMP/job.out")"
C wait "/$ID/job" | grep -q '"ExitCode" : 0' || fail "wait did not report exit 0"
C scrub "/$ID/job"
echo "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"kill -0 $DAEMON_PID\"]}" | C mkproc "/$ID/kill" >/dev/null
C stderr "/$ID/kill" | grep -qi 'not permitted' || fail "a job could signal circuitd"
# circuitd may still signal its jobs (CAP_KILL is in the unit's set).
echo '{"Path":"/bin/sleep","Args":["1000"]}' | C mkproc "/$ID/sleep" >/dev/null
JOB_PID=$(C peek "/$ID/sleep" | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p')
[ "$(stat -c %U "/proc/$JOB_PID")" = circuit-job ] || fail "the job does not run as circuit-job"
C signal TERM "/$ID/sleep"
{ C wait "/$ID/sleep" || true; } | grep -q '"Signal" : "SIGTERM"' || fail "circuitd could not signal its job"
rc=0
C mkdns "/$ID/dns" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "mkdns worked without circuit-plugin-dns"
ok "installed circuitd (as the unit runs it, no plugin flags) loads only proc; a process ran through /usr/bin/circuit as circuit-job and could not signal circuitd"
stop_daemon

# --- every plugin package ------------------------------------------------------
dpkg -i "$BUILD"/circuit-plugin-*.deb >"$T_TMP/dpkg.log" 2>&1 || {
	cat "$T_TMP/dpkg.log" >&2
	fail "dpkg -i circuit-plugin-* failed"
}
start_installed
[ "$(kinds)" = "$(cat "$T_TMP/kinds.deb")" ] ||
	fail "with every plugin package installed the server loaded: $(kinds | tr '\n' ' ')"
ok "with every plugin package installed, circuitd loads exactly those: $(kinds | tr '\n' ' ')"

# --- python3-circuit: import circuit, found as the CLI finds the server --------
dpkg -i "$(deb python3-circuit)" >"$T_TMP/dpkg.log" 2>&1 || {
	cat "$T_TMP/dpkg.log" >&2
	fail "dpkg -i python3-circuit failed"
}
dpkg -L python3-circuit | grep -qE '^/usr/lib/python3/dist-packages/circuit/_circuit\.cpython-[^/]*\.so$' ||
	fail "python3-circuit has no extension module in /usr/lib/python3/dist-packages/circuit"
libs=$(ldd /usr/lib/python3/dist-packages/circuit/_circuit.cpython-*.so)
grep -qE "libcircuit.so.0 => (/usr)?/lib/[^ ]*/libcircuit.so.0 " <<<"$libs" ||
	fail "the installed binding does not use the installed libcircuit: $libs"
[ "$(cd / && /usr/bin/python3 -c 'import circuit; print(circuit.dial().servers())')" = "['/$ID']" ] ||
	fail "import circuit; circuit.dial().servers() did not list the installed server"
ok "python3-circuit: import circuit; circuit.dial().servers() lists the installed server (its socket)"

# --- libcircuit-dev: the SDK examples, out of tree, pkg-config only ----------
dpkg -i "$(deb libcircuit-dev)" >"$T_TMP/dpkg.log" 2>&1 || {
	cat "$T_TMP/dpkg.log" >&2
	fail "dpkg -i libcircuit-dev failed"
}
unset PKG_CONFIG_PATH
[ "$(pkg-config --variable=prefix circuit)" = /usr ] || fail "circuit.pc: prefix is not /usr"
[ "$(pkg-config --variable=plugindir circuit-plugin)" = "$PLUGIN_DIR" ] ||
	fail "circuit-plugin.pc: plugindir is $(pkg-config --variable=plugindir circuit-plugin)"
EX="$T_TMP/examples"
cp -r /usr/share/doc/circuit/examples "$EX"
(cmake -S "$EX/counter" -B "$EX/counter-build" && cmake --build "$EX/counter-build" &&
	make -C "$EX/circuit-tree") >"$T_TMP/examples.log" 2>&1 || {
	cat "$T_TMP/examples.log" >&2
	fail "the SDK examples do not build against the installed libcircuit-dev"
}
# Issue 20: the package's fake host runs the counter's unit tests.
(cd "$EX/counter-build" && ctest --output-on-failure) >>"$T_TMP/examples.log" 2>&1 || {
	cat "$T_TMP/examples.log" >&2
	fail "the counter's unit tests fail against libcircuit-dev's circuit-plugin-test"
}
[ -x "$EX/counter-build/test_counter" ] || fail "libcircuit-dev has no circuit-plugin-test: test_counter was not built"
libs=$(ldd "$EX/circuit-tree/circuit-tree")
grep -qE "libcircuit.so.0 => (/usr)?/lib/[^ ]*/libcircuit.so.0 " <<<"$libs" ||
	fail "circuit-tree does not use the installed libcircuit"
"$EX/circuit-tree/circuit-tree" -d "$URL" >"$T_TMP/tree.out" || fail "circuit-tree failed"
printf '/\n└── %s (server)\n' "$ID" | cmp -s - "$T_TMP/tree.out" ||
	fail "circuit-tree printed: $(cat "$T_TMP/tree.out")"
stop_daemon
# A third-party kind installed where pkg-config says is loaded by default too.
cmake --install "$EX/counter-build" >>"$T_TMP/examples.log" 2>&1 || fail "cmake --install counter failed"
[ -f "$PLUGIN_DIR/counter.so" ] || fail "counter.so did not go to $PLUGIN_DIR"
start_installed
kinds | grep -x counter >/dev/null || fail "the installed counter plugin was not loaded: $(kinds | tr '\n' ' ')"
C mkcounter "/$ID/hits" 5 >/dev/null
[ "$(C incr "/$ID/hits" 2)" = 7 ] || fail "counter: incr 2 from 5 is not 7"
stop_daemon
rm -f "$PLUGIN_DIR/counter.so"
ok "SDK examples built with pkg-config against libcircuit-dev; counter.so in the plugin dir loads"

# --- remove: only the conffile stays; purge: nothing ---------------------------
mapfile -t PKGS < <(installed_pkgs)
for p in "${PKGS[@]}"; do dpkg -L "$p"; done | sort -u >"$T_TMP/files"
dpkg -r "${PKGS[@]}" >"$T_TMP/dpkg.log" 2>&1 || { cat "$T_TMP/dpkg.log" >&2; fail "dpkg -r failed"; }
while read -r f; do
	[ "$f" = /etc/default/circuitd ] && continue
	if [ -L "$f" ] || [ -f "$f" ]; then
		fail "$f is left after dpkg -r"
	fi
	if [ -d "$f" ] && [[ $f == *circuit* ]]; then
		fail "directory $f is left after dpkg -r"
	fi
done <"$T_TMP/files"
[ -f /etc/default/circuitd ] || fail "dpkg -r removed the conffile"
[ "$(dpkg-query -W -f='${db:Status-Abbrev}' circuit)" = "rc " ] || fail "circuit is not in state rc"
getent passwd circuit-job >/dev/null || fail "dpkg -r removed the circuit-job user (only purge should)"
getent group circuit >/dev/null || fail "dpkg -r removed the circuit group (only purge should)"
ok "after dpkg -r only /etc/default/circuitd (a conffile) and the accounts are left"

dpkg -P "${PKGS[@]}" >"$T_TMP/dpkg.log" 2>&1 || { cat "$T_TMP/dpkg.log" >&2; fail "dpkg -P failed"; }
INSTALLED=0
[ -z "$(installed_pkgs)" ] || fail "still known to dpkg after purge: $(installed_pkgs)"
[ ! -e /etc/default/circuitd ] || fail "/etc/default/circuitd is left after purge"
for account in circuit circuit-job; do
	! getent passwd "$account" >/dev/null || fail "the user $account is left after purge"
	! getent group "$account" >/dev/null || fail "the group $account is left after purge"
done
snapshot >"$T_TMP/after.list"
diff "$T_TMP/before.list" "$T_TMP/after.list" || fail "files named circuit differ after purge"
ok "after dpkg -P nothing is left"
