#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_rcodes: the rcode and flag rules of issue 22 through dig and the real
# daemon: a CNAME to a missing name under an SOA the element holds is
# NXDOMAIN with that SOA; a query signed with an unknown TSIG key gets
# NOTAUTH/BADKEY; an OPT with a cut-off option gets FORMERR; QCLASS ANY
# answers without AA.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c load "$P" >/dev/null <<'ZONE'
ex.test. 3600 IN SOA ns.ex.test. me.ex.test. 1 2 3 4 120
www.ex.test. 60 IN A 192.0.2.1
c.ex.test. 60 IN CNAME missing.ex.test.
ZONE

expect_eq "dangling CNAME status" "$(q_status c.ex.test A)" "NXDOMAIN"
expect_eq "dangling CNAME answer" "$(q +short c.ex.test A)" "missing.ex.test."
q +noall +authority c.ex.test A | grep -qP '^ex\.test\.\s+120\s+IN\s+SOA\s' ||
	fail "dangling CNAME: no SOA in authority"
ok "CNAME to a missing name under our SOA: NXDOMAIN with the SOA"

# dig signs with a key the element does not know; it reports the error.
out=$(q -y hmac-sha256:nokey.example.:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0 www.ex.test A)
grep -q "status: NOTAUTH" <<<"$out" || { echo "$out"; fail "TSIG unknown key: not NOTAUTH"; }
grep -qi "BADKEY" <<<"$out" || { echo "$out"; fail "TSIG unknown key: no BADKEY"; }
ok "TSIG with an unknown key: NOTAUTH, BADKEY"

# A raw query whose OPT holds a cut-off option (code 10, length 8, 4 bytes).
rcode=$(timeout 10 python3 - "$DNS_IP" "$DNS_PORT" <<'PY'
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 1)
q += b"\x03www\x02ex\x04test\x00" + struct.pack(">HH", 1, 1)
opt = struct.pack(">HH", 10, 8) + b"\x01\x02\x03\x04"
q += b"\x00" + struct.pack(">HHIH", 41, 1232, 0, len(opt)) + opt
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (sys.argv[1], int(sys.argv[2])))
r = s.recv(4096)
assert r[:2] == b"\x42\x42", "wrong id"
print(r[3] & 0x0F)
PY
) || fail "no answer to the malformed-option query"
expect_eq "malformed EDNS option rcode" "$rcode" "1"
ok "malformed EDNS option: FORMERR"

flags=$(q_flags -c ANY www.ex.test A)
[[ " $flags " != *" aa "* ]] || fail "QCLASS ANY answer has AA: '$flags'"
expect_eq "QCLASS ANY answer" "$(q +short -c ANY www.ex.test A)" "192.0.2.1"
flags=$(q_flags -c ANY nope.ex.test A)
[[ " $flags " != *" aa "* ]] || fail "QCLASS ANY NXDOMAIN has AA: '$flags'"
[[ " $(q_flags www.ex.test A) " == *" aa "* ]] || fail "class IN lost AA"
ok "QCLASS ANY: AA cleared"
