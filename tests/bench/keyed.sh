#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keyed connections (issue 4), measured against unkeyed in the same run:
# 1. encrypted stream: a process's stdout (cat of a file) read through a
#    keyed server vs an unkeyed one (bar: keyed >= 0.6 of plaintext);
# 2. handshake cost: connections per second (dial, handshake, one peek,
#    close), keyed vs unkeyed.
# Run through ctest (CIRCUIT_BENCH=ON) or by hand:
#   CIRCUIT_BUILD_DIR=/path/to/build tests/bench/keyed.sh
# CIRCUIT_BENCH_KEYED_MIB (default 1024; only 1024 is recorded),
# CIRCUIT_BENCH_KEYED_CONNS (default 500).
: "${CIRCUIT_BUILD_DIR:?set CIRCUIT_BUILD_DIR to the build tree}"
export CIRCUIT_BIN=${CIRCUIT_BIN:-$CIRCUIT_BUILD_DIR/bin/circuit}
export CIRCUITD_BIN=${CIRCUITD_BIN:-$CIRCUIT_BUILD_DIR/bin/circuitd}
export CIRCUIT_PLUGIN_DIR=${CIRCUIT_PLUGIN_DIR:-$CIRCUIT_BUILD_DIR/plugins}
export CIRCUIT_TESTLIB=${CIRCUIT_TESTLIB:-$(dirname "$0")/../integration/lib.sh}
source "$CIRCUIT_TESTLIB"
src=${CIRCUIT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
mib=${CIRCUIT_BENCH_KEYED_MIB:-1024}
conns=${CIRCUIT_BENCH_KEYED_CONNS:-500}
bench=$CIRCUIT_BUILD_DIR/tests/bench/keyed_bench
[ -x "$bench" ] || fail "build keyed_bench first"

head -c $((mib * 1024 * 1024)) /dev/urandom >"$T_TMP/data"
bytes=$(stat -c %s "$T_TMP/data")
"$CIRCUIT_BIN" keygen >"$T_TMP/key"
chmod 600 "$T_TMP/key"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

start_server --plugins=proc
plain=$SERVER_URL
echo "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/data\"]}" | c mkproc "/$SERVER_ID/cat"
plain_path="/$SERVER_ID/cat"
start_server --plugins=proc --hmac "$T_TMP/key"
keyed=$SERVER_URL
echo "{\"Path\":\"/bin/cat\",\"Args\":[\"$T_TMP/data\"]}" |
	"$CIRCUIT_BIN" -d "$keyed" -hmac "$T_TMP/key" mkproc "/$SERVER_ID/cat"
keyed_path="/$SERVER_ID/cat"

"$bench" "$plain" "$keyed" "$T_TMP/key" "$plain_path" "$keyed_path" "$bytes" "$conns" \
	>"$T_TMP/figures"
cat "$T_TMP/figures"
fig() { awk -v k="$1" '$1 == k { print $2 }' "$T_TMP/figures"; }
sp=$(fig stream_plain)
sk=$(fig stream_keyed)
cp=$(fig connections_plain)
ck=$(fig connections_keyed)
sratio=$(awk -v a="$sk" -v b="$sp" 'BEGIN { printf "%.2f", a / b }')
cratio=$(awk -v a="$ck" -v b="$cp" 'BEGIN { printf "%.2f", a / b }')
met=$(awk -v r="$sratio" 'BEGIN { print (r >= 0.6) ? "met" : "NOT met" }')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

cat >"$T_TMP/report.md" <<MD
$mib MiB of a process's stdout (\`cat\` of a file in the page cache) read
through libcircuit from a keyed server (\`--hmac\`, Noise_NNpsk0, ChaCha20-Poly1305)
and from an unkeyed one, and $conns connections each way (dial, handshake,
one peek of the server anchor, close), in one run. Load average at start:
$load_start; at end: $load_end.

| figure | unkeyed | keyed | keyed / unkeyed |
|---|---:|---:|---:|
| stream, MB/s | $sp | $sk | **$sratio** |
| connections per second | $cp | $ck | $cratio |

Bar (stream): keyed at least 0.6 of plaintext: $met.
MD
cat "$T_TMP/report.md"
if [ "$mib" = 1024 ] || [ -n "${CIRCUIT_BENCH_RECORD_SHORT:-}" ]; then
	CIRCUIT_SOURCE_DIR="$src" bash "$src/tests/bench/record.sh" keyed "$T_TMP/report.md"
else
	echo "keyed: a $mib MiB run is not recorded (record 1 GiB runs only)"
fi
