#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `circuit top` (issue 19): a live table of servers and elements, driven in
# a real terminal through tmux (new-session, capture-pane, send-keys): it
# shows the servers and a process's phase, pid, CPU and memory, refreshes
# (a process that exits turns "exited"), and quits on q with exit 0.
# Without a terminal it prints one table per refresh; -n bounds them.
. "$CIRCUIT_TESTLIB"
command -v tmux >/dev/null || t_skip "tmux is not installed"

start_server --plugins=proc,chan
X=$SERVER_ID
echo '{"Path":"/bin/sh","Args":["-c","read x; exit 7"]}' | c mkproc "/$X/job"
c mkchan "/$X/q" 2

# Without a terminal: -n 2 prints two tables and exits 0.
c top -n 2 -i 0.1 >"$T_TMP/plain" || fail "top -n 2 exited $?"
[ "$(grep -c '^circuit top /\.\.\.: 1 server, 2 elements' "$T_TMP/plain")" = 2 ] ||
	{ cat "$T_TMP/plain" >&2; fail "top -n 2 did not print two tables"; }
grep -qE "^proc +/$X/job +running +[0-9]+ +[0-9.]+s +[0-9.]+[KMG]( |$)" "$T_TMP/plain" ||
	{ cat "$T_TMP/plain" >&2; fail "top lacks the process's phase, pid, CPU and RSS"; }
grep -qE "^chan +/$X/q +- .*Pending=0 Cap=2 Closed=false" "$T_TMP/plain" ||
	{ cat "$T_TMP/plain" >&2; fail "top lacks the channel's status"; }
grep -qE "^server +/$X +alive" "$T_TMP/plain" || fail "top lacks the server"
expect_fail 2 "-n 0" c top -n 0
expect_fail 2 "unknown flag" c top --bogus
ok "top without a terminal: one table per refresh, usage mistakes exit 2"

# In a terminal (tmux): live, refreshed, q quits.
SOCK="$T_TMP/tmux.sock"
tm() { tmux -S "$SOCK" "$@"; }
tm new-session -d -s top -x 160 -y 40 \
	"'$CIRCUIT_BIN' -d '$SERVER_URL' top -i 0.2; echo \$? >'$T_TMP/top.rc'; sleep 60"
TMUX_PID=$(tm display-message -p '#{pid}')
t_track "$TMUX_PID"
screen() { tm capture-pane -p -t top; }
wait_true 10 'screen | grep -qE "^proc +/$X/job +running"'
screen | grep -q "(q quits)" || fail "top's header is not shown"
# The process exits: the next refresh shows it.
echo go | c stdin "/$X/job"
wait_true 10 'screen | grep -qE "^proc +/$X/job +exited .*ExitCode=7"'
ok "top in a terminal: live rows, refreshed when a process exits"
tm send-keys -t top q
wait_true 10 '[ -s "$T_TMP/top.rc" ]'
[ "$(cat "$T_TMP/top.rc")" = 0 ] || fail "top exited $(cat "$T_TMP/top.rc") on q"
ok "q quits top with exit 0"
tm kill-server 2>/dev/null || true
