# SPDX-License-Identifier: Apache-2.0
# tests/plugins/chan/chanlib.sh - helpers of the chan shell tests. Source it
# after $CIRCUIT_TESTLIB (which provides c, fail, t_track, wait_until...).

# ct ARGS...: the CLI with a 20 s bound, for commands that must not block.
ct() { timeout 20 "$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" "$@"; }

# pf PATH FIELD: one scalar field of `peek PATH` as JSON text (3, true,
# ...). peek prints a flat object, one member per line; sed keeps the tests
# fast on a loaded machine (no interpreter start per poll).
pf() {
	local sp='[[:space:]]*'
	c peek "$1" | sed -n "s/^$sp\"$2\"$sp:$sp\([^,]*[^,[:space:]]\)$sp,\{0,1\}$sp\$/\1/p"
}

# peek_is PATH FIELD VALUE
peek_is() { [ "$(pf "$1" "$2")" = "$3" ]; }

# expect_peek PATH FIELD VALUE: the field has that value now.
expect_peek() {
	local v
	v=$(pf "$1" "$2")
	[ "$v" = "$3" ] || fail "peek $1: $2 is $v, wanted $3"
}

# wait_peek PATH FIELD VALUE: waits (20 s at most) for the field's value.
wait_peek() { wait_until 20 peek_is "$@"; }

# bg NAME CMD ARGS...: runs the CLI command in the background, its stdout
# and stderr in $T_TMP/NAME.out and .err, stdin from $BG_IN (default
# /dev/null); sets BG_PID (the CLI process itself, so that signals reach
# it) and tracks it.
bg() {
	local name=$1; shift
	"$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" "$@" <"${BG_IN:-/dev/null}" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err" &
	BG_PID=$!
	t_track "$BG_PID"
}

# running PID: the process has not exited.
running() { kill -0 "$1" 2>/dev/null; }

# still_blocked PID WHAT: PID must still be running half a second later.
still_blocked() {
	sleep 0.5
	running "$1" || fail "$2 returned, but should block"
}

# bg_wait PID: waits (20 s at most) for PID to exit; its status in BG_RC.
bg_wait() {
	local i
	for i in $(seq 1 400); do running "$1" || break; sleep 0.05; done
	running "$1" && fail "process $1 did not return within 20 s"
	BG_RC=0
	wait "$1" 2>/dev/null || BG_RC=$?
}

# bg_expect PID NAME CODE [SUBSTRING]: PID exits with CODE, and its stderr
# ($T_TMP/NAME.err) contains SUBSTRING on one line.
bg_expect() {
	bg_wait "$1"
	[ "$BG_RC" = "$3" ] || { cat "$T_TMP/$2.err" >&2; fail "$2 exited $BG_RC, wanted $3"; }
	if [ -n "${4:-}" ]; then
		grep -qF -- "$4" "$T_TMP/$2.err" || { cat "$T_TMP/$2.err" >&2; fail "$2: stderr lacks '$4'"; }
		[ "$(wc -l <"$T_TMP/$2.err")" -le 1 ] ||
			{ cat "$T_TMP/$2.err" >&2; fail "$2: error is not one line"; }
	fi
}
