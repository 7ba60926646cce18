#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# circuit-guard forgets the process group of a job that ended: when
# circuitd is SIGKILLed later, the guard must not kill another process
# group that was given the same number since (it was also told of every
# ended job for good, so its table filled up over a long-running circuitd's
# jobs and new groups went unguarded). The test makes such a group on
# purpose: in a PID namespace of its own, /proc/sys/kernel/ns_last_pid
# hands an ended job's PID to `setsid sleep`. Three endings: a job left in
# place, one scrubbed after it ended, one with "Scrub":true. A job still
# running at the SIGKILL is killed (the control). Needs root (a PID
# namespace); skipped (77) otherwise. The namespace's PID 1 is this script:
# when it exits, whatever it left in there is killed with it.
if [ -z "${ORPHANS_PIDNS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! unshare --pid --fork --mount-proc true 2>/dev/null; then
		echo "SKIP: needs root and PID namespaces"
		exit 77
	fi
	exec unshare --pid --fork --mount-proc --kill-child env ORPHANS_PIDNS=1 bash "$0" "$@"
fi
source "$CIRCUIT_TESTLIB"

# dead PID: PID is gone or a zombie (the guard's victims are our children).
dead() { [ ! -e "/proc/$1" ] || grep -q ') Z' "/proc/$1/stat" 2>/dev/null; }
# pid_of PATH: the Pid in PATH's peek.
pid_of() { c peek "$1" | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p'; }
# group_as PID: starts `setsid sleep` as PID (its own group PID), tracked;
# sets VICTIM.
group_as() {
	local want=$1
	for _ in 1 2 3 4 5; do
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		setsid sleep 1000 &
		VICTIM=$!
		t_track "$VICTIM"
		[ "$VICTIM" = "$want" ] && return 0
		kill -KILL "$VICTIM"
		wait "$VICTIM" 2>/dev/null || true
	done
	fail "could not start a process as PID $want"
}

start_server
X=$SERVER_ID
guard=$(pgrep -P "$SERVER_PID" -x circuit-guard) || fail "circuitd started no circuit-guard"
t_track "$guard"

echo '{"Path":"/bin/sh","Args":["-c","exit 0"]}' | c mkproc /$X/kept >/dev/null
c wait /$X/kept >/dev/null
echo '{"Path":"/bin/sh","Args":["-c","exit 0"]}' | c mkproc /$X/scrubbed >/dev/null
c wait /$X/scrubbed >/dev/null
ended=("$(pid_of /$X/kept)" "$(pid_of /$X/scrubbed)")
c scrub /$X/scrubbed
echo '{"Path":"/bin/sh","Args":["-c","read line"],"Scrub":true}' | c mkproc /$X/self >/dev/null
ended+=("$(pid_of /$X/self)")
# (stdin may fail: the job can end, and be scrubbed, before the call does)
echo | c stdin /$X/self 2>/dev/null || true
for _ in $(seq 1 100); do c peek /$X/self >/dev/null 2>&1 || break; sleep 0.05; done
c peek /$X/self >/dev/null 2>&1 && fail "/$X/self was not scrubbed when it ended"
for p in "${ended[@]}"; do [[ $p =~ ^[0-9]+$ ]] || fail "no PID for an ended job: ${ended[*]}"; done

victims=()
for p in "${ended[@]}"; do
	group_as "$p"
	victims+=("$VICTIM")
done
echo '{"Path":"/bin/sleep","Args":["1000"]}' | c mkproc /$X/control >/dev/null
control=$(pid_of /$X/control)
[[ $control =~ ^[0-9]+$ ]] || fail "no PID for /$X/control"

kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
wait_until 10 dead "$guard"
# The guard has sent its SIGKILLs before it exited; the control shows they
# arrived.
wait_until 10 dead "$control"
ok "the running job died with circuitd"
killed=()
for v in "${victims[@]}"; do
	if dead "$v"; then killed+=("$v"); fi
done
[ ${#killed[@]} -eq 0 ] || fail "circuit-guard killed group(s) ${killed[*]} of ${victims[*]} (kept, scrubbed, Scrub:true), which took the numbers of ended jobs"
ok "groups that reuse the numbers of ended jobs (kept, scrubbed, Scrub:true) live on"
