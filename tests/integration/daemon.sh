#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# circuitd's flags, URL and op log; how the CLI finds a server.
source "$CIRCUIT_TESTLIB"

start_server --log "$T_TMP/op.log"
X=$SERVER_ID
[[ "$SERVER_URL" =~ ^circuit://127\.0\.0\.1:[0-9]+/$SERVER_PID/X[0-9a-f]{16}$ ]] ||
	fail "URL $SERVER_URL is not circuit://HOST:PORT/PID/X<16 hex>"
ok "URL format"

echo '{"Path":"/bin/true"}' | c mkproc /$X/a
c wait /$X/a >/dev/null
expect_fail 1 "no element" c peek /$X/nothing
wait_until 5 grep -q '"op":"peek"' "$T_TMP/op.log"
python3 - "$T_TMP/op.log" <<'PY' || fail "op log is not JSON lines with increasing seq"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
seqs = [l["seq"] for l in lines]
assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
ops = [(l.get("op"), l.get("result")) for l in lines if "op" in l]
assert ("mk", "ok") in ops and ("wait", "ok") in ops and ("peek", "error") in ops, ops
assert all("peer" in l for l in lines if "op" in l)
assert any(l.get("event") == "exit" for l in lines)
PY
ok "op log: JSON lines, sequence numbers, peer, op, path, result"

# The CLI accepts the old Q spelling and a bare HOST:PORT.
c ls / >/dev/null
"$CIRCUIT_BIN" -d "${SERVER_URL/\/X//Q}" ls / >/dev/null || fail "Q URL refused"
hostport=${SERVER_URL#circuit://}
hostport=${hostport%%/*}
"$CIRCUIT_BIN" -d "$hostport" ls / | grep -q "/$X" || fail "bare HOST:PORT"
"$CIRCUIT_BIN" ls -d "$SERVER_URL" / >/dev/null || fail "-d after the verb"
ok "URL spellings"

# Finding the server: $CIRCUIT (tilde expanded), then ~/.circuit.
echo "$SERVER_URL" >"$HOME/.circuit"
"$CIRCUIT_BIN" ls / | grep -q "/$X" || fail "~/.circuit not used"
rm "$HOME/.circuit"
echo "  $SERVER_URL  " >"$HOME/other"
CIRCUIT="~/other" "$CIRCUIT_BIN" ls / | grep -q "/$X" || fail "\$CIRCUIT not used"
expect_fail 2 "cannot read the server address" env CIRCUIT=/nonexistent "$CIRCUIT_BIN" ls /
ok "\$CIRCUIT and ~/.circuit"

# Bad flags: one line, exit 2, before anything is bound.
expect_fail 2 "-j" "$CIRCUITD_BIN" -a 127.0.0.1:0 -j "not a url:x"
expect_fail 2 "multicast group" "$CIRCUITD_BIN" -a 127.0.0.1:0 -discover 10.0.0.1
expect_fail 2 "/dev/null" "$CIRCUITD_BIN" -a 127.0.0.1:0 --hmac /dev/null
expect_fail 2 'no plugin "nosuch"' "$CIRCUITD_BIN" -a 127.0.0.1:0 --plugins=proc,nosuch
expect_fail 2 "not a numeric IP address" "$CIRCUITD_BIN" -a nohost:1
expect_fail 2 "bad port" "$CIRCUITD_BIN" -a 127.0.0.1:99999
expect_fail 2 "no such interface" "$CIRCUITD_BIN" -if nosuchif0
expect_fail 2 "unexpected argument" "$CIRCUITD_BIN" -a 127.0.0.1:0 stray
ok "bad daemon flags"

# --plugins loads exactly those; "circuit start" runs circuitd.
"$CIRCUIT_BIN" start -a 127.0.0.1:0 --plugins=proc >"$T_TMP/start.url" 2>"$T_TMP/start.log" &
t_track $!
wait_until 10 grep -q '^circuit://' "$T_TMP/start.url"
url2=$(head -n1 "$T_TMP/start.url")
"$CIRCUIT_BIN" -d "$url2" peek "/${url2##*/}" >"$T_TMP/peek2"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["Plugins"]==["proc"], d' "$T_TMP/peek2" ||
	fail "--plugins=proc should load proc only"
ok "circuit start and --plugins"

# No open door by default (issue 16): unkeyed off loopback is refused with
# the way out; with --insecure it serves, and says so.
expect_fail 2 "refusing to listen on 0.0.0.0 without a key" "$CIRCUITD_BIN" -a 0.0.0.0:0
grep -q -- "--insecure" "$T_TMP/ef.err" || fail "the refusal does not name --insecure"
ok "an unkeyed listen off loopback is refused, naming the key and --insecure"

# An unspecified address is never in the URL.
"$CIRCUITD_BIN" --insecure -a 0.0.0.0:0 >"$T_TMP/any.url" 2>"$T_TMP/any.log" &
t_track $!
wait_until 10 grep -q '^circuit://' "$T_TMP/any.url"
! grep -q '0\.0\.0\.0' "$T_TMP/any.url" || fail "URL names 0.0.0.0"
grep -q "serving 0.0.0.0:[0-9]* without a key (--insecure)" "$T_TMP/any.log" ||
	fail "--insecure did not warn: $(cat "$T_TMP/any.log")"
ok "no unspecified address in the URL; --insecure warns"

# With no address and no key it binds 127.0.0.1 only and says so (in a
# network namespace of its own, so port 11022 is surely free).
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	unshare -n bash -c "ip link set lo up; timeout 2 '$CIRCUITD_BIN' >'$T_TMP/def.url' 2>'$T_TMP/def.log'" || true
	grep -q '^circuit://127.0.0.1:11022/' "$T_TMP/def.url" || fail "default should be 127.0.0.1:11022"
	grep -q "127.0.0.1 only" "$T_TMP/def.log" || fail "the default bind should be announced"
	ok "default: 127.0.0.1:11022, announced"
else
	t_skip "default address check needs root for a private network namespace"
fi

"$CIRCUIT_BIN" help | grep -q mkproc || fail "help lists commands"
"$CIRCUIT_BIN" help signal | grep -q "SIGNAL PATH" || fail "help signal"
"$CIRCUIT_BIN" --version | grep -q "^circuit " || fail "--version"
"$CIRCUITD_BIN" --version | grep -q "^circuitd " || fail "circuitd --version"
ok "help and version"
