#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Docker API version negotiation (issue 17, finding 1), against a fake
# engine (fake_engine.py) that answers the unversioned /version, refuses
# versioned paths outside its range with Docker's own 400 and wording, and
# plays a container that prints one line and exits 0. Needs no real engine,
# so it never skips.
#  - An engine like Docker 29.0 (API 1.44 to 1.52) is accepted: the kind is
#    in the server's Plugins, every request (the orphan sweep's list, a
#    whole container's life) is sent as /v1.52, and an element's peek names
#    the engine and the version spoken. Before, every request was /v1.41
#    and the kind was refused ("no longer speaks 1.41").
#  - An engine newer than the plugin (1.40 to 1.56) is spoken to in 1.54,
#    the newest the plugin was checked against.
#  - An engine like Docker 20.10 (up to 1.41) is spoken to in 1.41.
#  - An engine whose range does not meet ours (1.24 to 1.30) is refused
#    with one clear line, in the server log and in its peek's Unavailable.
#  - An engine upgraded under a running circuitd (1.41 only, then 1.44 to
#    1.52) refuses a create as "too old": the plugin asks /version again and
#    the same create goes again in 1.52 and succeeds. A downgraded one (1.44
#    to 1.52, then 1.41) refuses the attach as "too new": the attach goes
#    again in 1.41 and the container's output arrives. One upgraded past
#    every version we speak (to 1.60 to 1.70) fails the create in one line
#    with the engine's refusal and the reason it could not be spoken to.
source "$CIRCUIT_TESTLIB"
FAKE="$CIRCUIT_SOURCE_DIR/tests/plugins/docker/fake_engine.py"
# fake NAME MIN MAX VERSION: a fake engine at $T_TMP/NAME.sock, its requests in $T_TMP/NAME.log.
fake() {
	python3 "$FAKE" "$T_TMP/$1.sock" "$T_TMP/$1.log" "$2" "$3" "$4" &
	FAKE_PID=$!
	t_track "$FAKE_PID"
	wait_until 10 test -S "$T_TMP/$1.sock"
}
# spoken NAME: the API versions of every versioned request, sorted, space-separated.
spoken() { grep -oE '^[A-Z]+ /v[0-9.]+/' "$T_TMP/$1.log" | sed -E 's|.*/v([0-9.]+)/|\1|' | sort -u | tr '\n' ' '; }
# json EXPR: prints EXPR (python, on j, the JSON on stdin; a, b prints "a b").
json() { python3 -c 'import json,sys; j = json.load(sys.stdin); print('"$1"')'; }
# mkd URL PATH: a docker element that runs the fake's container.
mkd() { echo '{"Image":"busybox","Path":"/bin/true"}' | "$CIRCUIT_BIN" -d "$1" mkdocker "$2"; }
# runs URL PATH: its whole life: the output, a clean exit.
runs() {
	[ "$("$CIRCUIT_BIN" -d "$1" stdout "$2")" = "hello from the fake engine" ] ||
		fail "$2: the container's output did not arrive"
	"$CIRCUIT_BIN" -d "$1" wait "$2" >/dev/null || fail "$2: wait did not report a clean exit"
}

# --- Docker 29.0: 1.44 to 1.52 ----------------------------------------------
fake new 1.44 1.52 29.0.0
start_server --docker --docker-host "unix://$T_TMP/new.sock"
X=$SERVER_ID
c peek "/$X" >"$T_TMP/peek.json"
[ "$(json '"docker" in j["Plugins"] and "docker" not in j["Unavailable"]' <"$T_TMP/peek.json")" = True ] ||
	{ cat "$T_TMP/peek.json" "$SERVER_LOG"; fail "the kind is unavailable with a Docker-29-like engine"; }
grep -q '^GET /version 200$' "$T_TMP/new.log" || fail "the unversioned /version was not asked"
grep -q '^GET /v1.52/containers/json?all=1&filters=.* 200$' "$T_TMP/new.log" ||
	{ cat "$T_TMP/new.log"; fail "the orphan sweep was not sent in 1.52"; }
grep -qF "engine at $T_TMP/new.sock: version 29.0.0, speaking API 1.52 (Docker Engine - Community; it speaks 1.44 to 1.52, circuit 1.41 to 1.54)" "$SERVER_LOG" ||
	{ cat "$SERVER_LOG"; fail "the server did not say which engine it found and which version it speaks"; }
