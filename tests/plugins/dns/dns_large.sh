#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_large: 100,000 records loaded into one element (with `load`, in one
# request) and then queried; the per-record cost of `set` is measured on a
# few hundred records and printed (it is one client process per record).
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

N=100000
start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0

awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
	printf "host%d.big.example. 300 IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' \
	>"$T_TMP/records.txt"
t0=$(date +%s.%N)
c load "$P" <"$T_TMP/records.txt" >"$T_TMP/load.out"
t1=$(date +%s.%N)
expect_eq "loaded" "$(jq -c . "$T_TMP/load.out")" "{\"Added\":$N,\"Records\":$N}"
echo "# load of $N records: $(echo "$t1 - $t0" | bc) s"

# Query a sample spread over the whole set, in one dig run.
args=()
for i in 0 1 255 256 4097 65535 65536 77777 99998 99999; do args+=("host$i.big.example" A); done
dig @"$DNS_IP" -p "$DNS_PORT" +time=2 +tries=1 +noall +answer "${args[@]}" | awk '{print $1, $5}' >"$T_TMP/got"
for i in 0 1 255 256 4097 65535 65536 77777 99998 99999; do
	echo "host$i.big.example. 10.$(((i / 65536) % 256)).$(((i / 256) % 256)).$((i % 256))"
done >"$T_TMP/want"
diff "$T_TMP/want" "$T_TMP/got" || fail "wrong answers at $N records"
expect_eq "NXDOMAIN" "$(q_status host$N.big.example A)" "NXDOMAIN"
ok "$N records loaded and queried"

# peek stays under the core's reply cap: what does not fit is counted.
c peek "$P" >"$T_TMP/peek.json"
shown=$(jq '[.Records[] | length] | add' "$T_TMP/peek.json")
omitted=$(jq '.Omitted' "$T_TMP/peek.json")
[ "$shown" -gt 1000 ] || fail "peek shows only $shown records"
expect_eq "shown + omitted" "$((shown + omitted))" "$N"
ok "peek at $N records: $shown shown, $omitted omitted"

# set and unset still work on the large element.
c set "$P" "host$N.big.example. 300 IN A 10.99.99.99"
expect_eq "set" "$(q +short host$N.big.example A)" "10.99.99.99"
c unset "$P" host5.big.example.
expect_eq "unset" "$(q_status host5.big.example A)" "NXDOMAIN"

# The cost of `set`: one client run per record.
M=100
t0=$(date +%s.%N)
for i in $(seq 1 $M); do c set "$P" "s$i.small.example. 60 IN A 192.0.2.$((i % 250))"; done
t1=$(date +%s.%N)
per=$(echo "($t1 - $t0) * 1000 / $M" | bc -l)
printf '# set: %.1f ms per record (%d records); %d records that way would take %.0f s\n' \
	"$per" $M $N "$(echo "$per * $N / 1000" | bc -l)"
expect_eq "first set" "$(q +short s1.small.example A)" "192.0.2.1"
expect_eq "last set" "$(q +short s$M.small.example A)" "192.0.2.$((M % 250))"
ok "set/unset on a large element"
server_alive
