#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Docker API version negotiation (issue 17, finding 1), against a fake
# engine that answers the unversioned /version and refuses versioned paths
# outside its range with Docker's own 400 and wording. Needs no real
# engine, so it never skips.
#  - An engine like Docker 29 (API 1.44 to 1.52) is accepted and spoken to
#    in 1.52; before, the kind was refused ("no longer speaks 1.41").
#  - An engine like Docker 20.10 (up to 1.41) is spoken to in 1.41.
#  - An engine whose range does not meet ours (1.24 to 1.30) is refused
#    with one clear line.
#  - An engine upgraded under a running circuitd: the call refused as "too
#    old" fails with the engine's words, and the next one speaks the new
#    version.
source "$CIRCUIT_TESTLIB"
FAKE="$CIRCUIT_SOURCE_DIR/tests/plugins/docker/fake_engine.py"
# fake NAME MIN MAX VERSION: a fake engine at $T_TMP/NAME.sock, its requests in $T_TMP/NAME.log.
fake() {
	python3 "$FAKE" "$T_TMP/$1.sock" "$T_TMP/$1.log" "$2" "$3" "$4" &
	t_track $!
	FAKE_PID=$!
	wait_until 10 test -S "$T_TMP/$1.sock"
}
spoken() { grep -oE '^[A-Z]+ /v[0-9.]+/' "$T_TMP/$1.log" | sed -E 's|.*/v([0-9.]+)/|\1|' | sort -u | tr '\n' ' '; }

fake new 1.44 1.52 29.0.0
start_server --docker --docker-host "unix://$T_TMP/new.sock"
X=$SERVER_ID
c peek /$X | grep -q '"docker" : "' && { cat "$SERVER_LOG"; fail "the kind is unavailable with a Docker-29-like engine"; }
grep -q '^GET /version$' "$T_TMP/new.log" || fail "the unversioned /version was not asked"
[ "$(spoken new)" = "1.52 " ] || fail "spoke $(spoken new) to an engine of 1.44..1.52, wanted 1.52 only"
grep -q "engine at $T_TMP/new.sock: version 29.0.0, speaking API 1.52" "$SERVER_LOG" ||
	fail "the server did not say which version it speaks"
expect_fail 1 "fake engine: no POST /containers/create" \
	bash -c "echo '{\"Image\":\"busybox\"}' | '$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/d"
expect_fail 1 "fake engine: pull access denied" \
	bash -c "echo '{\"Image\":\"busybox\",\"Pull\":true}' | '$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/p"
ok "a Docker-29-like engine (API 1.44..1.52) is accepted and spoken to in 1.52; a pull error in errorDetail is reported"

fake old 1.12 1.41 20.10.24
start_server --docker --docker-host "unix://$T_TMP/old.sock"
grep -q "version 20.10.24, speaking API 1.41" "$SERVER_LOG" || fail "Docker 20.10 should be spoken to in 1.41"
[ "$(spoken old)" = "1.41 " ] || fail "spoke $(spoken old) to an engine of up to 1.41"
ok "a Docker-20.10-like engine (up to 1.41) is spoken to in 1.41"

fake ancient 1.24 1.30 17.06.0
start_server --docker --docker-host "unix://$T_TMP/ancient.sock"
X=$SERVER_ID
grep -q "plugin docker: the engine at $T_TMP/ancient.sock speaks Docker API 1.24 to 1.30; circuit speaks 1.41 to 1.52" "$SERVER_LOG" ||
	{ cat "$SERVER_LOG"; fail "an engine whose range does not meet ours should be refused with one clear line"; }
expect_fail 3 "speaks Docker API 1.24 to 1.30" \
	bash -c "echo '{\"Image\":\"x\"}' | '$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/d"
ok "an engine of API 1.24..1.30 is refused with one clear line"

# Upgraded in place: 1.12..1.41, then 1.44..1.52.
fake up 1.12 1.41 20.10.24
start_server --docker --docker-host "unix://$T_TMP/up.sock"
X=$SERVER_ID U_URL=$SERVER_URL
echo "1.44 1.52 29.0.0" >"$T_TMP/up.log.next"
kill -USR1 "$FAKE_PID"
mkd() { bash -c "echo '{\"Image\":\"busybox\"}' | '$CIRCUIT_BIN' -d '$U_URL' mkdocker /$X/$1"; }
expect_fail 1 "client version 1.41 is too old" mkd a
wait_true 10 'grep -q "refused API 1.41: now version 29.0.0, speaking API 1.52" "$SERVER_LOG"'
expect_fail 1 "fake engine: no POST /containers/create" mkd b
ok "an engine upgraded under a running server: one call refused, then the new version spoken"
