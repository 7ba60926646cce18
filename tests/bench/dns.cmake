# SPDX-License-Identifier: Apache-2.0
# dns element vs dnsmasq (dnsperf); records the "dns" section of docs/BENCHMARKS.md.
if(CIRCUIT_BENCH AND LDNS_FOUND)
  circuit_add_shell_test(bench/dns ${CMAKE_CURRENT_SOURCE_DIR}/dns_bench.sh
    LABELS bench TIMEOUT 300)
endif()
