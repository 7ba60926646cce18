# SPDX-License-Identifier: Apache-2.0
# The server's frames and streams on one connection (circuitd_core).
circuit_add_fuzzer(frame_stream
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/frame_stream.c
  LIBS circuitd_core
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/frame_stream)
