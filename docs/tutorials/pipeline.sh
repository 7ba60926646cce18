#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pipeline.sh [-d URL] [FILE]: pipeline.py with the circuit tool:
# `sort | uniq -c | sort -n` over up to three servers, the bytes moved by
# `circuit stdout ... | circuit stdin ...`; every element scrubbed at the end.
set -euo pipefail
circuit=${CIRCUIT_BIN:-circuit}
dial=()
if [ "${1:-}" = -d ]; then dial=(-d "$2"); shift 2; fi
input=${1:-/dev/stdin}
c() { "$circuit" "${dial[@]}" "$@"; }

mapfile -t servers < <(c ls /)
run="pipeline-$$"
stages=('{"Path":"/usr/bin/sort","Args":[]}' '{"Path":"/usr/bin/uniq","Args":["-c"]}'
	'{"Path":"/usr/bin/sort","Args":["-n"]}')
paths=()
cleanup() { for p in "${paths[@]}"; do c scrub "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for i in 0 1 2; do
	p="${servers[i % ${#servers[@]}]}/$run/stage$i"
	echo "${stages[i]}" | c mkproc "$p" >/dev/null
	paths+=("$p")
	echo "stage $i: ${stages[i]} on ${p%/"$run"/*}" >&2
done
c stdin "${paths[0]}" <"$input" &
c stdout "${paths[0]}" | c stdin "${paths[1]}" &
c stdout "${paths[1]}" | c stdin "${paths[2]}" &
c stdout "${paths[2]}"
wait
for p in "${paths[@]}"; do c wait "$p" >/dev/null; done
