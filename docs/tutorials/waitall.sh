#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# waitall.sh [-d URL] [-first] [SECONDS ...]: waitall.py with the circuit
# tool: one sleep per SECONDS (default 3 1 2) on the servers in turn, then
# `circuit waitall [-first]` on their paths, then every one scrubbed.
set -euo pipefail
circuit=${CIRCUIT_BIN:-circuit}
dial=()
first=()
while [ $# -gt 0 ]; do
	case "$1" in
	-d) dial=(-d "$2"); shift 2 ;;
	-first | --first) first=(-first); shift ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- 3 1 2
c() { "$circuit" "${dial[@]}" "$@"; }

mapfile -t servers < <(c ls /)
run="waitall-$$"
paths=()
cleanup() { for p in "${paths[@]}"; do c scrub "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
i=0
for s in "$@"; do
	p="${servers[i % ${#servers[@]}]}/$run/sleep$i"
	echo "{\"Path\":\"/bin/sleep\",\"Args\":[\"$s\"]}" | c mkproc "$p" >/dev/null
	paths+=("$p")
	i=$((i + 1))
done
printf '%s\n' "${paths[@]}" | c waitall "${first[@]}"
