# SPDX-License-Identifier: Apache-2.0
# docker element vs the engine driven directly with curl; records the
# "docker" section of docs/BENCHMARKS.md. Skipped (77) without an engine.
if(CIRCUIT_BENCH AND CURL_FOUND)
  circuit_add_shell_test(bench/docker ${CMAKE_CURRENT_SOURCE_DIR}/docker_bench.sh
    LABELS bench TIMEOUT 1800)
  set_tests_properties(bench/docker PROPERTIES SKIP_RETURN_CODE 77)
endif()
