# SPDX-License-Identifier: Apache-2.0
# dns element vs dnsmasq (dnsperf); records the "dns" section of docs/BENCHMARKS.md.
if(CIRCUIT_BENCH AND LDNS_FOUND)
  circuit_add_shell_test(bench/dns ${CMAKE_CURRENT_SOURCE_DIR}/dns_bench.sh
    LABELS bench TIMEOUT 300)
endif()
# dns element vs NSD at 1,000 and 100,000 names (q/s, q/CPU-s, RSS); the "dns-nsd" section.
if(CIRCUIT_BENCH AND LDNS_FOUND)
  circuit_add_shell_test(bench/dns_nsd ${CMAKE_CURRENT_SOURCE_DIR}/dns_nsd_bench.sh
    LABELS bench TIMEOUT 600)
endif()
