#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Jobs as other accounts (issue 16, part 3), with real accounts this test
# makes (random names, removed at the end even on failure):
#  - a non-root circuitd refuses "User" and "Group" in one line;
#  - a caller the access rules do not let name accounts (a local account
#    admitted by --local-group, without an ACL file) is refused in one line;
#  - a root circuitd runs a job with "User" as that account: its uid, its
#    primary group, its supplementary groups, HOME/USER/LOGNAME (unless the
#    spec's Env sets them); "Group" replaces the primary group;
#  - `--plugin-option proc.user=NAME` is the account of jobs that name none;
#  - such jobs start in Dir (entered as the account), else at its home, else
#    at /;
#  - such a job can neither signal circuitd (EPERM) nor read its 0600 key;
#  - an unknown user or group is refused in one line, leaving no element;
#  - an unknown proc.user stops circuitd at start, saying why (issue 20).
# Before: "User" was an unknown key and every job ran as circuitd's account.
if [ "$(id -u)" != 0 ]; then
	echo "skip: makes users and groups (useradd, groupadd): run as root"
	exit 77
fi
for tool in useradd userdel groupadd groupdel setpriv; do
	command -v "$tool" >/dev/null || { echo "skip: $tool is missing"; exit 77; }
done
source "$CIRCUIT_TESTLIB"

SFX=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
U1=cu$SFX   # a user: primary group G1, also in G2
UJ=cj$SFX   # the default job account: primary group GJ
G1=cg1$SFX
G2=cg2$SFX
G3=cg3$SFX  # a group U1 is not in
GJ=cgj$SFX
MADE_USERS=()
MADE_GROUPS=()

# Servers first (their jobs run as these accounts), then the accounts.
users_cleanup() {
	set +e
	t_stop_tracked
	for u in "${MADE_USERS[@]}"; do
		userdel "$u" 2>/dev/null || userdel -f "$u" || echo "proc_users: could not remove user $u" >&2
	done
	for g in "${MADE_GROUPS[@]}"; do
		groupdel "$g" || echo "proc_users: could not remove group $g" >&2
	done
}
trap 'u_rc=$?; users_cleanup; (exit $u_rc); t_cleanup' EXIT

