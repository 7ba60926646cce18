#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_load_swap: a large `load` does not stop the answers. While it is
# being applied, queries are answered from the old records, before the
# load's reply arrives; the new records come in all at once (no query ever
# sees part of them); set, unset and another load are refused as busy (the
# wire error `busy`: exit 1) and ls -l shows Loading=READ/LINES meanwhile.
# No time is measured: the order of events is checked. peek's "Loading"
# before and after a group of queries proves that the group was answered
# while the load was being applied.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

N=200000
start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c set "$P" "old.swap.example. 300 IN A 192.0.2.1"

# The first and last lines are new names; an existing record changes TTL.
{
	echo "first.swap.example. 60 IN A 192.0.2.2"
	dns_a_records $N swap.example.
	echo "old.swap.example. 600 IN A 192.0.2.1"
	echo "last.swap.example. 60 IN A 192.0.2.3"
} >"$T_TMP/records.txt"

python3 - "$CIRCUIT_BIN" "$CIRCUIT_TEST_URL" "$P" "$DNS_PORT" "$T_TMP/records.txt" "$N" \
	>"$T_TMP/watch.out" 2>&1 <<'PY' || { cat "$T_TMP/watch.out" >&2; fail "load watcher"; }
import json, re, socket, struct, subprocess, sys

cli, url, path, port, records = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
N = int(sys.argv[6])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(5)
qid = 0

def ask(name):
    """(rcode, ttl of the first answer or None) of an A query."""
    global qid
    qid = (qid + 1) & 0xFFFF
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\0"
    q += struct.pack(">HH", 1, 1)
    sock.sendto(q, ("127.0.0.1", port))
    while True:
        r, _ = sock.recvfrom(4096)
        if struct.unpack(">H", r[:2])[0] == qid:
            break
    rcode = r[3] & 0x0F
    if struct.unpack(">H", r[6:8])[0] == 0:
        return rcode, None
    p = len(q)  # the question is echoed: the answer starts after it
    return rcode, struct.unpack(">I", r[p + 6:p + 10])[0]

def snapshot():
    """What each of the three names shows, in the order asked: 'old' or
    'new' each, or 'odd: ...' for an answer that is neither."""
    want = {"old.swap.example": ((0, 300), (0, 600)),
            "first.swap.example": ((3, None), (0, 60)),
            "last.swap.example": ((3, None), (0, 60))}
    seen = []
    for name, (old, new) in want.items():
        got = ask(name)
        seen.append("old" if got == old else "new" if got == new else "odd: %s %r" % (name, got))
    return seen

def loading():
    out = subprocess.run([cli, "-d", url, "peek", path], capture_output=True, text=True)
    return out.returncode == 0 and "Loading" in json.loads(out.stdout)

load = subprocess.Popen([cli, "-d", url, "load", path], stdin=open(records),
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
states, during, busy = [], 0, []
while load.poll() is None:
    if not loading():
        states.append(snapshot())
        continue
    s = snapshot()
    states.append(s)
    tries, listed = [], None
    if not busy:
        for args in (["set", path, "x.swap.example. A 192.0.2.9"], ["unset", path, "old.swap.example."],
                     ["load", path]):
            tries.append(subprocess.run([cli, "-d", url] + args, capture_output=True, text=True,
                                        input="y.swap.example. A 192.0.2.9\n"))
        listed = subprocess.run([cli, "-d", url, "ls", "-l", path.rsplit("/", 1)[0]],
                                capture_output=True, text=True).stdout
    if loading():
        # Answered between two peeks that both saw the load in progress.
        during += 1
        if s != ["old"] * 3:
            print("during the load:", s)
            sys.exit(1)
        busy += [(t.returncode, t.stderr.strip()) for t in tries]
        if listed is not None and not re.search(r" Loading=\d+/%d\b" % (N + 3), listed):
            print("ls -l during the load:", listed)
            sys.exit(1)
out, err = load.communicate()
states.append(snapshot())
print("reply:", out.strip(), err.strip())
print("snapshots:", len(states), "during the load:", during)
print("busy:", busy)
# Answer by answer: old, then new, never back (the new records came in
# at once: a name of the load's first line never shows before its last).
seen_new = False
for s in (a for group in states for a in group):
    if s.startswith("odd"):
        print("unexpected answer:", s)
        sys.exit(1)
    if s == "new":
        seen_new = True
    elif seen_new:
        print("old data after new data:", states)
        sys.exit(1)
if not seen_new or during == 0:
    print("no answer while the load was applied" if during == 0 else "new data never seen")
    sys.exit(1)
for rc, msg in busy:
    if rc != 1 or "a load is in progress" not in msg:
        print("a change during the load was not refused as busy:", rc, msg)
        sys.exit(1)
if not busy:
    print("no change tried during the load")
    sys.exit(1)
print("reply json:", json.dumps(json.loads(out)))
PY
cat "$T_TMP/watch.out"
grep -q "^reply json: {\"Added\": $((N + 2)), \"Records\": $((N + 3))}" "$T_TMP/watch.out" ||
	fail "load reply"
ok "queries answered from the old records while $N were loaded, then all new at once"

# After it: changes are taken again, and the new data is served.
c set "$P" "x.swap.example. 60 IN A 192.0.2.9"
expect_eq "set after" "$(q +short x.swap.example A)" "192.0.2.9"
expect_eq "last" "$(q +short last.swap.example A)" "192.0.2.3"
expect_eq "refused load" "$(q_status y.swap.example A)" "NXDOMAIN"
server_alive
