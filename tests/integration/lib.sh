# SPDX-License-Identifier: Apache-2.0
# tests/integration/lib.sh - shared by every shell test. Source it first.
# Starts real circuitd processes on 127.0.0.1 (ephemeral ports), tracks
# every PID it starts and stops them all on exit, even on failure.
set -euo pipefail

: "${CIRCUIT_BIN:?run through ctest}" "${CIRCUITD_BIN:?run through ctest}"
export CIRCUIT_PLUGIN_DIR
T_TMP=$(mktemp -d /tmp/circuit-test.XXXXXX)
T_PIDS=()
T_NAME=$(basename "$0" .sh)
# The CLI must never find a user's ~/.circuit or $CIRCUIT by accident.
export HOME="$T_TMP/home"
mkdir -p "$HOME"
unset CIRCUIT CIRCUIT_DISCOVER CIRCUIT_HMAC

# t_stop_tracked: every tracked PID gets SIGTERM, up to 5 s, then SIGKILL.
# Tests whose cleanup must run after the servers (accounts, cgroups) call it
# first; t_cleanup calls it again, harmlessly.
t_stop_tracked() {
	local pid
	for pid in "${T_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${T_PIDS[@]}"; do
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	return 0
}

# t_skip WHY: a sub-check this machine cannot run. The test goes on; if it
# passes otherwise it exits 77, shown by ctest as skipped (not passed), and
# under CI=true, where every check must run, it fails.
T_SKIPS=()
t_skip() {
	echo "skip - $*"
	T_SKIPS+=("$*")
}

