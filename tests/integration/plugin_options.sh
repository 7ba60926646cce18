#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --plugin-option KIND.KEY=VALUE checked against the keys each plugin
# declares (issue 20): an unknown key or a bad value stops circuitd at
# start with one line naming the flag (exit 2), instead of the key being
# ignored or the kind going unavailable later; a good value is used;
# `circuitd --help-plugin KIND` lists a kind's operations and options from
# its descriptor; --docker-host is docker.host.
source "$CIRCUIT_TESTLIB"

# refused WANT FLAGS...: circuitd exits 2 at start, saying WANT in one line.
refused() {
	local want=$1
	shift
	expect_fail 2 "$want" timeout 20 "$CIRCUITD_BIN" -a 127.0.0.1:0 "$@"
}
refused "circuitd: --plugin-option chan.max-hold: the chan plugin has no such option (it has: chan.max-held" \
	--plugins=chan --plugin-option chan.max-hold=1M
refused "circuitd: --plugin-option chan.max-held=lots: " --plugins=chan --plugin-option chan.max-held=lots
refused "circuitd: --plugin-option proc.user=no-such-user-here: no user \"no-such-user-here\" on this host" \
	--plugins=proc --plugin-option proc.user=no-such-user-here
refused "circuitd: --plugin-option dns.port: the dns plugin has no such option (it has: none" \
	--plugins=dns --plugin-option dns.port=53
refused "circuitd: --plugin-option docker.host=tcp://127.0.0.1:2375: docker host \"tcp://127.0.0.1:2375\": only unix:///path sockets are supported" \
	--plugins=docker --plugin-option docker.host=tcp://127.0.0.1:2375
refused "circuitd: --plugin-option docker.allow-bind=data: \"data\" is not an absolute path" \
	--plugins=docker --plugin-option docker.allow-bind=data
ok "unknown keys and bad values stop circuitd at start, in one line naming the flag"

start_server --plugins=proc,chan --plugin-option chan.max-held=1K
c mkchan "/$SERVER_ID/ch" 4
head -c 500 /dev/zero | c send "/$SERVER_ID/ch" || fail "a send under the limit should work"
expect_fail 1 "limit (plugin option chan.max-held)" \
	bash -c "head -c 2000 /dev/zero | '$CIRCUIT_BIN' -d '$SERVER_URL' send /$SERVER_ID/ch"
ok "a good value is used (chan.max-held=1K: 500 bytes go, 2000 more are refused)"

"$CIRCUITD_BIN" --help-plugin chan >"$T_TMP/help" || fail "--help-plugin chan failed"
grep -q '^chan 0.1.0: ' "$T_TMP/help" || fail "no version and summary line"
grep -q '^  mkchan PATH \[-max SIZE\] CAP$' "$T_TMP/help" || { cat "$T_TMP/help"; fail "no mk usage"; }
grep -q '^  send PATH  *send one message' "$T_TMP/help" || { cat "$T_TMP/help"; fail "no send operation"; }
grep -q '^  chan.max-held=SIZE  *bytes of messages' "$T_TMP/help" || { cat "$T_TMP/help"; fail "no max-held option"; }
"$CIRCUITD_BIN" --help-plugin proc | grep -q '^  signal PATH SIGNAL  *send a signal' || fail "proc's signal usage"
"$CIRCUITD_BIN" --help-plugin dns | grep -q 'options (--plugin-option dns.KEY=VALUE): none declared' ||
	fail "dns declares no options"
expect_fail 2 'no plugin "nosuch"' "$CIRCUITD_BIN" --help-plugin nosuch
ok "--help-plugin lists a kind's operations and options from its descriptor"

start_server --plugins=docker --docker-host "unix://$T_TMP/none.sock"
grep -q "the engine at $T_TMP/none.sock did not answer" "$SERVER_LOG" || fail "--docker-host should be docker.host"
start_server --plugins=docker --plugin-option "docker.host=unix://$T_TMP/other.sock"
grep -q "the engine at $T_TMP/other.sock did not answer" "$SERVER_LOG" || fail "docker.host should be read"
ok "--docker-host and --plugin-option docker.host name the same engine"

# --plugin-options FILE, read again on SIGHUP: a reloadable key (chan.max-held)
# takes its new value; a bad new value and a key that is not reloadable
# (proc.user) are named in the log and keep theirs.
OPTS="$T_TMP/plugin-options"
printf '# test options\nchan.max-held=1K\nproc.user=%s\n' "$(id -un)" >"$OPTS"
start_server --plugins=proc,chan --plugin-options "$OPTS"
c mkchan "/$SERVER_ID/r" 4
big() { head -c 2000 /dev/zero | "$CIRCUIT_BIN" -d "$SERVER_URL" send "/$SERVER_ID/r"; }
expect_fail 1 "limit (plugin option chan.max-held)" big
printf 'chan.max-held=lots\n' >"$OPTS"
kill -HUP "$SERVER_PID"
wait_until 10 grep -q "SIGHUP: keeping plugin option chan.max-held: chan.max-held=lots" "$SERVER_LOG"
expect_fail 1 "limit (plugin option chan.max-held)" big
printf 'chan.max-held=1M\nproc.user=nobody\n' >"$OPTS"
kill -HUP "$SERVER_PID"
wait_until 10 grep -q "SIGHUP: plugin option chan.max-held=1M applied" "$SERVER_LOG"
grep -q "SIGHUP: plugin option proc.user=nobody takes effect only at a restart" "$SERVER_LOG" ||
	fail "a non-reloadable change should be named"
big || fail "a 2000-byte send should fit under the reloaded limit"
printf 'chan.max-held\n' >"$OPTS"
expect_fail 2 "line 1: \"chan.max-held\": expected KIND.KEY=VALUE" \
	timeout 20 "$CIRCUITD_BIN" -a 127.0.0.1:0 --plugins=chan --plugin-options "$OPTS"
ok "--plugin-options FILE: checked at start, reloadable keys applied on SIGHUP, others named"

# An option for a kind that is not loaded here is ignored, and said.
start_server --plugins=proc --plugin-option chn.max-held=1M
grep -q "plugin option chn.max-held: no plugin chn is loaded here; ignored" "$SERVER_LOG" ||
	fail "an option of a kind not loaded should be named in the log"
ok "an option of a kind that is not loaded: ignored, with a warning naming it"