mkd "$SERVER_URL" "/$X/d"
runs "$SERVER_URL" "/$X/d"
c peek "/$X/d" >"$T_TMP/peek.json"
[ "$(json 'j["Id"], j["Engine"]["Name"], j["Engine"]["Version"], j["Engine"]["ApiVersion"], j["Engine"]["MinAPIVersion"], j["Engine"]["MaxAPIVersion"]' <"$T_TMP/peek.json")" = \
	"fakeid Docker Engine - Community 29.0.0 1.52 1.44 1.52" ] ||
	{ cat "$T_TMP/peek.json"; fail "peek of the element should show the inspect and the engine, with the version spoken"; }
for r in "POST /v1.52/containers/create?name=" "POST /v1.52/containers/fakeid/attach?" \
	"POST /v1.52/containers/fakeid/start" "POST /v1.52/containers/fakeid/wait"; do
	grep -qF "$r" "$T_TMP/new.log" || { cat "$T_TMP/new.log"; fail "no '$r' in the fake's log"; }
done
expect_fail 1 "fake engine: pull access denied" \
	bash -c "echo '{\"Image\":\"missing\",\"Pull\":true}' | '$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/p"
[ "$(spoken new)" = "1.52 " ] || fail "spoke $(spoken new) to an engine of 1.44..1.52, wanted 1.52 only"
ok "a Docker-29-like engine (API 1.44..1.52): the kind loads, every request is /v1.52, peek names the engine and version; a pull error in errorDetail is reported"

# --- newer than the plugin: 1.40 to 1.56 ----------------------------------
fake newer 1.40 1.56 30.0.0
start_server --docker --docker-host "unix://$T_TMP/newer.sock"
grep -q "version 30.0.0, speaking API 1.54 " "$SERVER_LOG" || { cat "$SERVER_LOG"; fail "an engine of up to 1.56 should be spoken to in 1.54"; }
mkd "$SERVER_URL" "/$SERVER_ID/d"
runs "$SERVER_URL" "/$SERVER_ID/d"
[ "$(spoken newer)" = "1.54 " ] || fail "spoke $(spoken newer) to an engine of 1.40..1.56, wanted 1.54"
ok "an engine newer than the plugin (1.40..1.56) is spoken to in 1.54"

# --- Docker 20.10: up to 1.41 ---------------------------------------------
fake old 1.12 1.41 20.10.24
start_server --docker --docker-host "unix://$T_TMP/old.sock"
grep -q "version 20.10.24, speaking API 1.41 " "$SERVER_LOG" || fail "Docker 20.10 should be spoken to in 1.41"
mkd "$SERVER_URL" "/$SERVER_ID/d"
runs "$SERVER_URL" "/$SERVER_ID/d"
[ "$(spoken old)" = "1.41 " ] || fail "spoke $(spoken old) to an engine of up to 1.41"
ok "a Docker-20.10-like engine (up to 1.41) is spoken to in 1.41"

# --- ranges that do not meet: 1.24 to 1.30 ---------------------------------
fake ancient 1.24 1.30 17.06.0
start_server --docker --docker-host "unix://$T_TMP/ancient.sock"
X=$SERVER_ID
line="the engine at $T_TMP/ancient.sock speaks Docker API 1.24 to 1.30; circuit speaks 1.41 to 1.54"
grep -qF "plugin docker: $line" "$SERVER_LOG" ||
	{ cat "$SERVER_LOG"; fail "an engine whose range does not meet ours should be refused with one clear line"; }
[ "$(grep -cF "$line" "$SERVER_LOG")" = 1 ] || fail "the refusal should be one line"
c peek "/$X" >"$T_TMP/peek.json"
[ "$(json 'j["Unavailable"].get("docker")' <"$T_TMP/peek.json")" = "$line" ] ||
	{ cat "$T_TMP/peek.json"; fail "peek of the server should list docker as unavailable with that line"; }
expect_fail 3 "speaks Docker API 1.24 to 1.30" \
	bash -c "echo '{\"Image\":\"x\"}' | '$CIRCUIT_BIN' -d '$SERVER_URL' mkdocker /$X/d"