t_cleanup() {
	local rc=$?
	set +e
	if [ $rc -eq 0 ] && [ ${#T_SKIPS[@]} -gt 0 ]; then
		echo "--- $T_NAME: ${#T_SKIPS[@]} check(s) skipped: $(printf '%s; ' "${T_SKIPS[@]}")"
		if [ "${CI:-}" = true ]; then
			echo "FAIL: checks skipped under CI=true" >&2
			rc=1
		else
			rc=77
		fi
	fi
	# Background jobs the test forgot to track are ours to stop too.
	for pid in $(jobs -p); do T_PIDS+=("$pid"); done
	t_stop_tracked
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "--- $T_NAME failed (rc=$rc); server logs:"
		for f in "$T_TMP"/server*.log; do
			[ -f "$f" ] || continue
			echo "== $f"
			if grep -q 'Sanitizer' "$f"; then
				grep '^circuitd' "$f" | tail -n 20
				sed -n '/ERROR: .*Sanitizer/,$p' "$f" | grep -v '^ *0x' | head -n 80
			else
				tail -n 40 "$f"
			fi
		done
	fi
	[ -n "${CIRCUIT_TEST_KEEP:-}" ] && echo "kept $T_TMP" || rm -rf "$T_TMP"
	exit $rc
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# t_track PID: stop PID at the end of the test.
t_track() { T_PIDS+=("$1"); }

# start_server [circuitd flags...]: starts circuitd on 127.0.0.1:0 unless
# -a is given; sets SERVER_URL, SERVER_PID, SERVER_ID, SERVER_LOG.
T_NSERVERS=0
start_server() {
	T_NSERVERS=$((T_NSERVERS + 1))
	local n=$T_NSERVERS
	local out="$T_TMP/server$n.url"
	SERVER_LOG="$T_TMP/server$n.log"
	local addr=(-a 127.0.0.1:0)
	for a in "$@"; do case "$a" in -a|--addr|-if|--if) addr=();; esac; done
	"$CIRCUITD_BIN" "${addr[@]}" "$@" >"$out" 2>"$SERVER_LOG" &
	SERVER_PID=$!
	t_track "$SERVER_PID"
	for _ in $(seq 1 200); do
		if [ -s "$out" ] && grep -q '^circuit://' "$out"; then break; fi
		kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG" >&2; fail "circuitd exited at start"; }
		sleep 0.05
	done
	SERVER_URL=$(head -n1 "$out")
	[[ "$SERVER_URL" == circuit://* ]] || fail "circuitd printed no URL"
	SERVER_ID=${SERVER_URL##*/}
	export CIRCUIT_TEST_URL="$SERVER_URL"
}

# free_port: a port free for both TCP and UDP on 127.0.0.1 (a server's
# membership uses UDP on its TCP port).
free_port() {
	python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close(); u.close(); continue
    t.close(); u.close(); print(p); break
PY
}

# server_field URL FIELD [RUN...]: one top-level field of the peek of URL's
# server anchor (a number or a string), asked with the CLI run through RUN
# (e.g. `ip netns exec NS`, or nothing). members_are URL N [RUN...]: that
# server counts exactly N members (itself included).
server_field() {
	local url=$1 field=$2
	shift 2
	"$@" "$CIRCUIT_BIN" -d "$url" peek "/${url##*/}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$field"
}
members_are() {
	local url=$1 n=$2
	shift 2
	[ "$(server_field "$url" Members "$@")" = "$n" ]
}

# c ARGS...: the CLI dialed into the last started server.
c() { "$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" "$@"; }

# expect_fail CODE SUBSTRING CMD...: CMD must exit with CODE and print
# SUBSTRING on stderr, in one line.
expect_fail() {
	local want=$1 sub=$2; shift 2
	local rc=0
	"$@" >"$T_TMP/ef.out" 2>"$T_TMP/ef.err" </dev/null || rc=$?
	[ "$rc" = "$want" ] || { cat "$T_TMP/ef.err" >&2; fail "'$*' exited $rc, wanted $want"; }
	grep -qF -- "$sub" "$T_TMP/ef.err" || { cat "$T_TMP/ef.err" >&2; fail "'$*': stderr lacks '$sub'"; }
	[ "$(wc -l <"$T_TMP/ef.err")" -le 1 ] || { cat "$T_TMP/ef.err" >&2; fail "'$*': error is not one line"; }
}

# wait_until SECONDS CMD...: polls CMD every 50 ms (bounded).
wait_until() {
	local secs=$1; shift
	local n=$((secs * 20))
	for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
	fail "timed out after ${secs}s waiting for: $*"
}

# wait_true SECONDS 'SHELL CONDITION': like wait_until, with the condition
# re-evaluated at every poll (command substitutions included).
wait_true() {
	local secs=$1
	shift
	wait_until "$secs" eval "$*"
}

# server_alive: the last server still answers.
server_alive() { c ls "/$SERVER_ID" >/dev/null || fail "server stopped serving"; }

# tail_after_exit PATH WANT ERR: PATH's job (a process or a container)
# printed the file WANT on stdout and the line ERR on stderr and exited
# non-zero. A reader gets all of WANT; after the exit `circuit tail` still
# prints WANT's last 64 KiB, `--stderr` ERR and `-n 7` the last 7 bytes.
tail_after_exit() {
	local path=$1 want=$2 err=$3 rc=0
	c stdout "$path" | cmp - "$want" || fail "the reader should get all of stdout"
	c wait "$path" >/dev/null || rc=$?
	[ $rc = 5 ] || fail "wait should exit 5, got $rc"
	c tail "$path" >"$T_TMP/tail"
	[ "$(stat -c %s "$T_TMP/tail")" = 65536 ] || fail "tail should print 64 KiB by default"
	cmp "$T_TMP/tail" <(tail -c 65536 "$want") || fail "tail is not the last 64 KiB of stdout"
	[ "$(c tail --stderr "$path")" = "$err" ] || fail "tail --stderr should print stderr"
	cmp <(c tail -n 7 "$path") <(tail -c 7 "$want") || fail "tail -n 7 should print the last 7 bytes"
}

# lost_mid_call DIRECT_URL RELAY_URL PATH PID: `wait PATH` dialed at the
# owner (DIRECT_URL) and through another server (RELAY_URL), then the owner
# (PID) killed by SIGKILL mid-call: both must exit 3, the same code.
lost_mid_call() {
	local direct relayed rc
	"$CIRCUIT_BIN" -d "$1" wait "$3" >/dev/null 2>"$T_TMP/direct.err" &
	direct=$!
	"$CIRCUIT_BIN" -d "$2" wait "$3" >/dev/null 2>"$T_TMP/relayed.err" &
	relayed=$!
	sleep 0.5
	kill -KILL "$4"
	rc=0; wait "$relayed" || rc=$?
	[ "$rc" = 3 ] || fail "relayed: lost server exited $rc, not 3: $(cat "$T_TMP/relayed.err")"
	rc=0; wait "$direct" || rc=$?
	[ "$rc" = 3 ] || fail "direct: lost server exited $rc, not 3: $(cat "$T_TMP/direct.err")"
}
