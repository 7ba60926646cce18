# SPDX-License-Identifier: Apache-2.0
# Hostile input (issue 14): what each attack costs the server now.
if(CIRCUIT_BENCH)
  circuit_add_shell_test(bench/hostile ${CMAKE_CURRENT_LIST_DIR}/hostile.sh LABELS bench TIMEOUT 600)
endif()
