# SPDX-License-Identifier: Apache-2.0
# libcircuit reading a hostile server's frames (sdk/lib/client.c compiled in).
circuit_add_fuzzer(client_reply
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/client_reply.c
  LIBS circuit_wire circuit_security PkgConfig::GLIB PkgConfig::JSONGLIB PkgConfig::GCRYPT
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/client_reply)
target_include_directories(client_reply PRIVATE ${CMAKE_SOURCE_DIR}/core ${CMAKE_SOURCE_DIR}/sdk/include)
