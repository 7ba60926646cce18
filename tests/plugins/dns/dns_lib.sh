# SPDX-License-Identifier: Apache-2.0
# dns_lib.sh - helpers shared by the dns element's shell tests. Source it
# after $CIRCUIT_TESTLIB.

command -v dig >/dev/null || fail "dig is missing (apt-get install dnsutils)"
command -v jq >/dev/null || fail "jq is missing"

# dns_mk PATH [ADDR]: creates a dns element; sets DNS_ADDR, DNS_IP, DNS_PORT.
dns_mk() {
	local path=$1
	shift
	c mkdns "$path" "$@"
	DNS_ADDR=$(c peek "$path" | jq -r .Address)
	DNS_IP=${DNS_ADDR%:*}
	DNS_PORT=${DNS_ADDR##*:}
	[[ "$DNS_PORT" =~ ^[0-9]+$ ]] && [ "$DNS_PORT" -gt 0 ] || fail "bad Address '$DNS_ADDR'"
}

# q DIG-ARGS...: dig against the last element made, bounded in time.
q() { dig @"$DNS_IP" -p "$DNS_PORT" +time=2 +tries=1 "$@"; }

# q_status DIG-ARGS...: the answer's status (NOERROR, NXDOMAIN, ...).
q_status() { q +noall +comments "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }

# q_flags DIG-ARGS...: the header flags ("qr aa rd").
q_flags() { q +noall +comments "$@" | sed -n 's/.*;; flags: \([a-z ]*\);.*/\1/p'; }

# free_port: a port free on 127.0.0.1 for both UDP and TCP right now.
free_port() {
	python3 - <<'PY'
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
PY
}

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', wanted '$3'"; }
