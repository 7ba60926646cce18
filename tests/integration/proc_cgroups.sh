#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A cgroup per job where circuitd was given one to manage (issue 16, part 3).
# systemd marks a unit's cgroup delegated (Delegate=yes) with the extended
# attribute user.delegate=1; this test makes such a cgroup itself under its
# own, on the cgroup v2 hierarchy, and starts circuitd in it:
#  - circuitd moves itself into <cgroup>/daemon (cgroup v2 lets only leaves
#    hold processes once controllers are handed down);
#  - each job runs in a cgroup of its own under <cgroup>, removed once the
#    job has been reaped, or once its last process is gone;
#  - scrub kills every process of the job's cgroup, also one that left the
#    job's process group (setsid), which used to survive;
#  - in a cgroup without the mark circuitd leaves cgroups alone and says so.
# Before: jobs shared circuitd's cgroup. Everything the test makes (cgroups,
# processes) it removes by name and PID at the end, even on failure.
if [ "$(id -u)" != 0 ]; then
	echo "skip: makes cgroups: run as root"
	exit 77
fi
CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } }' /proc/self/mountinfo)
[ -n "$CG2" ] || { echo "skip: no cgroup v2 hierarchy mounted"; exit 77; }
OWN=$(sed -n 's/^0:://p' /proc/self/cgroup)
PARENT=$CG2${OWN%/}
[ -w "$PARENT/cgroup.procs" ] || { echo "skip: $PARENT is not writable"; exit 77; }
source "$CIRCUIT_TESTLIB"

SFX=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
MARKED=$PARENT/circuit-test-$SFX
UNMARKED=$PARENT/circuit-test-$SFX-plain
MADE=()

# Servers first, then whatever process is left in our cgroups (by PID),
# then the cgroups, deepest first.
cg_cleanup() {
	set +e
	t_stop_tracked
	for cg in "${MADE[@]}"; do
		[ -d "$cg" ] || continue
		for _ in $(seq 1 100); do
			left=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
			[ -z "$left" ] && break
			for pid in $left; do kill -KILL "$pid" 2>/dev/null; done
			sleep 0.05
		done
		find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
		[ ! -d "$cg" ] || echo "proc_cgroups: could not remove $cg" >&2
	done
}
trap 'c_rc=$?; cg_cleanup; (exit $c_rc); t_cleanup' EXIT

mkdir "$MARKED"
MADE+=("$MARKED")
if ! python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.delegate", b"1")' "$MARKED" 2>"$T_TMP/xattr.err"; then
	echo "skip: cannot mark $MARKED delegated: $(cat "$T_TMP/xattr.err")"
	exit 77
fi
mkdir "$UNMARKED"
MADE+=("$UNMARKED")

