#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dns_load_scrub: a dns element scrubbed while a large load is being
# applied drops the load: its client is told (exit non-zero, "was scrubbed
# before the load was applied") instead of a success for records no one
# can query; the server goes on (a new element at the same path, then a
# clean stop with no sanitizer report).
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/dns_lib.sh"

dns_a_records 200000 scrub.example. >"$T_TMP/records.txt"
start_server
P=/$SERVER_ID/dns
dns_mk "$P" 127.0.0.1:0

loading() { c peek "$P" 2>/dev/null | jq -e 'has("Loading")' >/dev/null; }

# The CLI itself in the background (not a subshell), so its PID is its own.
"$CIRCUIT_BIN" -d "$CIRCUIT_TEST_URL" load "$P" <"$T_TMP/records.txt" \
	>"$T_TMP/load.out" 2>"$T_TMP/load.err" &
load_pid=$!
t_track "$load_pid"
wait_until 120 loading
c scrub "$P"
rc=0
wait "$load_pid" || rc=$?
[ "$rc" -ne 0 ] || fail "load on a scrubbed element succeeded: $(cat "$T_TMP/load.out")"
grep -q "was scrubbed before the load was applied" "$T_TMP/load.err" ||
	fail "load: $(cat "$T_TMP/load.err")"
ok "a load under way when its element was scrubbed failed (exit $rc)"

# A scrub while the body is still arriving: refused once it has arrived.
dns_mk "$P" 127.0.0.1:0
python3 - "$CIRCUIT_BIN" "$CIRCUIT_TEST_URL" "$P" "$T_TMP/records.txt" >"$T_TMP/half.out" 2>&1 <<'PY' ||
import subprocess, sys, time
cli, url, path, records = sys.argv[1:]
data = open(records, "rb").read()
load = subprocess.Popen([cli, "-d", url, "load", path], stdin=subprocess.PIPE,
                        stderr=subprocess.PIPE)
load.stdin.write(data[:len(data) // 2])
load.stdin.flush()
time.sleep(0.5)
subprocess.run([cli, "-d", url, "scrub", path], check=True)
try:
    load.stdin.write(data[len(data) // 2:])
    load.stdin.close()
except BrokenPipeError:
    pass
load.wait(timeout=120)
err = load.stderr.read().decode()
print("exit", load.returncode, err.strip())
sys.exit(0 if load.returncode != 0 and "was scrubbed before the load was applied" in err else 1)
PY
	fail "load whose body ended after the scrub: $(cat "$T_TMP/half.out")"
ok "a load whose body arrived after the scrub failed: $(cat "$T_TMP/half.out")"

# A new element at the same path: empty, not loading, changes taken.
dns_mk "$P" 127.0.0.1:0
loading && fail "the new element shows a load"
c set "$P" "new.scrub.example. 60 IN A 192.0.2.2"
expect_eq "new element" "$(q +short new.scrub.example A)" "192.0.2.2"
expect_eq "nothing loaded" "$(q_status h5.scrub.example A)" "NXDOMAIN"
server_alive

kill -TERM "$SERVER_PID"
for _ in $(seq 1 200); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
rc=0
wait "$SERVER_PID" || rc=$?
[ "$rc" = 0 ] || fail "circuitd exited $rc"
if grep -q 'Sanitizer\|runtime error' "$SERVER_LOG"; then fail "sanitizer report"; fi
ok "server stopped cleanly"
