#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# twotier.sh [-d URL] [--port PORT]: twotier.py with the circuit tool: a
# redis-server on one server, a dns element on another naming it
# (`circuit set .../dns "redis.svc. 60 IN A ..."`), and on a third a client
# workload that finds redis through that element, stores a value and reads
# it back. Prints what the client read; then scrubs the client, the dns
# element and redis, in that order, also when something failed.
set -euo pipefail
circuit=${CIRCUIT_BIN:-circuit}
dial=()
port=6379
while [ $# -gt 0 ]; do
	case "$1" in
	-d) dial=(-d "$2"); shift 2 ;;
	--port) port=$2; shift 2 ;;
	*) echo "usage: twotier.sh [-d URL] [--port PORT]" >&2; exit 2 ;;
	esac
done
c() { "$circuit" "${dial[@]}" "$@"; }
# peek_field PATH FIELD: a string field of PATH's peek.
peek_field() { c peek "$1" | sed -n "s/^\t\"$2\" : \"\(.*\)\",\?$/\1/p"; }
# host_of HOST:PORT: the host, without the brackets of an IPv6 address.
host_of() {
	local h=${1%:*}
	h=${h#[}
	echo "${h%]}"
}
# json STRING: STRING as a JSON string (backslashes, quotes, tabs, newlines).
json() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	printf '"%s"' "${s//$'\n'/\\n}"
}

# The client workload (sent as the text of `sh -c`): resolve redis.svc. at
# the dns element, wait until redis answers, then SET and GET through it.
client_sh=$(cat "$(dirname "$(readlink -f "$0")")/twotier-client.sh")

mapfile -t servers < <(c ls / | grep '^/X')
tier=()
for i in 0 1 2; do tier+=("${servers[i % ${#servers[@]}]}"); done # redis, dns, client
run="twotier-$$"
made=()
cleanup() {
	local i
	# The client first, then the name, then the service.
	for ((i = ${#made[@]} - 1; i >= 0; i--)); do c scrub "${made[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

redis_host=$(host_of "$(peek_field "${tier[0]}" Addr)")
# Bound to the server's address, for clients on other hosts: redis's
# protected mode (loopback only, without a password) off.
printf '{"Path":"/usr/bin/redis-server","Args":["--bind",%s,"--port","%s","--protected-mode","no","--save","","--appendonly","no"]}' \
	"$(json "$redis_host")" "$port" | c mkproc "${tier[0]}/$run/redis" >/dev/null
made+=("${tier[0]}/$run/redis")
echo "redis on ${tier[0]} at $redis_host:$port" >&2

c mkdns "${tier[1]}/$run/dns"
made+=("${tier[1]}/$run/dns")
c set "${tier[1]}/$run/dns" "redis.svc. 60 IN A $redis_host"
dns_addr=$(peek_field "${tier[1]}/$run/dns" Address)
echo "dns on ${tier[1]} at $dns_addr" >&2

printf '{"Path":"/bin/sh","Args":["-c",%s],"Env":["PATH=/usr/bin:/bin",%s,%s,%s]}' \
	"$(json "$client_sh")" "$(json "DNS_HOST=$(host_of "$dns_addr")")" "$(json "DNS_PORT=${dns_addr##*:}")" \
	"$(json "REDIS_PORT=$port")" | c mkproc "${tier[2]}/$run/client" >/dev/null
made+=("${tier[2]}/$run/client")
echo "client on ${tier[2]}" >&2
c stdout "${tier[2]}/$run/client"
c stderr "${tier[2]}/$run/client" >&2
c wait "${tier[2]}/$run/client" >/dev/null
