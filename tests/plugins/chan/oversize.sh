#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# chan/oversize: a message over the channel's limit is refused with the
# limit named; the channel and the server go on working.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/chanlib.sh"
start_server

# send_file PATH FILE: expect_fail gives commands /dev/null as stdin.
send_file() { ct send "$1" <"$2"; }

P=/$SERVER_ID/small
c mkchan -max 4096 "$P" 3
expect_peek "$P" MaxSize 4096
head -c 4097 /dev/zero >"$T_TMP/4097"
head -c 4096 /dev/zero >"$T_TMP/4096"
expect_fail 1 "4096 bytes" send_file "$P" "$T_TMP/4097"
expect_peek "$P" Pending 0
expect_peek "$P" WaitingSenders 0
ct send "$P" <"$T_TMP/4096"
ct recv "$P" >"$T_TMP/got"
cmp "$T_TMP/4096" "$T_TMP/got" || fail "a message of exactly the limit did not pass"
ok "-max 4096: 4097 bytes refused naming the limit, 4096 bytes pass"

# The default limit is 1 MiB.
D=/$SERVER_ID/default
c mkchan "$D" 1
expect_peek "$D" MaxSize 1048576
head -c $((1024 * 1024 + 1)) /dev/zero >"$T_TMP/big"
expect_fail 1 "1048576 bytes" send_file "$D" "$T_TMP/big"
head -c $((1024 * 1024)) /dev/urandom >"$T_TMP/mib"
ct send "$D" <"$T_TMP/mib"
ct recv "$D" >"$T_TMP/got"
cmp "$T_TMP/mib" "$T_TMP/got" || fail "a 1 MiB message did not pass"
ok "default limit 1 MiB, named when exceeded"

# Bad -max values.
expect_fail 2 "message size \"lots\"" ct mkchan -max lots "/$SERVER_ID/m1" 1
expect_fail 2 "largest allowed" ct mkchan -max 1G "/$SERVER_ID/m2" 1
server_alive
ok "bad -max values refused; server still serving"
