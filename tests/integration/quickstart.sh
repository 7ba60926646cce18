#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# .ci/quickstart's demo (issue 19) against this build tree (--build-dir, on
# a free port, never 11022): it dials the server it started with -d even
# when ~/.circuit and $CIRCUIT name another, prints the PID it started, its
# printed commands run as printed (circuit's full path), its stop command
# stops exactly that circuitd; a circuitd that cannot start makes it exit
# non-zero with the end of the log; a server already answering is used and
# left alone.
source "$CIRCUIT_TESTLIB"
QS=$CIRCUIT_SOURCE_DIR/.ci/quickstart
B=$(cd "$CIRCUIT_BUILD_DIR" && pwd)
C=$B/bin/circuit

# A circuitd the test owns, which ~/.circuit and $CIRCUIT name: quickstart
# must neither dial it nor stop it.
start_server
MINE_PID=$SERVER_PID MINE_ID=$SERVER_ID MINE_URL=$SERVER_URL
echo "$MINE_URL" >"$HOME/.circuit"
echo "$MINE_URL" >"$T_TMP/mine.url"

# qs_pids DIR: the PID in the URL quickstart's circuitd wrote in DIR, tracked
# so that the test stops it whatever happens.
qs_track() {
	local url pid
	url=$(head -n1 "$1/circuitd.url" 2>/dev/null || true)
	pid=$(echo "$url" | sed -n 's|^circuit://[^/]*/\([0-9]*\)/X.*|\1|p')
	[ -z "$pid" ] || t_track "$pid"
}

P=$(free_port)
[ "$P" != 11022 ] || P=$(free_port)
rc=0
CIRCUIT=$T_TMP/mine.url env -u CIRCUIT_PLUGIN_DIR "$QS" --build-dir "$B" --port "$P" --run-dir "$T_TMP/qs" \
	>"$T_TMP/qs.out" 2>"$T_TMP/qs.err" </dev/null || rc=$?
qs_track "$T_TMP/qs"
cat "$T_TMP/qs.out"
[ $rc = 0 ] || { cat "$T_TMP/qs.err" >&2; fail "quickstart exited $rc"; }
[ ! -s "$T_TMP/qs.err" ] || { cat "$T_TMP/qs.err" >&2; fail "quickstart wrote to stderr"; }

