#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The client workload of twotier.py and twotier.sh, which send this text to
# a server as `sh -c` (it need not be installed there): resolve redis.svc.
# at the dns element ($DNS_HOST, $DNS_PORT), wait until redis answers on
# $REDIS_PORT, then SET and GET through it.
set -e
ip=$(dig +short +time=1 +tries=3 -p "$DNS_PORT" @"$DNS_HOST" redis.svc. A)
[ -n "$ip" ] || { echo "redis.svc. does not resolve" >&2; exit 1; }
for _ in $(seq 1 100); do
	redis-cli -h "$ip" -p "$REDIS_PORT" PING >/dev/null 2>&1 && break
	sleep 0.05
done
# redis-cli exits 0 on an error reply too: the reply says.
said=$(redis-cli -h "$ip" -p "$REDIS_PORT" SET greeting "hello from $(hostname)")
[ "$said" = OK ] || { echo "redis at $ip:$REDIS_PORT said: $said" >&2; exit 1; }
redis-cli -h "$ip" -p "$REDIS_PORT" GET greeting
