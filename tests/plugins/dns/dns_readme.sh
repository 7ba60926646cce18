#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_readme: the README's "Make a DNS server element" example, command by
# command, with the server ID of the test server (and a free port if 7711
# is taken on this machine).
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

start_server
X=$SERVER_ID

# mkdns without an address: the server's address and a free port.
c mkdns /$X/mydns
c peek /$X/mydns >"$T_TMP/peek0"
addr=$(jq -r .Address "$T_TMP/peek0")
[[ "$addr" =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "default Address '$addr'"
expect_eq "empty Records" "$(jq -c .Records "$T_TMP/peek0")" "{}"
DNS_IP=${addr%:*} DNS_PORT=${addr##*:}
expect_eq "empty element answers" "$(q_status miek.nl MX)" "NXDOMAIN"
c scrub /$X/mydns
ok "mkdns with a free port: $addr"

port=7711
if ss -Hlnu "sport = :$port" | grep -q . || ss -Hlnt "sport = :$port" | grep -q .; then
	port=$(free_port)
fi
c mkdns /$X/mydns 127.0.0.1:$port
c peek /$X/mydns >"$T_TMP/peek1"
expect_eq "peek" "$(jq -c . "$T_TMP/peek1")" "{\"Address\":\"127.0.0.1:$port\",\"Records\":{}}"
ok "mkdns 127.0.0.1:$port"

c set /$X/mydns "miek.nl. 3600 IN MX 10 mx.miek.nl."
c set /$X/mydns "miek.nl. 3600 IN MX 20 mx2.miek.nl."
c peek /$X/mydns >"$T_TMP/peek2"
expect_eq "Records" "$(jq -c .Records "$T_TMP/peek2")" \
	'{"miek.nl.":["miek.nl.\t3600\tIN\tMX\t10 mx.miek.nl.","miek.nl.\t3600\tIN\tMX\t20 mx2.miek.nl."]}'
DNS_IP=127.0.0.1 DNS_PORT=$port
expect_eq "dig MX" "$(q +short miek.nl MX | sort)" "$(printf '10 mx.miek.nl.\n20 mx2.miek.nl.')"
ok "set, peek and dig"

c unset /$X/mydns miek.nl.
c peek /$X/mydns >"$T_TMP/peek3"
expect_eq "Records after unset" "$(jq -c .Records "$T_TMP/peek3")" "{}"
expect_eq "dig after unset" "$(q_status miek.nl MX)" "NXDOMAIN"
ok "unset"
c scrub /$X/mydns
