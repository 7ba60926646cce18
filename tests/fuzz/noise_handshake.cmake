# SPDX-License-Identifier: Apache-2.0
circuit_add_fuzzer(noise_handshake
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/noise_handshake.c
  LIBS circuit_security
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/noise_handshake)
