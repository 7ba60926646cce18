# SPDX-License-Identifier: Apache-2.0
# docker element vs the engine driven directly with curl, once per engine
# (CIRCUIT_TEST_ENGINE: podman's service, Docker's dockerd); records the
# "docker-podman" and "docker-dockerd" sections of docs/BENCHMARKS.md.
# Skipped (77) without an engine.
if(CIRCUIT_BENCH AND CURL_FOUND)
  foreach(engine podman dockerd)
    circuit_add_shell_test(bench/docker-${engine} ${CMAKE_CURRENT_SOURCE_DIR}/docker_bench.sh
      LABELS bench TIMEOUT 1800)
    set_tests_properties(bench/docker-${engine} PROPERTIES SKIP_RETURN_CODE 77)
    set_property(TEST bench/docker-${engine} APPEND PROPERTY ENVIRONMENT CIRCUIT_TEST_ENGINE=${engine})
  endforeach()
endif()