# circuitd started (pid N): circuit://127.0.0.1:P/N/X...
line=$(sed -n 1p "$T_TMP/qs.out")
[[ "$line" =~ ^"circuitd started (pid "([0-9]+)"): "(circuit://127\.0\.0\.1:$P/([0-9]+)/(X[0-9a-f]{16}))$ ]] ||
	fail "first line: $line"
PID=${BASH_REMATCH[1]} URL=${BASH_REMATCH[2]} ID=${BASH_REMATCH[4]}
[ "${BASH_REMATCH[3]}" = "$PID" ] || fail "the printed pid $PID is not the one in its URL $URL"
[ "$(readlink /proc/"$PID"/exe)" = "$(readlink -f "$B/bin/circuitd")" ] || fail "pid $PID is not $B/bin/circuitd"
[ "$ID" != "$MINE_ID" ] || fail "quickstart printed the test's own server"
"$C" -d "$URL" ls / | grep -qx "/$ID" || fail "$URL does not answer as $ID"
ok "prints the pid of the circuitd it started, $B/bin/circuitd on 127.0.0.1:$P"

# The demo, line by line: each command with circuit's full path and -d URL,
# then what it printed.
J='/'$ID'/hello-[0-9]+'
want=(
	"\\\$ $C -d $URL ls /"
	"/$ID"
	"\\\$ echo '\\{\"Path\":\"/bin/uname\",\"Args\":\\[\"-a\"\\]\\}' \\| $C -d $URL mkproc $J"
	"\\\$ $C -d $URL stdout $J"
	"$(uname -a | sed 's/[][\\.*^$(){}+?|]/\\&/g')"
	"\\\$ $C -d $URL wait $J"
)
n=2
for re in "${want[@]}"; do
	line=$(sed -n "${n}p" "$T_TMP/qs.out")
	[[ "$line" =~ ^$re$ ]] || fail "line $n: '$line' is not /$re/"
	n=$((n + 1))
done
job=$(sed -n 's|^\$ .* stdout ||p' "$T_TMP/qs.out")
# wait's JSON, then the scrub and the three closing lines.
rest=$(sed -n "$n,\$p" "$T_TMP/qs.out")
echo "$rest" | grep -q '"ExitCode" *: *0,' || fail "wait printed no ExitCode 0"
echo "$rest" | grep -qx "\\\$ $C -d $URL scrub $job" || fail "no scrub line for $job"
! "$C" -d "$URL" ls "/$ID" | grep -qF "$job" || fail "$job was not scrubbed"
echo "$rest" | grep -qx "Your circuit is running at $URL." || fail "no 'running at' line"
try=$(echo "$rest" | sed -n 's/^Try: //p')
[ "$try" = "$C -d $URL help" ] || fail "Try: $try"
$try >/dev/null || fail "the printed '$try' failed"
ok "every printed command has circuit's full path and -d $URL; uname's output, wait, scrub"

# Every printed command, run as printed, reaches that server.
grep '^\$ ' "$T_TMP/qs.out" | grep -v " mkproc \| stdout \| wait \| scrub " | while read -r _ cmd; do
	eval "$cmd" >/dev/null || fail "'$cmd' failed"
done

stop=$(tail -n1 "$T_TMP/qs.out")
[ "$stop" = "Stop it (this circuitd, pid $PID, and no other) with: kill $PID" ] || fail "last line: $stop"
eval "${stop#*with: }"
for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$PID" 2>/dev/null || fail "'${stop#*with: }' did not stop pid $PID"
kill -0 "$MINE_PID" || fail "the stop command stopped the test's own circuitd too"
"$C" -d "$MINE_URL" ls / | grep -qx "/$MINE_ID" || fail "the test's own circuitd stopped answering"
ok "its stop command stops that circuitd and not the test's own"

# A server already answering on the port is used and left running.
MINE_PORT=${MINE_URL#circuit://127.0.0.1:}
MINE_PORT=${MINE_PORT%%/*}
"$QS" --build-dir "$B" --port "$MINE_PORT" --run-dir "$T_TMP/qs2" >"$T_TMP/qs2.out" 2>&1 </dev/null ||
	{ cat "$T_TMP/qs2.out" >&2; fail "quickstart on a port a server answers exited non-zero"; }
qs_track "$T_TMP/qs2"
head -n1 "$T_TMP/qs2.out" | grep -qx "a circuit server already answers on 127.0.0.1:$MINE_PORT; using it" ||
	fail "quickstart did not say it used the running server: $(head -n1 "$T_TMP/qs2.out")"
grep -qx "/$MINE_ID" "$T_TMP/qs2.out" || fail "quickstart did not list the running server"
grep -q "did not start it, and leaves it running" "$T_TMP/qs2.out" || fail "no word on who stops it"
[ ! -e "$T_TMP/qs2/circuitd.url" ] || fail "quickstart started a circuitd beside the running one"
kill -0 "$MINE_PID" || fail "quickstart stopped the running server"
ok "a server already answering is used, not restarted, and left running"

# A circuitd that cannot start (the port's UDP half is taken) makes
# quickstart exit non-zero with the end of circuitd's log.
Q=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))
print("bound", flush=True); time.sleep(600)' "$Q" >"$T_TMP/holder.out" &
t_track $!
wait_until 10 grep -q bound "$T_TMP/holder.out"
rc=0
"$QS" --build-dir "$B" --port "$Q" --run-dir "$T_TMP/qs3" >"$T_TMP/qs3.out" 2>"$T_TMP/qs3.err" </dev/null || rc=$?
qs_track "$T_TMP/qs3"
[ $rc != 0 ] || { cat "$T_TMP/qs3.out"; fail "quickstart exited 0 with its port taken"; }
[ -s "$T_TMP/qs3/circuitd.log" ] || fail "the failed circuitd logged nothing"
grep -q "^circuitd (pid [0-9]*) did not answer on 127.0.0.1:$Q; the end of $T_TMP/qs3/circuitd.log:\$" "$T_TMP/qs3.err" ||
	{ cat "$T_TMP/qs3.err" >&2; fail "no word that circuitd did not answer"; }
tail -n 20 "$T_TMP/qs3/circuitd.log" >"$T_TMP/qs3.tail"
tail -n "$(wc -l <"$T_TMP/qs3.tail")" "$T_TMP/qs3.err" | cmp -s - "$T_TMP/qs3.tail" ||
	{ cat "$T_TMP/qs3.err" >&2; fail "stderr does not end with the log's last lines"; }
! grep -q "circuitd started" "$T_TMP/qs3.out" || fail "quickstart said started"
failed=$(sed -n 's/^circuitd (pid \([0-9]*\)).*/\1/p' "$T_TMP/qs3.err")
t_track "$failed"
! kill -0 "$failed" 2>/dev/null || fail "the circuitd that did not answer is left running"
kill -0 "$MINE_PID" || fail "the failed quickstart stopped the test's own circuitd"
ok "a circuitd that cannot start: exit $rc, the end of its log, nothing left running"
