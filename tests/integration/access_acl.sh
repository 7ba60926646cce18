#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keys have names and permissions (issue 16, part 2). Two keyed servers on
# 127.0.0.1 share one key file with named keys (cluster, ci, ops); each has
# its own --acl. A key holder can do exactly what the owning server's rules
# give its key: per verb, per path prefix, per kind; direct and relayed
# through the other server, whose looser rules do not widen them. Denials
# are one line, exit 1, and logged with the identity; relayed lines name the
# relay. A client cannot speak for a server (the "caller" member,
# member.sync). Rules reload on SIGHUP; a bad file is refused, naming the
# line. Before: every key holder could do everything.
source "$CIRCUIT_TESTLIB"

key() { "$CIRCUIT_BIN" keygen "$T_TMP/$1.key" && cat "$T_TMP/$1.key"; }
CLUSTER=$(key cluster) CI=$(key ci) OPS=$(key ops) IDLE=$(key idle)
printf '%s cluster\n%s ci\n%s ops\n%s idle\n' "$CLUSTER" "$CI" "$OPS" "$IDLE" >"$T_TMP/server.key"
chmod 600 "$T_TMP/server.key"

cat >"$T_TMP/a.acl" <<'EOF'
# A is loose: ci may do anything here.
key:cluster server,all
key:ops     all       /
key:ci      all       /
EOF
cat >"$T_TMP/b.acl" <<'EOF'
key:cluster server,all /
key:ops     all        /
key:ci      read       /                  # look anywhere
key:ci      make,write,scrub /*/jobs/ci   kinds=proc
key:idle    peek       /nowhere
EOF

PA=$(free_port) PB=$(free_port)
start_server -a 127.0.0.1:$PA --plugins=proc,chan --hmac "$T_TMP/server.key" --acl "$T_TMP/a.acl" \
	--log "$T_TMP/a.ops"
A=$SERVER_ID A_URL=$SERVER_URL
start_server -a 127.0.0.1:$PB --plugins=proc,chan --hmac "$T_TMP/server.key" --acl "$T_TMP/b.acl" \
	--log "$T_TMP/b.ops" -j 127.0.0.1:$PA
B=$SERVER_ID B_URL=$SERVER_URL B_PID=$SERVER_PID
as() { local k=$1 url=$2; shift 2; "$CIRCUIT_BIN" -d "$url" -hmac "$T_TMP/$k.key" "$@"; }
wait_true 20 '[ "$(as ops "$A_URL" ls / | grep -c "^/X")" = 2 ]'

# Direct: verbs, prefixes, kinds.
echo '{"Path":"/bin/cat"}' >"$T_TMP/cat.json"
as ci "$B_URL" mkproc /$B/jobs/ci/a <"$T_TMP/cat.json" || fail "ci could not mkproc under /$B/jobs/ci"
echo hello | as ci "$B_URL" stdin /$B/jobs/ci/a
[ "$(as ci "$B_URL" stdout /$B/jobs/ci/a)" = hello ] || fail "ci could not read its job"
expect_fail 1 "permission denied: key ci may not mkproc under /$B/prod/a" \
	as ci "$B_URL" mkproc /$B/prod/a <"$T_TMP/cat.json"
expect_fail 1 "permission denied: key ci may not mkchan under /$B/jobs/ci/ch" \
	as ci "$B_URL" mkchan /$B/jobs/ci/ch 1
as ops "$B_URL" mkproc /$B/prod/a <"$T_TMP/cat.json" || fail "ops could not mkproc"
as ci "$B_URL" peek /$B/prod/a >/dev/null || fail "ci could not peek (read) /$B/prod/a"
as ci "$B_URL" ls /$B/prod >/dev/null || fail "ci could not ls /$B/prod"
expect_fail 1 "permission denied: key ci may not scrub on /$B/prod/a" as ci "$B_URL" scrub /$B/prod/a
expect_fail 1 "permission denied: key ci may not signal on /$B/prod/a" as ci "$B_URL" signal TERM /$B/prod/a
expect_fail 1 "permission denied: key ci may not stdin on /$B/prod/a" as ci "$B_URL" stdin /$B/prod/a </dev/null
expect_fail 1 "permission denied: key idle may not ls on /$B" as idle "$B_URL" ls /$B
as ops "$B_URL" peek /$B/prod/a >/dev/null || fail "a denied scrub removed the job"
ok "direct: the owner's rules decide per verb, path prefix and kind"

# Relayed through A, whose rules let ci do anything: B still decides.
export CIRCUIT_DIRECT=0
expect_fail 1 "permission denied: key ci may not mkproc under /$B/prod/b" \
	as ci "$A_URL" mkproc /$B/prod/b <"$T_TMP/cat.json"
expect_fail 1 "permission denied: key ci may not scrub on /$B/prod/a" as ci "$A_URL" scrub /$B/prod/a
as ci "$A_URL" mkproc /$B/jobs/ci/b <"$T_TMP/cat.json" || fail "ci could not mkproc on B through A"
as ci "$A_URL" mkproc /$A/prod/x <"$T_TMP/cat.json" || fail "A's own rules were not applied on A"
unset CIRCUIT_DIRECT
ok "relayed: the owner applies its rules to the caller the relay vouches for; a relay cannot widen them"

# The op log names who did it, and which server relayed it; denials too.
sleep 0.3
grep -q "\"who\":\"key ci\",\"via\":\"$A\",\"op\":\"mk\",\"path\":\"/$B/jobs/ci/b\".*\"result\":\"ok\"" "$T_TMP/b.ops" ||
	{ cat "$T_TMP/b.ops"; fail "B's log lacks the relayed mk with its caller and relay"; }
grep -q "\"who\":\"key ci\",\"via\":\"$A\",\"op\":\"mk\",\"path\":\"/$B/prod/b\".*permission denied" "$T_TMP/b.ops" ||
	{ cat "$T_TMP/b.ops"; fail "B's log lacks the relayed denial"; }
grep -q "\"who\":\"key ci\",\"op\":\"scrub\",\"path\":\"/$B/prod/a\".*permission denied" "$T_TMP/b.ops" ||
	{ cat "$T_TMP/b.ops"; fail "B's log lacks the direct denial"; }
if grep '"op"' "$T_TMP/a.ops" "$T_TMP/b.ops" | grep -v '"who":'; then fail "an op line names nobody"; fi
ok "the op log names the key, and the relay, on every line, denials included"

# A key holder that is not a server cannot sync (nor vouch: access_local).
out=$(as ci "$B_URL" member.sync /$B 2>&1) && fail "member.sync from a client key succeeded"
echo "$out" | grep -q "member.sync is for servers only, and key ci is not one" || fail "member.sync: $out"
ok "member.sync only from servers"

# SIGHUP reloads the rules; a bad file keeps the old ones.
echo 'key:ci make /*/prod kinds=proc' >>"$T_TMP/b.acl"
kill -HUP "$B_PID"
wait_until 5 grep -q "SIGHUP: 4 key(s) loaded" "$SERVER_LOG"
as ci "$B_URL" mkproc /$B/prod/c <"$T_TMP/cat.json" || fail "the reloaded rule was not applied"
echo 'who:ci read /' >>"$T_TMP/b.acl"
kill -HUP "$B_PID"
wait_until 5 grep -q "SIGHUP: keeping the current keys and rules: .*b.acl line 7: \"who:ci\" names nobody" "$SERVER_LOG"
as ci "$B_URL" mkproc /$B/prod/d <"$T_TMP/cat.json" || fail "a bad reload dropped the rules in force"
ok "rules reload on SIGHUP; a bad file keeps the rules in force"

# At start: a bad file, and a first key the rules do not make a server's.
expect_fail 2 "b.acl line 7: \"who:ci\" names nobody" "$CIRCUITD_BIN" -a 127.0.0.1:0 --acl "$T_TMP/b.acl"
printf '%s ci\n%s cluster\n' "$CI" "$CLUSTER" >"$T_TMP/wrong.key"
chmod 600 "$T_TMP/wrong.key"
expect_fail 2 "the first key of $T_TMP/wrong.key (\"ci\") is the one this server connects with" \
	"$CIRCUITD_BIN" -a 127.0.0.1:0 --hmac "$T_TMP/wrong.key" --acl "$T_TMP/a.acl"
ok "bad rules and a client's key first are refused at start, naming the line"