mkgroup() { groupadd "$1"; MADE_GROUPS+=("$1"); }
mkuser() { # mkuser NAME HOME PRIMARY [SUPPLEMENTARY]
	local extra=()
	[ $# -ge 4 ] && extra=(-G "$4")
	useradd -M -d "$2" -s /usr/sbin/nologin -g "$3" "${extra[@]}" "$1"
	MADE_USERS+=("$1")
}
# The daemon's files: a directory anyone may enter, a key only root reads,
# so that a job is kept out by the key's mode alone.
chmod 711 "$T_TMP"
mkdir -m 755 "$T_TMP/pub"
HJ=$T_TMP/pub/home-$UJ # UJ's home, its own (U1's does not exist)
mkgroup "$G1"
mkgroup "$G2"
mkgroup "$G3"
mkgroup "$GJ"
mkuser "$U1" "/nonexistent/$U1" "$G1" "$G2"
mkuser "$UJ" "$HJ" "$GJ"
install -d -m 700 -o "$UJ" -g "$GJ" "$HJ"
gid() { getent group "$1" | cut -d: -f3; }
"$CIRCUIT_BIN" keygen "$T_TMP/pub/key"
[ "$(stat -c %a "$T_TMP/pub/key")" = 600 ] || fail "keygen did not make a 0600 key"

# --- a circuitd that is not root -----------------------------------------------
cat >"$T_TMP/as-user" <<EOF
#!/bin/sh
exec setpriv --reuid=$UJ --regid=$GJ --init-groups "$CIRCUITD_BIN" "\$@"
EOF
chmod 755 "$T_TMP/as-user"
REAL_CIRCUITD=$CIRCUITD_BIN
CIRCUITD_BIN="$T_TMP/as-user" start_server --plugins=proc
CIRCUITD_BIN=$REAL_CIRCUITD
X=$SERVER_ID
[ "$(stat -c %U "/proc/$SERVER_PID")" = "$UJ" ] || fail "the unprivileged circuitd is not running as $UJ"
echo '{"Path":"/usr/bin/id","Args":["-un"]}' | c mkproc "/$X/plain"
[ "$(c stdout "/$X/plain")" = "$UJ" ] || fail "a job of an unprivileged circuitd is not its user"
mk_user_job() { echo "{\"Path\":\"/usr/bin/id\",\"User\":\"$U1\"}" | c mkproc "/$X/asuser"; }
expect_fail 1 "circuitd runs as $UJ, not root" mk_user_job
mk_group_job() { echo "{\"Path\":\"/usr/bin/id\",\"Group\":\"$G1\"}" | c mkproc "/$X/asgroup"; }
expect_fail 1 "cannot run jobs as another user or group" mk_group_job
c ls "/$X/..." | grep -q 'as\(user\|group\)' && fail "a refused spec left an element behind"
ok "a circuitd that is not root refuses User and Group in one line"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true

# --- root: who may name an account ---------------------------------------------
# Without an ACL file only root, circuitd's own account and key holders may
# name User or Group; a local account admitted by --local-group may not.
start_server --plugins=proc --plugin-option "proc.user=$UJ" --local-group "$GJ"
X=$SERVER_ID
as_uj() { setpriv --reuid="$UJ" --regid="$GJ" --init-groups "$CIRCUIT_BIN" -d "$SERVER_URL" "$@"; }
acl_user() { echo "{\"Path\":\"/usr/bin/id\",\"User\":\"$U1\"}" | as_uj mkproc "/$X/acluser"; }
expect_fail 1 "/$X/acluser: permission denied (uid $(id -u "$UJ") ($UJ)): may not run jobs as user $U1" acl_user
acl_group() { echo "{\"Path\":\"/usr/bin/id\",\"Group\":\"$G2\"}" | as_uj mkproc "/$X/aclgroup"; }
expect_fail 1 "/$X/aclgroup: permission denied (uid $(id -u "$UJ") ($UJ)): may not run jobs as group $G2" acl_group
echo '{"Path":"/usr/bin/id","Args":["-un"]}' | as_uj mkproc "/$X/aclplain"
[ "$(c stdout "/$X/aclplain")" = "$UJ" ] || fail "a job without User did not run as proc.user"
c ls "/$X/..." | grep -q 'acl\(user\|group\)' && fail "a refused spec left an element behind"
ok "a caller the access rules do not allow to name an account is refused in one line"

# --- root, with a default job account ------------------------------------------
export CIRCUIT_HMAC="$T_TMP/pub/key"
start_server --plugins=proc --plugin-option "proc.user=$UJ"
X=$SERVER_ID

# run NAME SPEC: makes the job, prints its stdout, waits for it.
run() {
	echo "$2" | c mkproc "/$X/$1"
	c stdout "/$X/$1"
	c wait "/$X/$1" >/dev/null || true
}

out=$(run u1 "{\"Path\":\"/usr/bin/id\",\"User\":\"$U1\"}")
[ "$out" = "$(id "$U1")" ] || fail "User $U1: the job is '$out', wanted '$(id "$U1")'"
ok "a job with User runs as that user, its primary group and its supplementary groups"

out=$(run u1num "{\"Path\":\"/usr/bin/id\",\"User\":\"$(id -u "$U1")\"}")
[ "$out" = "$(id "$U1")" ] || fail "User by number: the job is '$out'"
ok "User may be a number"

# Job scripts anyone may read (the JSON stays free of shell quoting).
cat >"$T_TMP/pub/ids" <<'SCRIPT'
id -u
id -g
id -G | tr ' ' '\n' | sort -n | tr '\n' ' '
SCRIPT
cat >"$T_TMP/pub/names" <<'SCRIPT'
printf '%s|%s|%s\n' "$HOME" "$USER" "$LOGNAME"
SCRIPT
chmod 644 "$T_TMP/pub/ids" "$T_TMP/pub/names"
out=$(run u1g3 "{\"Path\":\"/bin/sh\",\"Args\":[\"$T_TMP/pub/ids\"],\"User\":\"$U1\",\"Group\":\"$G3\"}")
want="$(id -u "$U1")
$(gid "$G3")
$(printf '%s\n' "$(gid "$G2")" "$(gid "$G3")" | sort -n | tr '\n' ' ')"
[ "$out" = "$want" ] || fail "User $U1, Group $G3: the job has '$out', wanted '$want'"
ok "Group replaces the primary group; the user's other groups stay"

env_job="{\"Path\":\"/bin/sh\",\"Args\":[\"$T_TMP/pub/names\"]"
out=$(run envinh "$env_job,\"User\":\"$U1\"}")
[ "$out" = "/nonexistent/$U1|$U1|$U1" ] || fail "inherited environment as $U1: HOME|USER|LOGNAME is '$out'"
out=$(run envown "$env_job,\"User\":\"$U1\",\"Env\":[\"HOME=/tmp\",\"USER=someone\"]}")
[ "$out" = "/tmp|someone|$U1" ] || fail "Env given as $U1: HOME|USER|LOGNAME is '$out'"
ok "HOME, USER and LOGNAME are the job's account's unless the spec's Env sets them"

out=$(run dflt '{"Path":"/usr/bin/id"}')
[ "$out" = "$(id "$UJ")" ] || fail "with proc.user=$UJ a job without User is '$out'"
out=$(run dfltg "{\"Path\":\"/usr/bin/id\",\"Args\":[\"-g\"],\"Group\":\"$G2\"}")
[ "$out" = "$(gid "$G2")" ] || fail "Group alone: the job's group is '$out'"
out=$(run dfltenv "$env_job}")
[ "$out" = "$HJ|$UJ|$UJ" ] || fail "the default account's HOME|USER|LOGNAME is '$out'"
ok "proc.user is the account of jobs that name none"

# Where jobs of another account start: Dir, else home, else /.
out=$(run pwdj '{"Path":"/bin/pwd"}')
[ "$out" = "$HJ" ] || fail "a job of $UJ without Dir started in '$out', not its home $HJ"
out=$(run pwd1 "{\"Path\":\"/bin/pwd\",\"User\":\"$U1\"}")
[ "$out" = / ] || fail "a job of $U1 (no home) without Dir started in '$out', not /"
out=$(run pwdd "{\"Path\":\"/bin/pwd\",\"User\":\"$U1\",\"Dir\":\"$T_TMP/pub\"}")
[ "$out" = "$T_TMP/pub" ] || fail "Dir was not honoured: '$out'"
nodir() { echo "{\"Path\":\"/bin/pwd\",\"User\":\"$U1\",\"Dir\":\"$HJ\"}" | c mkproc "/$X/nodir"; }
expect_fail 2 "process spec: Dir \"$HJ\" as user $U1: Permission denied" nodir
ok "jobs of another account start in Dir (entered as that account), else at home, else at /"

# A job cannot signal circuitd, nor read its key.
echo "{\"Path\":\"/bin/sh\",\"Args\":[\"-c\",\"kill -0 $SERVER_PID\"]}" | c mkproc "/$X/kill"
c stderr "/$X/kill" >"$T_TMP/kill.err"
rc=0; c wait "/$X/kill" >/dev/null || rc=$?
[ "$rc" != 0 ] || fail "a job could signal circuitd"
grep -qi "not permitted" "$T_TMP/kill.err" || fail "kill -0 of circuitd failed, but not with EPERM: $(cat "$T_TMP/kill.err")"
kill -0 "$SERVER_PID" || fail "circuitd is gone"
echo "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/pub/key\"]}" | c mkproc "/$X/key"
c stdout "/$X/key" >"$T_TMP/key.out"
c stderr "/$X/key" >"$T_TMP/key.err"
rc=0; c wait "/$X/key" >/dev/null || rc=$?
[ "$rc" != 0 ] && [ ! -s "$T_TMP/key.out" ] || fail "a job read circuitd's key"
grep -qi "permission denied" "$T_TMP/key.err" || fail "reading the key failed, but not for permission: $(cat "$T_TMP/key.err")"
ok "a job can neither signal circuitd (EPERM) nor read its 0600 key"

# Unknown accounts: one line, nothing left behind.
nouser() { echo "{\"Path\":\"/usr/bin/id\",\"User\":\"nosuch$SFX\"}" | c mkproc "/$X/bad1"; }
expect_fail 2 "\"User\" \"nosuch$SFX\": no such user" nouser
nogroup() { echo "{\"Path\":\"/usr/bin/id\",\"User\":\"$U1\",\"Group\":\"nosuch$SFX\"}" | c mkproc "/$X/bad2"; }
expect_fail 2 "\"Group\" \"nosuch$SFX\": no such group" nogroup
c ls "/$X/..." | grep -q bad && fail "a refused spec left an element behind"
server_alive
ok "an unknown user or group is refused in one line"

# An unknown proc.user: circuitd does not start (issue 20: options are
# checked at start), and says why in one line.
expect_fail 2 "circuitd: --plugin-option proc.user=nosuch$SFX: no user \"nosuch$SFX\" on this host" \
	timeout 20 "$CIRCUITD_BIN" -a 127.0.0.1:0 --plugins=proc --plugin-option "proc.user=nosuch$SFX"
ok "an unknown proc.user stops circuitd at start, naming the user"
