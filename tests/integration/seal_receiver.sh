#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sealed datagrams bind the receiver's ID (issue 16, part 5): a membership
# datagram captured on its way to server A of a keyed cluster and replayed
# to server B (same key, its own replay window) is refused there as
# misdirected; replayed to A itself it is refused as a replay; neither view
# changes. The capture is real: a raw socket on lo (root only; the rest of
# the test runs without it) records a datagram C sends A.
. "$CIRCUIT_TESTLIB"
command -v jq >/dev/null || fail "jq is missing"

"$CIRCUIT_BIN" keygen "$T_TMP/k"
chmod 600 "$T_TMP/k"
start_server -v --hmac "$T_TMP/k"
A=$SERVER_URL; XA=$SERVER_ID
start_server -v --hmac "$T_TMP/k" -j "$A"
B=$SERVER_URL; XB=$SERVER_ID
start_server -v --hmac "$T_TMP/k" -j "$A"
C=$SERVER_URL; XC=$SERVER_ID
port_of() { local p=${1#circuit://127.0.0.1:}; echo "${p%%/*}"; }
PA=$(port_of "$A"); PB=$(port_of "$B"); PC=$(port_of "$C")
k() { local u=$1; shift; "$CIRCUIT_BIN" -d "$u" -hmac "$T_TMP/k" "$@"; }
view() { k "$1" ls / | grep '^/X' | sort; }
peek() { k "$1" peek "/${1##*/}"; }
by() { peek "$1" | jq -r ".DatagramsRejectedBy.$2"; }
all3() { for u in "$A" "$B" "$C"; do [ "$(view "$u" | wc -l)" = 3 ] || return 1; done; }
wait_until 20 all3
VIEW_A=$(view "$A"); VIEW_B=$(view "$B")
ok "three keyed servers A=$XA B=$XB C=$XC form a cluster"

# udp_seal: a datagram sealed for A, sent to B, is misdirected (each copy);
# the same tool sealing for B itself, or for anyone (0), is accepted.
seal=$CIRCUIT_BUILD_DIR/tests/tools/udp_seal
mis0=$(by "$B" misdirected); rep0=$(by "$B" replay)
"$seal" "$T_TMP/k" 127.0.0.1 "$PB" "$XB" 2 "$XA"
wait_true 10 '[ "$(by "$B" misdirected)" -ge $((mis0 + 3)) ]'
"$seal" "$T_TMP/k" 127.0.0.1 "$PB" "$XB" 2 "$XB"
"$seal" "$T_TMP/k" 127.0.0.1 "$PB" "$XB" 2 0
# Each accepted first copy makes its two replays count as such.
wait_true 10 '[ "$(by "$B" replay)" -ge $((rep0 + 4)) ]'
[ "$(by "$B" misdirected)" = $((mis0 + 3)) ] || fail "a datagram sealed for B or for 0 was refused as misdirected at B"
grep -q "dropped a datagram from 127.0.0.1:[0-9]* (misdirected)" "$T_TMP/server2.log" ||
	fail "B did not log its first misdirected datagram"
ok "udp_seal: sealed for A, refused at B ($(by "$B" misdirected) misdirected); sealed for B or 0, accepted once ($(by "$B" replay) replay)"

# ---- A real capture: the next datagram C sends A, read off lo.
if [ "$(id -u)" != 0 ]; then
	ok "# SKIP capturing a datagram on lo: needs root (raw socket)"
	exit 0
fi
cat >"$T_TMP/capture.py" <<'PY'
# capture.py SRC_PORT DST_PORT OUT SECONDS: writes the payload of the first
# UDP/IPv4 datagram from 127.0.0.1:SRC_PORT to DST_PORT seen on lo.
import socket, struct, sys, time
src, dst, out, secs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("lo", 0))
s.settimeout(0.2)
deadline = time.monotonic() + secs
for _ in range(1000000):
    if time.monotonic() > deadline:
        sys.exit("capture.py: nothing from %d to %d in %g s" % (src, dst, secs))
    try:
        frame = s.recv(70000)
    except socket.timeout:
        continue
    ip = frame[14:]
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
    if sport != src or dport != dst or ulen < 8:
        continue
    with open(out, "wb") as f:
        f.write(ip[ihl + 8:ihl + ulen])
    sys.exit(0)
sys.exit("capture.py: too many frames")
PY
python3 "$T_TMP/capture.py" "$PC" "$PA" "$T_TMP/captured" 15 &
CAP_PID=$!
t_track "$CAP_PID"
wait "$CAP_PID" || fail "no datagram from C to A was captured"
# Version 2, sealed for A: the receiver field (bytes 9..16) is A's ID.
hdr=$(head -c 17 "$T_TMP/captured" | od -An -tx1 | tr -d ' \n')
[ "${hdr:0:2}" = 02 ] || fail "captured datagram has version ${hdr:0:2}"
[ "X${hdr:18:16}" = "$XA" ] || fail "captured datagram is sealed for X${hdr:18:16}, not A ($XA)"
ok "captured a $(wc -c <"$T_TMP/captured")-byte datagram C sent A, sealed for $XA"

send_captured() {
	python3 -c '
import socket, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[3])):
    s.sendto(data, ("127.0.0.1", int(sys.argv[2])))
    time.sleep(0.02)
' "$T_TMP/captured" "$1" "$2"
}
misB=$(by "$B" misdirected); repB=$(by "$B" replay)
misA=$(by "$A" misdirected); repA=$(by "$A" replay)
send_captured "$PB" 3
wait_true 10 '[ "$(by "$B" misdirected)" -ge $((misB + 3)) ]'
send_captured "$PA" 2
wait_true 10 '[ "$(by "$A" replay)" -ge $((repA + 2)) ]'
[ "$(by "$B" misdirected)" = $((misB + 3)) ] || fail "B counted $(by "$B" misdirected) misdirected, wanted $((misB + 3))"
[ "$(by "$B" replay)" = "$repB" ] || fail "the misdirected copies reached B's replay window"
[ "$(by "$A" misdirected)" = "$misA" ] || fail "A refused a datagram sealed for it as misdirected"
[ "$(view "$A")" = "$VIEW_A" ] || fail "A's view changed: $(view "$A")"
[ "$(view "$B")" = "$VIEW_B" ] || fail "B's view changed: $(view "$B")"
[ "$(peek "$A" | jq -r .Suspects)" = 0 ] && [ "$(peek "$B" | jq -r .Suspects)" = 0 ] ||
	fail "a replayed datagram made a suspect"
ok "replayed to B: $(by "$B" misdirected) misdirected (was $misB), replay $(by "$B" replay) (was $repB); replayed to A: replay $(by "$A" replay) (was $repA); views unchanged"
