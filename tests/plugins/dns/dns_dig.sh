#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_dig: a dns element answers dig like an authoritative server: record
# types, several MX, CNAME chains, SRV, NXDOMAIN vs NODATA (with SOA), ANY
# (one RRset over UDP as RFC 8482 allows, everything over TCP),
# case-insensitive names, EDNS0 on and off, a TXT answer bigger than 512
# bytes over UDP (TC) and then TCP, FORMERR/NOTIMP, TCP pipelining.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
records=(
	"miek.nl. 3600 IN MX 10 mx.miek.nl."
	"miek.nl. 3600 IN MX 20 mx2.miek.nl."
	"mx.miek.nl. 300 IN A 192.0.2.1"
	"mx.miek.nl. 300 IN AAAA 2001:db8::1"
	"txt.miek.nl. 60 IN TXT \"hello world\" \"second string\""
	"www.miek.nl. 60 IN CNAME alias.miek.nl."
	"alias.miek.nl. 60 IN CNAME mx.miek.nl."
	"_sip._tcp.miek.nl. 60 IN SRV 10 5 5060 sip.miek.nl."
	"deep.sub.miek.nl. 60 IN A 192.0.2.9"
)
for r in "${records[@]}"; do c set "$P" "$r"; done

expect_eq "A" "$(q +short mx.miek.nl A)" "192.0.2.1"
expect_eq "AAAA" "$(q +short mx.miek.nl AAAA)" "2001:db8::1"
expect_eq "MX" "$(q +short miek.nl MX | sort)" "$(printf '10 mx.miek.nl.\n20 mx2.miek.nl.')"
expect_eq "TXT" "$(q +short txt.miek.nl TXT)" '"hello world" "second string"'
expect_eq "SRV" "$(q +short _sip._tcp.miek.nl SRV)" "10 5 5060 sip.miek.nl."
flags=$(q_flags mx.miek.nl A)
[[ " $flags " == *" aa "* ]] || fail "no AA flag: '$flags'"
ok "A, AAAA, MX (2), TXT, SRV answered with AA"

# A CNAME chain is followed within the element's data.
chain=$(q +noall +answer www.miek.nl A | awk '{print $1, $4, $5}')
want_chain="www.miek.nl. CNAME alias.miek.nl.
alias.miek.nl. CNAME mx.miek.nl.
mx.miek.nl. A 192.0.2.1"
expect_eq "CNAME chain" "$chain" "$want_chain"
expect_eq "CNAME query" "$(q +short www.miek.nl CNAME)" "alias.miek.nl."
ok "CNAME chain"

# Case-insensitive names; the question comes back as asked.
expect_eq "case" "$(q +short MX.MiEk.Nl A)" "192.0.2.1"
q +noall +question MX.MiEk.Nl A | grep -q "MX.MiEk.Nl" || fail "question case not echoed"
ok "case-insensitive"

# NXDOMAIN and NODATA, both with an SOA in the authority section.
expect_eq "NXDOMAIN" "$(q_status nope.miek.nl A)" "NXDOMAIN"
soa='^miek\.nl\.\s+60\s+IN\s+SOA\s+ns\.circuit\.invalid\. hostmaster\.circuit\.invalid\. '
q +noall +authority nope.miek.nl A | grep -qP "$soa" ||
	fail "NXDOMAIN lacks the synthesized SOA"
expect_eq "NODATA status" "$(q_status txt.miek.nl A)" "NOERROR"
expect_eq "NODATA answer" "$(q +short txt.miek.nl A)" ""
q +noall +authority txt.miek.nl A | grep -qP '^txt\.miek\.nl\.\s+60\s+IN\s+SOA\s' || fail "NODATA lacks the SOA"
expect_eq "empty non-terminal" "$(q_status sub.miek.nl A)" "NOERROR"
ok "NXDOMAIN vs NODATA, SOA in authority"