# in_cgroup: circuitd started inside $IN_CG.
cat >"$T_TMP/in-cgroup" <<EOF
#!/bin/sh
echo \$\$ >"\$IN_CG/cgroup.procs" || exit 1
exec "$CIRCUITD_BIN" "\$@"
EOF
chmod 755 "$T_TMP/in-cgroup"
REAL_CIRCUITD=$CIRCUITD_BIN
rel() { echo "${1#"$CG2"}"; }
cgroup_of() { sed -n 's/^0:://p' "/proc/$1/cgroup"; }
# gone PID: no such process, or only a zombie left for its parent to reap.
gone() { [ ! -e "/proc/$1" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" = Z ]; }
pid_of() { c peek "$1" | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p'; }

IN_CG=$MARKED CIRCUITD_BIN="$T_TMP/in-cgroup" start_server --plugins=proc --grace 1 -v
CIRCUITD_BIN=$REAL_CIRCUITD
X=$SERVER_ID
[ "$(cgroup_of "$SERVER_PID")" = "$(rel "$MARKED")/daemon" ] ||
	fail "circuitd is in $(cgroup_of "$SERVER_PID"), not in $(rel "$MARKED")/daemon"
grep -q "a cgroup of its own under $MARKED" "$SERVER_LOG" || fail "circuitd did not say jobs get cgroups"
ok "in a delegated cgroup circuitd moves itself into <cgroup>/daemon"

echo '{"Path":"/bin/sleep","Args":["1000"]}' | c mkproc "/$X/a"
echo '{"Path":"/bin/sleep","Args":["1000"]}' | c mkproc "/$X/b"
A=$(pid_of "/$X/a")
B=$(pid_of "/$X/b")
CA=$(cgroup_of "$A")
CB=$(cgroup_of "$B")
[[ $CA == "$(rel "$MARKED")"/* ]] && [[ $CB == "$(rel "$MARKED")"/* ]] ||
	fail "jobs are in $CA and $CB, not under $(rel "$MARKED")"
[ "$CA" != "$CB" ] && [ "$CA" != "$(rel "$MARKED")/daemon" ] || fail "jobs do not have cgroups of their own: $CA $CB"
[ "$(cat "$CG2$CA/cgroup.procs")" = "$A" ] || fail "job a's cgroup holds $(cat "$CG2$CA/cgroup.procs")"
c signal KILL "/$X/a"
c wait "/$X/a" >/dev/null || true
wait_true 20 '[ ! -d "$CG2$CA" ]'
ok "each job runs in a cgroup of its own, removed once the job is reaped"

# A job that leaves a process behind: its cgroup goes with the last process.
echo '{"Path":"/bin/sh","Args":["-c","sleep 1000 >/dev/null 2>&1 </dev/null & echo $!"]}' | c mkproc "/$X/bg"
LEFT=$(c stdout "/$X/bg")
c wait "/$X/bg" >/dev/null
CBG=$(cgroup_of "$LEFT")
[[ $CBG == "$(rel "$MARKED")"/* ]] && [ "$CBG" != "$(rel "$MARKED")/daemon" ] ||
	fail "the left-behind process is in $CBG"
[ -d "$CG2$CBG" ] || fail "the cgroup of a job with a live process was removed"
kill -KILL "$LEFT"
wait_true 30 '[ ! -d "$CG2$CBG" ]'
ok "a job's cgroup stays while a process of it lives, and goes after it"

# Scrub reaches a process that left the job's process group.
echo '{"Path":"/bin/sh","Args":["-c","setsid sleep 1000 >/dev/null 2>&1 </dev/null & echo $!; exec sleep 1000 >/dev/null"]}' | c mkproc "/$X/esc"
ESC=$(c stdout "/$X/esc")
[ -n "$ESC" ] || fail "the job did not print its escaped child"
wait_true 10 '[ "$(ps -o sid= -p "$ESC" | tr -d " ")" = "$ESC" ]'
CESC=$(cgroup_of "$ESC")
c scrub "/$X/esc"
wait_true 20 'gone "$ESC"'
wait_true 20 '[ ! -d "$CG2$CESC" ]'
kill -0 "$B" || fail "scrubbing one job killed another"
ok "scrub kills every process of the job's cgroup, also one in a session of its own"

# Not delegated: cgroups are left alone, with one line saying so.
IN_CG=$UNMARKED CIRCUITD_BIN="$T_TMP/in-cgroup" start_server --plugins=proc -v
CIRCUITD_BIN=$REAL_CIRCUITD
[ "$(cgroup_of "$SERVER_PID")" = "$(rel "$UNMARKED")" ] || fail "circuitd moved out of an undelegated cgroup"
echo '{"Path":"/bin/sleep","Args":["1000"]}' | c mkproc "/$SERVER_ID/p"
[ "$(cgroup_of "$(pid_of "/$SERVER_ID/p")")" = "$(rel "$UNMARKED")" ] || fail "a job left an undelegated cgroup"
[ "$(grep -c "jobs share circuitd's cgroup" "$SERVER_LOG")" = 1 ] ||
	fail "circuitd did not say once that jobs share its cgroup: $(cat "$SERVER_LOG")"
[ -z "$(find "$UNMARKED" -mindepth 1 -type d)" ] || fail "circuitd made cgroups in an undelegated one"
ok "in a cgroup not delegated to it circuitd leaves cgroups alone and says so once"
