#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# dns_nsd_compare.py QUERIES ELEMENT.OUT NSD.OUT: compares, query by query,
# the output of `dig -f QUERIES` against the element and against NSD: the
# rcode, the header flags, the EDNS line, and each section as a set of
# records (TTLs included). Prints each difference that the allow-list
# below does not explain, and a summary; exits 1 if there is any.
#
# The allow-list (also in docs/dns.md, "Compared with NSD"), each rule
# narrow enough that it cannot hide another difference:
# 1. ANY over TCP: the element returns every RRset of the name; NSD 4.6
#    returns one. Allowed when the rcode and flags other than the counts
#    agree and NSD's answer is a subset of the element's.
# 2. QCLASS ANY, negative answer: the element keeps the SOA in the
#    authority section; NSD leaves it out. Allowed when that SOA is the
#    only difference.
import re
import sys


def counts_free(flags):
    return flags.split(";")[0] if flags else flags


def any_over_tcp(q, a, b):
    if " ANY +tcp" not in q or a["status"] != b["status"] or a["edns"] != b["edns"]:
        return False
    if counts_free(a["flags"]) != counts_free(b["flags"]):
        return False
    mine, theirs = a["sections"], b["sections"]
    return set(theirs) <= set(mine) and all(set(v) <= set(mine[k]) for k, v in theirs.items())


def class_any_soa(q, a, b):
    if not q.endswith("-c ANY") or a["status"] != b["status"] or a["edns"] != b["edns"]:
        return False
    mine = dict(a["sections"])
    soa = mine.pop("AUTHORITY", [])
    return len(soa) == 1 and " SOA " in soa[0] and mine == b["sections"] and \
        counts_free(a["flags"]) == counts_free(b["flags"])


ALLOWED = [any_over_tcp, class_any_soa]

def blocks(path):
    """Splits dig -f output into one dict per query, in order."""
    out, cur, section = [], None, None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith(";; Got answer:"):
            cur = {"status": None, "flags": None, "edns": None, "sections": {}}
            out.append(cur)
            section = None
            continue
        if cur is None:
            continue
        m = re.search(r"status: (\w+), id: \d+", line)
        if m:
            cur["status"] = m.group(1)
            continue
        m = re.match(r";; flags: ([a-z ]*);(.*)", line)
        if m:
            cur["flags"] = " ".join(sorted(m.group(1).split())) + ";" + m.group(2)
            continue
        if line.startswith("; EDNS:"):
            cur["edns"] = line
            continue
        m = re.match(r";; (\w+) SECTION:", line)
        if m:
            section = m.group(1)
            cur["sections"].setdefault(section, [])
            continue
        if line.startswith(";") or not line.strip():
            if not line.strip():
                section = None
            continue
        if section and section != "QUESTION":
            cur["sections"][section].append(" ".join(line.split()))
    for b in out:
        b["sections"] = {k: sorted(v) for k, v in b["sections"].items() if v}
    return out


def main():
    queries = [q.strip() for q in open(sys.argv[1]) if q.strip()]
    ours, theirs = blocks(sys.argv[2]), blocks(sys.argv[3])
    if len(ours) != len(queries) or len(theirs) != len(queries):
        print(f"answers: element {len(ours)}, nsd {len(theirs)}, queries {len(queries)} "
              "(a query was not answered)")
        return 1
    same = differ = allowed = 0
    for q, a, b in zip(queries, ours, theirs):
        diffs = [k for k in ("status", "flags", "edns", "sections") if a[k] != b[k]]
        if not diffs:
            same += 1
            continue
        if any(rule(q, a, b) for rule in ALLOWED):
            allowed += 1
            continue
        differ += 1
        if differ <= 20:
            print(f"DIFF {q}:")
            for k in diffs:
                print(f"  {k}: element {a[k]!r}")
                print(f"  {k}: nsd     {b[k]!r}")
    print(f"# {len(queries)} queries: {same} identical, {allowed} allowed differences, "
          f"{differ} other differences")
    return 1 if differ else 0


sys.exit(main())
