# SPDX-License-Identifier: Apache-2.0
circuit_add_fuzzer(seal_open
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/seal_open.c
  LIBS circuit_security
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/seal_open)