if grep -qE "^[A-Z]+ /v[0-9]" "$T_TMP/ancient.log"; then cat "$T_TMP/ancient.log"; fail "a refused engine was sent versioned requests"; fi
ok "an engine of API 1.24..1.30 is refused with one clear line (log, peek's Unavailable, mkdkr)"

# --- upgraded in place: 1.41, then 1.44 to 1.52 at the create ---------------
fake up 1.41 1.41 20.10.24
start_server --docker --docker-host "unix://$T_TMP/up.sock"
U_URL=$SERVER_URL X=$SERVER_ID
grep -q "speaking API 1.41 " "$SERVER_LOG" || fail "1.41 only should be spoken to in 1.41"
echo "1.44 1.52 29.0.0 /containers/create" >"$T_TMP/up.log.next"
mkd "$U_URL" "/$X/a"
runs "$U_URL" "/$X/a"
grep -q '^POST /v1.41/containers/create?name=.* 400$' "$T_TMP/up.log" || { cat "$T_TMP/up.log"; fail "the create was not refused in 1.41"; }
grep -q '^POST /v1.52/containers/create?name=.* 201$' "$T_TMP/up.log" || { cat "$T_TMP/up.log"; fail "the create was not sent again in 1.52"; }
[ "$(grep -c '^GET /version 200$' "$T_TMP/up.log")" = 2 ] || fail "/version should be asked once at start and once after the refusal"
grep -qF "engine at $T_TMP/up.sock refused API 1.41: now version 29.0.0, speaking API 1.52 (it speaks 1.44 to 1.52); the refused calls go again" "$SERVER_LOG" ||
	{ cat "$SERVER_LOG"; fail "the server did not log the renegotiation"; }
[ "$(c peek "/$X/a" | json 'j["Engine"]["Version"], j["Engine"]["ApiVersion"]')" = "29.0.0 1.52" ] ||
	fail "peek should show the version spoken after the upgrade"
mkd "$U_URL" "/$X/b"
runs "$U_URL" "/$X/b"
[ "$(grep -c ' 400$' "$T_TMP/up.log")" = 1 ] || fail "only the one call should have been refused"
ok "an engine upgraded under a running server: the refused create is sent again in 1.52 and succeeds"

# --- downgraded in place: 1.44 to 1.52, then 1.41 at the attach ------------
fake down 1.44 1.52 29.0.0
start_server --docker --docker-host "unix://$T_TMP/down.sock"
echo "1.12 1.41 20.10.24 /attach" >"$T_TMP/down.log.next"
mkd "$SERVER_URL" "/$SERVER_ID/a"
runs "$SERVER_URL" "/$SERVER_ID/a"
grep -q '^POST /v1.52/containers/fakeid/attach?.* 400$' "$T_TMP/down.log" || { cat "$T_TMP/down.log"; fail "the attach was not refused in 1.52"; }
grep -q '^POST /v1.41/containers/fakeid/attach?.* 101$' "$T_TMP/down.log" || { cat "$T_TMP/down.log"; fail "the attach was not sent again in 1.41"; }
grep -q '^POST /v1.41/containers/fakeid/start 204$' "$T_TMP/down.log" || fail "the start should follow in 1.41"
ok "an engine downgraded under a running server: the refused attach is sent again in 1.41 and the output arrives"

# --- upgraded past us: 1.41, then 1.60 to 1.70 at the create ---------------
fake past 1.41 1.41 20.10.24
start_server --docker --docker-host "unix://$T_TMP/past.sock"
echo "1.60 1.70 99.0.0 /containers/create" >"$T_TMP/past.log.next"
expect_fail 1 "creating container circuit-$SERVER_ID.a-1: client version 1.41 is too old. Minimum supported API version is 1.60, please upgrade your client to a newer version (and asking the engine again failed: the engine at $T_TMP/past.sock speaks Docker API 1.60 to 1.70; circuit speaks 1.41 to 1.54)" \
	mkd "$SERVER_URL" "/$SERVER_ID/a"
[ "$(grep -c '/containers/create' "$T_TMP/past.log")" = 1 ] || fail "a create the engine cannot take in any version we speak should not go again"
ok "an engine upgraded past every version we speak: the call fails in one line with the engine's refusal and why"
