#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# record.sh NAME FILE: puts FILE's markdown into docs/BENCHMARKS.md as the
# section NAME (replacing the previous figures of NAME), and refreshes the
# machine description at the top. Benchmarks call it with their results.
set -euo pipefail
name=$1 body=$2
src=${CIRCUIT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
doc="$src/docs/BENCHMARKS.md"
[ -f "$doc" ] || printf '# Benchmarks\n\n<!-- machine -->\n<!-- /machine -->\n' >"$doc"
desc="$(uname -srm); $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'));
$(free -g | awk '/Mem:/{print $2}') GiB memory; $(. /etc/os-release && echo "$PRETTY_NAME")"
machine=$(mktemp)
{
	echo "<!-- machine -->"
	echo "The latest section was measured on: $desc."
	echo "Each section names its own machine (sections recorded before 2026-12-04 do not:"
	echo "they were measured on earlier machines of the same size, the last an Intel Xeon)."
	echo "<!-- /machine -->"
} >"$machine"
section=$(mktemp)
{
	echo "<!-- bench:$name -->"
	echo "## $name ($(date -u +%Y-%m-%d))"
	echo
	echo "Machine: $desc."
	echo
	cat "$body"
	echo "<!-- /bench:$name -->"
} >"$section"
python3 - "$doc" "$machine" "$section" "$name" <<'PY'
import re, sys
doc, machine, section, name = sys.argv[1:]
text = open(doc).read()
m = open(machine).read().rstrip("\n")
s = open(section).read().rstrip("\n")
text = re.sub(r"<!-- machine -->.*?<!-- /machine -->", lambda _: m, text, flags=re.S)
pat = re.compile(r"<!-- bench:%s -->.*?<!-- /bench:%s -->" % (re.escape(name), re.escape(name)), re.S)
if pat.search(text):
    text = pat.sub(lambda _: s, text)
else:
    text = text.rstrip("\n") + "\n\n" + s + "\n"
open(doc, "w").write(text)
PY
rm -f "$machine" "$section"
echo "recorded $name in $doc"
