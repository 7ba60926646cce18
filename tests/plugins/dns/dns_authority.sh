#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_authority: wildcards (RFC 4592), delegations (referrals with glue,
# AA clear) and DNAME (RFC 6672) through dig and the real daemon.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0
c load "$P" >/dev/null <<'ZONE'
ex.test. 3600 IN SOA ns.ex.test. me.ex.test. 1 2 3 4 120
ex.test. 3600 IN NS ns.ex.test.
ns.ex.test. 3600 IN A 192.0.2.53
*.w.ex.test. 60 IN A 192.0.2.10
real.w.ex.test. 60 IN TXT "real"
*.c.ex.test. 60 IN CNAME www.ex.test.
www.ex.test. 60 IN A 192.0.2.1
sub.ex.test. 3600 IN NS ns1.sub.ex.test.
ns1.sub.ex.test. 3600 IN A 192.0.2.54
old.ex.test. 300 IN DNAME new.ex.test.
x.new.ex.test. 60 IN A 192.0.2.12
ZONE

expect_eq "wildcard A" "$(q +short foo.w.ex.test A)" "192.0.2.10"
q +noall +answer foo.w.ex.test A | grep -qP '^foo\.w\.ex\.test\.\s+60\s+IN\s+A\s' ||
	fail "wildcard answer is not owned by the question's name"
expect_eq "existing name not synthesized" "$(q_status real.w.ex.test A)/$(q +short real.w.ex.test A)" "NOERROR/"
expect_eq "wildcard CNAME" "$(q +short any.c.ex.test A | tr '\n' ' ')" "www.ex.test. 192.0.2.1 "
ok "wildcards"

out=$(q +norec +noedns www.sub.ex.test A)
grep -q "status: NOERROR" <<<"$out" || { echo "$out"; fail "referral: status"; }
grep -q "flags: qr;" <<<"$out" || { echo "$out"; fail "referral: AA set or other flags"; }
grep -q "ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1" <<<"$out" || { echo "$out"; fail "referral: counts"; }
expect_eq "referral NS" "$(q +noall +authority www.sub.ex.test A | awk '{print $1, $4, $5}')" "sub.ex.test. NS ns1.sub.ex.test."
expect_eq "referral glue" "$(q +noall +additional www.sub.ex.test A | awk '{print $1, $4, $5}')" "ns1.sub.ex.test. A 192.0.2.54"
[[ " $(q_flags ns1.sub.ex.test A) " != *" aa "* ]] || fail "glue answered with AA"
expect_eq "glue is referred" "$(q +short ns1.sub.ex.test A)" ""
ok "delegation: referral with glue, AA clear"

expect_eq "DNAME" "$(q +noall +answer x.old.ex.test A | awk '{print $1, $4, $5}')" "old.ex.test. DNAME new.ex.test.
x.old.ex.test. CNAME x.new.ex.test.
x.new.ex.test. A 192.0.2.12"
ok "DNAME with the synthesized CNAME"
