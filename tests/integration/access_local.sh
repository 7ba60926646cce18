#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Local callers have an identity (issue 16, part 1), with real accounts made
# here: on the unix socket (SO_PEERCRED) and on unkeyed loopback TCP (the
# kernel's owner of the peer socket), only root, the server's account and
# members of the local group are admitted; others get one line naming the
# rule, exit 1, and cannot run, read or scrub anything. Every op log line
# names the caller. Before: `nobody` ran programs as the daemon's user, read
# another user's job and scrubbed it, and the log said only 127.0.0.1:port.
source "$CIRCUIT_TESTLIB"
[ "$(id -u)" = 0 ] || { echo "skip: needs root (makes accounts)"; exit 77; }
command -v useradd >/dev/null || { echo "skip: no useradd"; exit 77; }

sfx=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
G=ctg$sfx IN=cti$sfx OUT=cto$sfx
t_accounts() {
	userdel "$IN" 2>/dev/null
	userdel "$OUT" 2>/dev/null
	groupdel "$G" 2>/dev/null
	return 0
}
trap 'rc=$?; t_accounts; (exit $rc); t_cleanup' EXIT
groupadd "$G"
useradd -M -N -g nogroup -G "$G" -s /usr/sbin/nologin "$IN"
useradd -M -N -g nogroup -s /usr/sbin/nologin "$OUT"
# Other accounts must reach the socket's directory (not the test's files).
chmod 0711 "$T_TMP"
RUN="$T_TMP/run"
mkdir -m 0755 "$RUN"
SOCK="$RUN/circuitd.sock"

start_server --plugins=proc --socket "$SOCK" --local-group "$G" --log "$T_TMP/ops.log"
X=$SERVER_ID
[ -S "$SOCK" ] || fail "no socket at $SOCK"
[ "$(stat -c '%a %G' "$SOCK")" = "660 $G" ] || fail "socket is $(stat -c '%a %G' "$SOCK"), wanted 660 $G"

as() { local u=$1; shift; runuser -u "$u" -- env HOME=/ "$@"; }

# root makes a job holding a secret.
echo '{"Path":"/bin/cat"}' | c mkproc /$X/secret
echo "the secret" | c stdin /$X/secret

# A member of the group: admitted on the socket and on loopback TCP.
as "$IN" "$CIRCUIT_BIN" -d "unix:$SOCK" ls /$X >/dev/null || fail "a group member was refused on the socket"
as "$IN" "$CIRCUIT_BIN" -d "$SERVER_URL" ls /$X >/dev/null || fail "a group member was refused on loopback TCP"
echo '{"Path":"/bin/true"}' | as "$IN" "$CIRCUIT_BIN" -d "unix:$SOCK" mkproc /$X/mine ||
	fail "a group member could not mkproc"
ok "a member of the local group is admitted on the socket and on loopback TCP"

# An account outside it: the socket's mode keeps it out before the server
# sees it; opened wider (an operator's chmod), the server's own check does.
expect_fail 1 "Permission denied" as "$OUT" "$CIRCUIT_BIN" -d "unix:$SOCK" ls /$X
chmod 0666 "$SOCK"
# Outsiders, and nobody: refused everywhere, with one line.
for u in "$OUT" nobody; do
	uid=$(id -u "$u")
	for d in "unix:$SOCK" "$SERVER_URL"; do
		expect_fail 1 "permission denied: uid $uid ($u) is not admitted" \
			as "$u" "$CIRCUIT_BIN" -d "$d" ls /$X
		expect_fail 1 "members of the group $G" as "$u" "$CIRCUIT_BIN" -d "$d" stdout /$X/secret
		expect_fail 1 "not admitted" as "$u" "$CIRCUIT_BIN" -d "$d" scrub /$X/secret
		echo '{"Path":"/usr/bin/id"}' >"$T_TMP/spec"
		expect_fail 1 "not admitted" as "$u" "$CIRCUIT_BIN" -d "$d" mkproc /$X/evil <"$T_TMP/spec"
	done
done
c peek /$X/secret >/dev/null || fail "the refused callers' scrub took the job away"
if c peek /$X/evil >/dev/null 2>&1; then fail "a refused caller made a job"; fi
grep -q "refused: permission denied: uid $(id -u "$OUT") ($OUT) is not admitted" "$SERVER_LOG" ||
	fail "the refusal is not in the server's log"
ok "accounts outside the group (and nobody) cannot run, read or scrub, on the socket or TCP"

# Every op line names who did it.
c scrub /$X/secret
sleep 0.2
grep -q "\"who\":\"uid $(id -u "$IN") ($IN)\".*\"op\":\"mk\"" "$T_TMP/ops.log" ||
	{ cat "$T_TMP/ops.log"; fail "the op log does not name the group member"; }
grep -q '"who":"uid 0 (root)".*"op":"scrub"' "$T_TMP/ops.log" ||
	{ cat "$T_TMP/ops.log"; fail "the op log does not name root"; }
if grep '"op"' "$T_TMP/ops.log" | grep -v '"who":'; then fail "an op line names nobody"; fi
ok "the op log names the caller (uid and account) on every line"

# The CLI finds the socket without an address ($CIRCUIT_SOCKET stands for
# the packaged /run/circuit/circuitd.sock).
out=$(CIRCUIT_SOCKET="$SOCK" "$CIRCUIT_BIN" ls /) || fail "the CLI did not find the socket"
echo "$out" | grep -q "/$X" || fail "ls / over the default socket: $out"
ok "with no address configured the CLI uses the local socket"

# A second server refuses a socket a live server holds; a stale one is replaced.
expect_fail 2 "another server listens there" "$CIRCUITD_BIN" -a 127.0.0.1:0 --socket "$SOCK"
server_alive
ok "a live server's socket is not taken over"

# With --acl, a local account gets what its rules say; and no client, even
# one claiming the server role, may speak for another caller.
cat >"$T_TMP/acl" <<ACL
user:nobody read /
ACL
start_server --plugins=proc --acl "$T_TMP/acl"
Y=$SERVER_ID
PORT=${SERVER_URL#circuit://127.0.0.1:}
PORT=${PORT%%/*}
as nobody "$CIRCUIT_BIN" -d "$SERVER_URL" ls /$Y >/dev/null || fail "nobody's read rule was not applied"
expect_fail 1 "permission denied: uid $(id -u nobody) (nobody) may not mkproc under /$Y/x" \
	as nobody "$CIRCUIT_BIN" -d "$SERVER_URL" mkproc /$Y/x <"$T_TMP/spec"
as nobody python3 - "$PORT" "$Y" <<'PY' || fail "a client spoke for another caller"
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["CIRCUIT_SOURCE_DIR"], "tests", "tools"))
import circuit_wire as w
port, y = int(sys.argv[1]), sys.argv[2]
root = {"kind": "local", "uid": 0, "user": "root", "groups": ["root"]}
for role in ("client", "server"):
    c = w.Conn("127.0.0.1", port, hello=False)
    c.send_frame(w.HELLO, 0, json.dumps({"version": 1, "role": role}).encode())
    c.read_frame()
    reply, _ = c.call("mk", "/%s/forged" % y, kind="proc", caller=root,
                      body=b'{"Path":"/bin/true"}')
    text = json.dumps(reply)
    assert "only servers may say who is calling" in text, (role, text)
    reply, _ = c.call("member.sync", "/%s" % y)
    assert "member.sync is for servers only" in json.dumps(reply), (role, reply)
    c.close()
PY
if c peek /$Y/forged >/dev/null 2>&1; then fail "a forged caller made a job"; fi
ok "rules apply to local accounts; no client may vouch for a caller or run member.sync"
