#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/readme: the README's channel example, step by step: mkchan with
# capacity 3, peek, send from a file, recv to stdout.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server

c ls /... >"$T_TMP/ls"
grep -qx "/$SERVER_ID" "$T_TMP/ls" || fail "ls /... does not list /$SERVER_ID"

P=/$SERVER_ID/this/is/charlie
c mkchan "$P" 3
ok "mkchan $P 3"

c peek "$P" >"$T_TMP/peek.json"
python3 - "$T_TMP/peek.json" <<'PY' || fail "wrong peek of a new channel: $(cat "$T_TMP/peek.json")"
import json, sys
p = json.load(open(sys.argv[1]))
want = {"Cap": 3, "Closed": False, "Aborted": False, "NumSend": 0, "NumRecv": 0,
        "Pending": 0, "WaitingSenders": 0, "WaitingReceivers": 0}
for k, v in want.items():
    assert p.get(k) == v and type(p.get(k)) == type(v), (k, p.get(k))
PY
ok "peek shows Cap 3, Closed, Aborted, NumSend, NumRecv and the counters"

# A file with text, binary bytes and a NUL: the message is a byte string.
some_file=$T_TMP/some_file
{ printf 'the contents of the message\n\0'; head -c 20000 /dev/urandom; } >"$some_file"
ct send "$P" <"$some_file" || fail "send to a channel with free space must return at once"
expect_peek "$P" Pending 1
expect_peek "$P" NumSend 1
ok "send < some_file returns at once with space in the buffer"

ct recv "$P" >"$T_TMP/got"
cmp "$some_file" "$T_TMP/got" || fail "recv printed something else than what was sent"
expect_peek "$P" Pending 0
expect_peek "$P" NumRecv 1
ok "recv prints the message on stdout"

# An empty message is a message too.
ct send "$P" </dev/null
ct recv "$P" >"$T_TMP/empty"
[ ! -s "$T_TMP/empty" ] || fail "an empty message came back non-empty"
expect_peek "$P" NumRecv 2
ok "empty message"
server_alive
