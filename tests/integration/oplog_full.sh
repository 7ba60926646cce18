#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The op log never lies (issue 15, finding 7): on a full disk it loses whole
# lines only, counts them, says so on stderr and in the server's peek, and
# writes a gap record naming them once space returns; every server start
# writes a start record (a restarted server's seq starts at 1 again). The
# disk is a 64 KiB tmpfs in a mount namespace of the test's own (root).
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (a tmpfs in a private mount namespace)"
	exit 77
fi
if [ -z "${OPLOG_MNTNS:-}" ]; then
	unshare -m true 2>/dev/null || { echo "SKIP: cannot create mount namespaces here"; exit 77; }
	exec unshare -m --propagation private env OPLOG_MNTNS=1 bash "$0" "$@"
fi
source "$CIRCUIT_TESTLIB"
disk="$T_TMP/disk"
mkdir -p "$disk"
mount -t tmpfs -o size=64k tmpfs "$disk"
# The mount goes with the namespace, when the test's last process exits.
LOG="$disk/op.log"

start_server --plugins=chan --log "$LOG"
X=$SERVER_ID
head -n1 "$LOG" | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline())
assert r["event"] == "start" and r["seq"] == 1 and r["first_seq"] == 1 and r["server"] == sys.argv[1], r
' "$X" || fail "the log does not open with a start record: $(head -n1 "$LOG")"
c mkchan /$X/q 100
# Fill the disk but for a few bytes, so the next lines cannot all fit.
dd if=/dev/zero of="$disk/filler" bs=1k count=200 2>/dev/null || true
for i in $(seq 1 30); do c peek /$X/q >/dev/null; done
lost=$(c peek /$X | python3 -c 'import json,sys; print(json.load(sys.stdin)["OpLog"]["Lost"])')
[ "$lost" -gt 0 ] || fail "no line was lost on a full disk (Lost $lost): the test did not fill it"
grep -q "op log .* could not be written" "$SERVER_LOG" || fail "the loss was not reported on stderr"
rm -f "$disk/filler"
c peek /$X/q >/dev/null
sleep 0.2
python3 - "$LOG" "$lost" <<'PY' || fail "the op log is not whole lines with a gap record"
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "the log ends mid-line"
recs = [json.loads(l) for l in lines[:-1]]  # every line is one JSON object
gaps = [r for r in recs if r.get("event") == "gap"]
assert len(gaps) == 1, gaps
g = gaps[0]
lost_peek = int(sys.argv[2])
assert g["lost"] >= lost_peek and g["last_seq"] - g["first_seq"] + 1 == g["lost"], g
seqs = [r["seq"] for r in recs if "seq" in r]
# The numbers written and the gap's numbers cover 1..max exactly once.
have = set(seqs) | set(range(g["first_seq"], g["last_seq"] + 1))
assert len(seqs) == len(set(seqs)), "a seq appears twice"
assert have == set(range(1, max(seqs) + 1)), "seq numbers missing beyond the gap"
print("figure: %d lines lost on the full disk, one gap record (seq %d-%d), every line whole"
      % (g["lost"], g["first_seq"], g["last_seq"]))
PY
ok "a full disk loses whole lines only, counted and named by a gap record"

# A restarted server appending to the same log says so.
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
start_server --plugins=chan --log "$LOG" --log-fsync 100
c ls / >/dev/null
starts=$(grep -c '"event":"start"' "$LOG")
[ "$starts" = 2 ] || fail "$starts start records after a restart, wanted 2"
ok "each server start writes a start record (seq 1 again, with the server's ID)"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
umount "$disk"
