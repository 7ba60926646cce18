#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# peek of a process while it runs: Phase "stopped" after a stop (ours or
# anyone's), "continued" after SIGCONT, an exit winning over both; and the
# process's own CPU seconds and resident bytes, absent once it has exited.
source "$CIRCUIT_TESTLIB"
start_server
X=$SERVER_ID
phase() { c peek "$1" | sed -n 's/.*"Phase" : "\([a-z]*\)".*/\1/p'; }
phase_is() { [ "$(phase "$1")" = "$2" ]; }

echo '{"Path":"/bin/sleep","Args":["1000"]}' | c mkproc /$X/p
[ "$(phase /$X/p)" = running ] || fail "a new process should be running"
c signal STOP /$X/p
wait_until 10 phase_is /$X/p stopped
# A stop is not an exit: wait goes on waiting.
rc=0; timeout 1 "$CIRCUIT_BIN" -d "$SERVER_URL" wait /$X/p >/dev/null || rc=$?
[ $rc = 124 ] || fail "wait should not return while the process is stopped (rc $rc)"
c signal CONT /$X/p
wait_until 10 phase_is /$X/p continued
grep -q '"Exit" : null' <(c peek /$X/p) || fail "a continued process has no Exit"
ok "signal STOP: stopped; signal CONT: continued"

# Stopped by someone else, and then killed: the exit wins.
pid=$(c peek /$X/p | sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p')
kill -STOP "$pid"
wait_until 10 phase_is /$X/p stopped
c signal KILL /$X/p
wait_until 10 phase_is /$X/p signaled
c peek /$X/p | grep -q '"Signal" : "SIGKILL"' || fail "the kill should be named"
ok "a stop by another process shows too; an exit wins over stopped"

# CPU and RSS of a running process, from /proc.
echo '{"Path":"/bin/sh","Args":["-c","while :; do :; done"]}' | c mkproc /$X/busy
cpu_over() { c peek /$X/busy | grep -qE '"CPU" : (0\.[2-9]|[1-9])'; }
wait_until 10 cpu_over
c peek /$X/busy >"$T_TMP/peek"
rss=$(sed -n 's/.*"RSS" : \([0-9]*\).*/\1/p' "$T_TMP/peek")
pid=$(sed -n 's/.*"Pid" : \([0-9]*\).*/\1/p' "$T_TMP/peek")
want=$(($(awk '{print $2}' /proc/$pid/statm) * $(getconf PAGESIZE)))
[ -n "$rss" ] && [ "$rss" -gt 0 ] || { cat "$T_TMP/peek"; fail "peek should carry RSS in bytes"; }
[ "$rss" -gt $((want / 2)) ] && [ "$rss" -lt $((want * 2)) ] ||
	fail "RSS $rss is far from /proc's $want"
c signal KILL /$X/busy
wait_until 10 phase_is /$X/busy signaled
! c peek /$X/busy | grep -qE '"(CPU|RSS)"' || fail "an exited process has no CPU or RSS"
ok "peek of a running process has CPU seconds and RSS bytes; an exited one has neither"
server_alive
