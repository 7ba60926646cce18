#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_nsd_diff: a differential test against NSD. A generated zone is served
# by NSD (started here on 127.0.0.1, a free port, minimal-responses, no rate
# limiting, stopped by PID at exit) and loaded into a dns element; a battery
# of dig queries goes to both and dns_nsd_compare.py compares rcode, flags,
# EDNS and every section as a set of records with TTLs. Left out of the
# battery because the element answers them differently on purpose (see
# docs/dns.md): ANY over UDP (RFC 8482 minimal answer), names outside the
# zone (NSD: REFUSED; the element answers every name), DNSSEC data.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"
HERE=$(dirname "$0")

python3 "$HERE/dns_nsd_zone.py" 60 >"$T_TMP/zone.txt"
nsd_start "$T_TMP/zone.txt" ex.test

start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c load "$P" <"$T_TMP/zone.txt" >/dev/null

# The battery: every owner name, names below them, missing names, under
# the wildcard, the delegations and the DNAME; every common type; EDNS on
# and off, mixed case, TCP, class ANY, ANY over TCP.
{
	names=$(awk '{print $1}' "$T_TMP/zone.txt" | sort -u)
	extra="nope.ex.test. a.b.nope.ex.test. foo.w.ex.test. a.b.w.ex.test. x.real.w.ex.test.
ent.ex.test. x.ent.ex.test. anything.cw.ex.test. www.sub.ex.test. a.b.sub.ex.test.
foo.ext.ex.test. x.old.ex.test. y.old.ex.test. a.x.old.ex.test. new.ex.test. _tcp.ex.test."
	for n in $names $extra; do
		for t in A AAAA MX TXT NS SOA CNAME DNAME DS SRV; do
			echo "$n $t +noedns"
		done
		echo "$n A"
		echo "$n TXT +tcp"
		echo "$n ANY +tcp"
		echo "$(tr 'a-z' 'A-Z' <<<"$n") A"
		echo "$n A -c ANY"
	done
} >"$T_TMP/queries"
n_q=$(wc -l <"$T_TMP/queries")
[ "$n_q" -ge 500 ] || fail "battery too small: $n_q"
opts=(+time=3 +tries=1 +norec +nocookie +noall +comments +answer +authority +additional)
timeout 300 dig @127.0.0.1 -p "$DNS_PORT" "${opts[@]}" -f "$T_TMP/queries" >"$T_TMP/element.out" 2>&1 ||
	fail "dig against the element failed"
timeout 300 dig @127.0.0.1 -p "$NSD_PORT" "${opts[@]}" -f "$T_TMP/queries" >"$T_TMP/nsd.out" 2>&1 ||
	fail "dig against nsd failed"
python3 "$HERE/dns_nsd_compare.py" "$T_TMP/queries" "$T_TMP/element.out" "$T_TMP/nsd.out" ||
	fail "answers differ from NSD's"
ok "$n_q queries answered as NSD answers them"