# ANY (RFC 8482 4.1): over UDP one RRset, the first type stored at the
# name; over TCP every record. A name with many RRsets shows the
# amplification that is gone. dig asks ANY over TCP unless told +notcp.
expect_eq "ANY tcp" "$(q +tcp +noall +answer mx.miek.nl ANY | awk '{print $4}' | sort | tr '\n' ' ')" "A AAAA "
expect_eq "ANY udp" "$(q +notcp +noall +answer mx.miek.nl ANY | awk '{print $4}' | tr '\n' ' ')" "A "
many=(
	"A 192.0.2.1" "A 192.0.2.2" "AAAA 2001:db8::1" "AAAA 2001:db8::2"
	"MX 10 mx.miek.nl." "MX 20 mx2.miek.nl." "TXT \"a\"" "TXT \"b\""
	"TXT \"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.miek.nl. -all\""
	"TXT \"google-site-verification=0123456789abcdef0123456789abcdef0123456789a\""
	"CAA 0 issue \"letsencrypt.org\"" "HINFO \"x86-64\" \"Linux\""
	"SSHFP 4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)
for r in "${many[@]}"; do c set "$P" "any.miek.nl. 300 IN $r"; done
q +notcp +edns=0 +bufsize=4096 +ignore any.miek.nl ANY >"$T_TMP/any_udp.out"
q +tcp any.miek.nl ANY >"$T_TMP/any_tcp.out"
udp_size=$(sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p' "$T_TMP/any_udp.out")
tcp_size=$(sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p' "$T_TMP/any_tcp.out")
echo "# ANY any.miek.nl. (${#many[@]} records): UDP answer $udp_size bytes, TCP answer $tcp_size bytes"
grep -q "flags: qr aa rd;" "$T_TMP/any_udp.out" || { cat "$T_TMP/any_udp.out"; fail "ANY over UDP: flags"; }
grep -q "ANSWER: 2," "$T_TMP/any_udp.out" || { cat "$T_TMP/any_udp.out"; fail "ANY over UDP is not one RRset"; }
grep -q "ANSWER: ${#many[@]}," "$T_TMP/any_tcp.out" || { cat "$T_TMP/any_tcp.out"; fail "ANY over TCP is not every record"; }
expect_eq "ANY udp types" "$(q +notcp +noall +answer any.miek.nl ANY | awk '{print $4}' | sort -u)" "A"
ok "ANY: one RRset over UDP ($udp_size bytes), every record over TCP ($tcp_size bytes)"

# EDNS0 on: our OPT comes back (1232); off: no OPT at all.
q +edns=0 mx.miek.nl A | grep -q "EDNS: version: 0, flags:; udp: 1232" || fail "no OPT with EDNS"
if q +noedns mx.miek.nl A | grep -q "OPT PSEUDOSECTION"; then fail "OPT without EDNS"; fi
q +dnssec mx.miek.nl A | grep -q "EDNS: version: 0, flags: do; udp: 1232" || fail "DO bit not copied"
ok "EDNS0 on and off"

# A TXT answer over 512 bytes: without EDNS0, UDP truncates (TC), TCP has it all.
big=""
for i in 1 2 3; do big+=" \"$(printf 'x%.0s' $(seq 1 230))\""; done
c set "$P" "big.miek.nl. 60 IN TXT$big"
q +noedns +ignore big.miek.nl TXT >"$T_TMP/udp.out"
grep -q "flags: qr aa tc" "$T_TMP/udp.out" || { cat "$T_TMP/udp.out"; fail "no TC over UDP"; }
grep -q "ANSWER: 0" "$T_TMP/udp.out" || fail "a truncated answer carries records"
q +noedns +tcp big.miek.nl TXT >"$T_TMP/tcp.out"
grep -q "ANSWER: 1" "$T_TMP/tcp.out" || { cat "$T_TMP/tcp.out"; fail "no answer over TCP"; }
size=$(sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p' "$T_TMP/tcp.out")
[ "$size" -gt 512 ] || fail "TCP answer is $size bytes, expected > 512"
# dig itself retries over TCP on TC.
q +noedns big.miek.nl TXT | grep -q "Truncated, retrying in TCP mode" || fail "dig did not retry over TCP"
expect_eq "retry answer" "$(q +noedns +short big.miek.nl TXT | grep -v "^;;" | wc -c)" \
	"$(q +tcp +short big.miek.nl TXT | wc -c)"
# With EDNS0 (1232 bytes) it fits over UDP.
q +edns=0 +bufsize=1232 +ignore big.miek.nl TXT | grep -q "ANSWER: 1" || fail "EDNS0 answer did not fit"
ok "TXT of $size bytes: TC over UDP, whole over TCP, fits with EDNS0"

# Several queries pipelined on one TCP connection.
out=$(q +tcp +keepopen +short mx.miek.nl A mx.miek.nl AAAA miek.nl MX | sort | tr '\n' ' ')
expect_eq "pipelined" "$out" "10 mx.miek.nl. 192.0.2.1 20 mx2.miek.nl. 2001:db8::1 "
ok "TCP pipelining"

# Unknown opcode: NOTIMP. Two questions: FORMERR (raw packet).
expect_eq "NOTIFY" "$(q_status +opcode=notify miek.nl SOA)" "NOTIMP"
rcode=$(python3 - "$DNS_IP" "$DNS_PORT" <<'PY'
import socket, struct, sys
q = b"\x00\x07" + bytes([0x03, 0x00]) + struct.pack(">HHHH", 2, 0, 0, 0)
for n in (b"\x02mx\x04miek\x02nl\x00", b"\x04miek\x02nl\x00"):
    q += n + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, (sys.argv[1], int(sys.argv[2])))
r = s.recv(512)
print(r[3] & 0x0F if r[:2] == b"\x00\x07" else "bad id")
PY
)
expect_eq "two questions" "$rcode" "1"
# Garbage and a response packet do not stop the server.
python3 - "$DNS_IP" "$DNS_PORT" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(200):
    s.sendto(os.urandom(n % 64), (sys.argv[1], int(sys.argv[2])))
PY
expect_eq "after garbage" "$(q +short mx.miek.nl A)" "192.0.2.1"
ok "NOTIMP, FORMERR, garbage survived"

# A second element on the same server has its own records and port.
first_ip=$DNS_IP first_port=$DNS_PORT
dns_mk "/$SERVER_ID/other" 127.0.0.1:0
[ "$DNS_PORT" != "$first_port" ] || fail "two elements on one port"
c set "/$SERVER_ID/other" "mx.miek.nl. 60 IN A 198.51.100.7"
expect_eq "second element" "$(q +short mx.miek.nl A)" "198.51.100.7"
expect_eq "second element, other name" "$(q_status txt.miek.nl TXT)" "NXDOMAIN"
DNS_IP=$first_ip DNS_PORT=$first_port
expect_eq "first element unchanged" "$(q +short mx.miek.nl A)" "192.0.2.1"
ok "two elements are independent"
server_alive
