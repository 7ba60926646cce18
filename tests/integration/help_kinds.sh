#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `circuit help` from the source of truth (issues 19 and 20): besides the
# built-ins, it lists every kind the dialed server offers, with each `mk`
# and verb, their arguments and one-line summaries, read from the plugins'
# descriptors (the server's peek, Kinds); `help VERB` and `VERB -h` print a
# plugin verb's usage; a word that is neither is refused with exit 2; with
# no server it says so and still exits 0. Before, `help send` printed the
# generic text, and no channel, subscription or docker verb was listed.
source "$CIRCUIT_TESTLIB"
start_server --plugins=proc,chan,subscription,dns
cx() { "$CIRCUIT_BIN" -d "$SERVER_URL" "$@"; }
cx help >"$T_TMP/help" || fail "circuit help exited $?"
for line in '^  chan 0\.1\.0: ' '^    mkchan PATH \[-max SIZE\] CAP  *make one$' \
	'^    send PATH  *send one message, read from standard input$' \
	'^    signal PATH SIGNAL  *send a signal to the process group$' \
	'^    mkproc PATH \[-scrub\] < SPEC  *make one$' \
	'^    mk@join PATH  *make one \(@join\)$' '^    mk@leave PATH  *make one \(@leave\)$' \
	'^  dns 0\.1\.0: ' '^  ls '; do
	grep -qE -- "$line" "$T_TMP/help" || { cat "$T_TMP/help"; fail "circuit help lacks /$line/"; }
done
! grep -q 'mksubscription' "$T_TMP/help" || fail "help offers mksubscription, which servers refuse"
expect_fail 2 "\"subscription\" is a plugin, not a kind: make its elements with mk@join or mk@leave" \
	cx mksubscription "/$SERVER_ID/s"
ok "circuit help lists every kind of the server with its mk and verbs"

cx help send >"$T_TMP/send" || fail "help send exited $?"
grep -qx 'usage: circuit send PATH' "$T_TMP/send" || { cat "$T_TMP/send"; fail "help send: no usage"; }
grep -q '^send one message, read from standard input (on chan elements' "$T_TMP/send" || fail "help send: no summary"
grep -qx 'Reads standard input.' "$T_TMP/send" || fail "help send: stdin not said"
cx recv -h >"$T_TMP/recv" || fail "recv -h exited $?"
[ "$(grep -c '^usage: circuit recv PATH$' "$T_TMP/recv")" = 2 ] || { cat "$T_TMP/recv"; fail "recv -h should show chan's and subscription's recv"; }
cx mk@join --help | grep -qx 'usage: circuit mk@join PATH' || fail "mk@join --help"
cx help mkchan | grep -qx 'usage: circuit mkchan PATH \[-max SIZE\] CAP' || fail "help mkchan"
ok "help VERB and VERB -h print a plugin verb's usage from its descriptor"

expect_fail 2 "unknown command frobnicate: neither a built-in nor a verb of a kind of $SERVER_URL" cx help frobnicate
ok "help of a word no kind has: exit 2, one line"

# Without a server, the plugins installed beside circuit describe themselves
# (circuitd --describe-plugins): every kind and verb is still discoverable.
# Before: only a line saying that a server would have listed them.
"$CIRCUIT_BIN" -d 127.0.0.1:1 help >"$T_TMP/none" || fail "help without a server exited $?"
grep -q '^Element kinds of the plugins installed here, as no server answered' "$T_TMP/none" ||
	{ cat "$T_TMP/none"; fail "help without a server should list the installed kinds"; }
for line in "  chan 0.1.0: " "    mkchan PATH \[-max SIZE\] CAP " "    send PATH " "    mk@join PATH " \
	"    mkproc PATH \[-scrub\] < SPEC" "    set PATH \"RR\""; do
	grep -q "^$line" "$T_TMP/none" || { cat "$T_TMP/none"; fail "help without a server lacks '$line'"; }
done
"$CIRCUIT_BIN" -d 127.0.0.1:1 send -h >"$T_TMP/send" || fail "send -h without a server exited $?"
grep -q '^usage: circuit send PATH$' "$T_TMP/send" && grep -q 'on chan elements; the plugins installed here' "$T_TMP/send" ||
	{ cat "$T_TMP/send"; fail "send -h without a server should describe chan's send"; }
expect_fail 2 "unknown command frobnicate: neither a built-in nor a verb of a kind of the plugins installed here" \
	"$CIRCUIT_BIN" -d 127.0.0.1:1 help frobnicate
"$CIRCUIT_BIN" --describe-plugins >/dev/null 2>&1 && fail "circuit took a daemon flag"
"$CIRCUITD_BIN" --describe-plugins | python3 -c '
import json, sys
k = json.load(sys.stdin)
assert {"chan", "proc", "dns", "subscription"} <= set(k), sorted(k)
assert any(o["Name"] == "send" for o in k["chan"]["Operations"]), k["chan"]
' || fail "circuitd --describe-plugins is not every installed kind as JSON"
ok "without a server: the installed plugins' kinds and verbs (circuitd --describe-plugins)"
