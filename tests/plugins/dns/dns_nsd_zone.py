#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# dns_nsd_zone.py N: prints a zone (ex.test.) with N hosts and every rule the
# dns element implements: CNAMEs (one dangling, one leaving the zone),
# wildcards (A/TXT, CNAME), an empty non-terminal, delegations with and
# without glue, a DNAME, SRV. One record a line, fully qualified.
import sys
z="ex.test."
recs=[f"{z} 3600 IN SOA ns.{z} me.{z} 7 3600 600 86400 300", f"{z} 3600 IN NS ns.{z}", f"ns.{z} 3600 IN A 192.0.2.53",
f"{z} 3600 IN MX 10 mail.{z}", f"mail.{z} 300 IN A 192.0.2.25", f"mail.{z} 300 IN AAAA 2001:db8::25"]
for i in range(int(sys.argv[1])):
    recs.append(f"h{i}.{z} 300 IN A 192.0.2.{i%250+1}")
    if i%3==0: recs.append(f"h{i}.{z} 300 IN AAAA 2001:db8::{i:x}")
    if i%5==0: recs.append(f'h{i}.{z} 300 IN TXT "text {i}"')
    if i%7==0: recs.append(f"c{i}.{z} 300 IN CNAME h{i}.{z}")
recs+= [f"dangle.{z} 300 IN CNAME nowhere.{z}", f"out.{z} 300 IN CNAME www.example.",
f"*.w.{z} 300 IN A 192.0.2.100", f"*.w.{z} 300 IN TXT \"wild\"", f"real.w.{z} 300 IN TXT \"real\"",
f"*.cw.{z} 300 IN CNAME h1.{z}", f"deep.ent.{z} 300 IN A 192.0.2.101",
f"sub.{z} 3600 IN NS ns1.sub.{z}", f"sub.{z} 3600 IN NS ns2.sub.{z}", f"ns1.sub.{z} 3600 IN A 192.0.2.61", f"ns2.sub.{z} 3600 IN AAAA 2001:db8::62",
f"ext.{z} 3600 IN NS ns.elsewhere.example.",
f"old.{z} 300 IN DNAME new.{z}", f"x.new.{z} 300 IN A 192.0.2.102",
f"_sip._tcp.{z} 300 IN SRV 10 5 5060 h1.{z}"]
print("\n".join(recs))
