#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Status at a glance (issue 19): `ls -l` shows per element what a person
# checks first (from its kind's status), per server its address and state;
# `ls --json` carries the same as one object per line; `ls /` is sorted
# whichever server is dialed; all of it the same through a relay.
# Before: ls -l printed the kind only, ls / bare IDs, --json {path, kind}.
. "$CIRCUIT_TESTLIB"

start_server --plugins=proc,chan,dns,subscription
A=$SERVER_URL XA=$SERVER_ID
start_server --plugins=proc,chan -j "$A"
B=$SERVER_URL XB=$SERVER_ID
a() { "$CIRCUIT_BIN" -d "$A" "$@"; }
b() { "$CIRCUIT_BIN" -d "$B" "$@"; }
wait_true 20 '[ "$(a ls / | wc -l)" = 2 ] && [ "$(b ls / | wc -l)" = 2 ]'

# ls / in one order from either server, with address and state.
[ "$(a ls /)" = "$(b ls /)" ] || fail "ls / differs by the server dialed"
[ "$(a ls /)" = "$(a ls / | sort)" ] || fail "ls / is not sorted"
a ls -l / >"$T_TMP/servers"
grep -qE "^server +/$XA +${A#circuit://}" "$T_TMP/servers" 2>/dev/null ||
	grep -qE "^server +/$XA +127\.0\.0\.1:[0-9]+ alive$" "$T_TMP/servers" ||
	{ cat "$T_TMP/servers" >&2; fail "ls -l / lacks A's address and state"; }
grep -qE "^server +/$XB +127\.0\.0\.1:[0-9]+ alive$" "$T_TMP/servers" ||
	{ cat "$T_TMP/servers" >&2; fail "ls -l / lacks B's address and state"; }
ok "ls -l /: each server with its address and state, sorted, the same from A and B"

# One element of each kind on A, a process on B.
echo '{"Path":"/bin/sleep","Args":["300"]}' | a mkproc "/$XA/job"
echo '{"Path":"/bin/sh","Args":["-c","exit 3"]}' | a mkproc "/$XA/done"
a wait "/$XA/done" >/dev/null || true
a mkchan "/$XA/q" 4
echo one | a send "/$XA/q"
a mkdns "/$XA/dns" 127.0.0.1:0 >/dev/null
a set "/$XA/dns" "www.example. A 192.0.2.1"
a mk@join "/$XA/joins"
echo '{"Path":"/bin/sleep","Args":["300"]}' | a mkproc "/$XB/far"

a ls -l "/$XA/..." >"$T_TMP/long"
line() { grep -E "^$1 +/$XA/$2 " "$T_TMP/long" || { cat "$T_TMP/long" >&2; fail "ls -l has no $1 line for $2"; }; }
line proc job | grep -qE ' Phase=running Pid=[0-9]+' || fail "proc job: no phase and pid"
line proc done | grep -qE ' Phase=exited Pid=[0-9]+ ExitCode=3' || fail "proc done: no exit code"
line chan q | grep -qE ' Pending=1 Cap=4 Closed=false' || fail "chan: no pending/cap/closed"
line dns dns | grep -qE ' Address=127\.0\.0\.1:[0-9]+ Records=1 ' || fail "dns: no address/records"
line @join joins | grep -qE ' Pending=[0-9]+ Closed=false' || fail "subscription: no pending"
ok "ls -l: proc phase/pid/exit, chan pending/cap/closed, dns address/records, subscription pending"

# The same through a relay: B lists A's tree with A's statuses.
b ls -l "/$XA/..." >"$T_TMP/relayed"
grep -qE "^proc +/$XA/job +Phase=running Pid=" "$T_TMP/relayed" ||
	{ cat "$T_TMP/relayed" >&2; fail "relayed ls -l lacks the status"; }
# ls -l /... walks both servers, statuses included.
a ls -l /... >"$T_TMP/all"
grep -qE "^proc +/$XB/far +Phase=running" "$T_TMP/all" || { cat "$T_TMP/all" >&2; fail "ls -l /... lacks B's process status"; }
grep -qE "^server +/$XB +127\.0\.0\.1:[0-9]+ alive" "$T_TMP/all" || fail "ls -l /... lacks B's server line"
ok "ls -l through a relay and across servers (ls -l /...)"

# --json: one object per line, status as an object.
a ls --json "/$XA/..." >"$T_TMP/json"
python3 - "$T_TMP/json" "$XA" <<'PY' || fail "ls --json lines are not what they should be"
import json, sys
path, xa = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(path)]
by = {l["path"]: l for l in lines}
job = by["/%s/job" % xa]
assert job["kind"] == "proc" and job["status"]["Phase"] == "running" and job["status"]["Pid"] > 0, job
assert by["/%s/q" % xa]["status"] == {"Pending": 1, "Cap": 4, "Closed": False}, by["/%s/q" % xa]
assert by["/%s/dns" % xa]["status"]["Records"] == 1
PY
a ls --json / | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    assert o["kind"] == "server" and o["state"] == "alive" and ":" in o["addr"], o
' || fail "ls --json / lacks addr and state"
ok "ls --json: one object per line with status, servers with addr and state"

# A kind without a status lists with its kind only; an empty anchor as "-".
a mkchan "/$XA/dir/inner" 1
a ls -l "/$XA" | grep -qE '^- +/'"$XA"'/dir$' || fail "an anchor without element should show '-' and no status"
ok "an anchor without element: '-' and nothing after the path"
