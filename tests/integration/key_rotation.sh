#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Key rotation across a keyed cluster of three, with no restart and no
# failed operation: each server's key file goes k1 -> k1,k2 -> k2,k1 -> k2,
# reloaded with SIGHUP one server at a time, while clients keep operating
# through every server on the others' anchors; membership never drops.
. "$CIRCUIT_TESTLIB"

key() { "$CIRCUIT_BIN" keygen >"$T_TMP/$1"; chmod 600 "$T_TMP/$1"; }
key k1; key k2
# put FILE KEYS...: atomically replaces FILE with the named keys, in order.
put() {
	local f=$1; shift
	(cd "$T_TMP" && cat "$@") >"$T_TMP/$f.tmp"
	chmod 600 "$T_TMP/$f.tmp"
	mv "$T_TMP/$f.tmp" "$T_TMP/$f"
}
for s in s1 s2 s3 client; do put $s k1; done

start_server --hmac "$T_TMP/s1" --plugins=proc,chan
U1=$SERVER_URL; X1=$SERVER_ID; P1=$SERVER_PID
start_server --hmac "$T_TMP/s2" --plugins=proc,chan -j "$U1"
U2=$SERVER_URL; X2=$SERVER_ID; P2=$SERVER_PID
start_server --hmac "$T_TMP/s3" --plugins=proc,chan -j "$U1"
U3=$SERVER_URL; X3=$SERVER_ID; P3=$SERVER_PID
k() { local u=$1; shift; "$CIRCUIT_BIN" -d "$u" -hmac "$T_TMP/client" "$@"; }
all3() { for u in "$U1" "$U2" "$U3"; do [ "$(k "$u" ls / | grep -c '^/X')" = 3 ] || return 1; done; }
wait_until 20 all3
echo '{"Path":"/bin/sleep","Args":["600"]}' | k "$U1" mkproc "/$X3/job"
k "$U2" mkchan "/$X1/ch" 1000
ok "three servers keyed with k1"

# The load: through each server, an operation on another's anchors, and
# every server's view of the membership; bounded in count and time.
(
	end=$((SECONDS + 120))
	for i in $(seq 1 2000); do
		[ -e "$T_TMP/stop" ] || [ $SECONDS -ge $end ] && break
		k "$U1" peek "/$X3/job" >/dev/null 2>>"$T_TMP/errors" || echo "peek $i" >>"$T_TMP/failed"
		echo "m$i" | k "$U3" send "/$X1/ch" 2>>"$T_TMP/errors" || echo "send $i" >>"$T_TMP/failed"
		[ "$(k "$U2" recv "/$X1/ch" 2>>"$T_TMP/errors")" = "m$i" ] || echo "recv $i" >>"$T_TMP/failed"
		n=$(k "$U2" ls / 2>>"$T_TMP/errors" | grep -c '^/X')
		[ "$n" -ge 3 ] || echo "members $i: $n" >>"$T_TMP/failed"
		echo "$i" >"$T_TMP/done"
	done
) &
LOAD=$!
t_track $LOAD
rounds() { cat "$T_TMP/done" 2>/dev/null || echo 0; }
rounds_at_least() { [ "$(rounds)" -ge "$1" ]; }
progress() { wait_until 60 rounds_at_least $(($(rounds) + 3)); }
progress

hup_all() {
	for pid in "$P1" "$P2" "$P3"; do
		kill -HUP "$pid"
		sleep 1
	done
	progress
}
for s in s1 s2 s3; do put $s k1 k2; done
hup_all
ok "step 1: every server accepts k1 and k2 (connects with k1)"
for s in s1 s2 s3; do put $s k2 k1; done
hup_all
put client k2
progress
ok "step 2: every server connects with k2; clients moved to k2"
for s in s1 s2 s3; do put $s k2; done
hup_all
ok "step 3: k1 dropped everywhere"
# A fresh server with k2 only joins the rotated cluster.
put s4 k2
start_server --hmac "$T_TMP/s4" --plugins=proc,chan -j "$U2"
U4=$SERVER_URL
four() { [ "$(k "$U4" ls / | grep -c '^/X')" = 4 ]; }
wait_until 20 four
touch "$T_TMP/stop"
wait $LOAD
[ "$(rounds)" -ge 10 ] || fail "the load made only $(rounds) rounds"
if [ -s "$T_TMP/failed" ]; then
	cat "$T_TMP/failed" "$T_TMP/errors" >&2
	fail "operations failed during the rotation"
fi
grep -q "SIGHUP: 2 key(s) loaded" "$T_TMP/server1.log" || fail "no reload line in the log"
ok "$(rounds) rounds of operations through all three servers, none failed; a k2-only server joins"

put old k1
expect_fail 2 "wrong key" "$CIRCUIT_BIN" -d "$U1" -hmac "$T_TMP/old" ls /
# A bad key file on SIGHUP keeps the keys the server has.
echo garbage >"$T_TMP/s1"
kill -HUP "$P1"
wait_until 5 grep -q "SIGHUP: keeping the current keys" "$T_TMP/server1.log"
k "$U1" ls / >/dev/null || fail "a bad key file on SIGHUP broke the server"
ok "the old key is refused after the rotation; a bad key file on SIGHUP changes nothing"
