# SPDX-License-Identifier: Apache-2.0
# Failure figures (issue 15): liveness, abandoned relayed sends, hand-over, load.
if(CIRCUIT_BENCH)
  circuit_add_shell_test(bench/failures ${CMAKE_CURRENT_LIST_DIR}/failures.sh LABELS bench TIMEOUT 900)
endif()
