# SPDX-License-Identifier: Apache-2.0
# CircuitPackaging.cmake - Debian packages with CPack, one per install
# component (cpack -G DEB in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr):
#   core         -> circuit              circuitd, circuit-guard, the CLI,
#                                        libcircuit.so.*, man pages, completion,
#                                        systemd unit, /etc/default/circuitd
#   plugin-KIND  -> circuit-plugin-KIND  one per plugin this build has
#   dev          -> libcircuit-dev       headers, .pc files, libcircuit.so, examples
#   python       -> python3-circuit      the circuit Python package (sdk/python)
# Included last from the top CMakeLists.txt, so every install() has run and
# the plugin components are known. See docs/packaging.md.

# circuit_package_name(COMPONENT OUT): the Debian package of a component.
function(circuit_package_name component out)
  if(component STREQUAL "core")
    set(${out} circuit PARENT_SCOPE)
  elseif(component STREQUAL "dev")
    set(${out} libcircuit-dev PARENT_SCOPE)
  elseif(component STREQUAL "python")
    set(${out} python3-circuit PARENT_SCOPE)
  else()
    set(${out} circuit-${component} PARENT_SCOPE)
  endif()
endfunction()

# Maintainer and changelog signature; a distributor sets their own.
set(CIRCUIT_PACKAGE_MAINTAINER "Circuit developers <dev@circuit.local>" CACHE STRING
  "Maintainer of the Debian packages (Name <address>)")

get_cmake_property(CIRCUIT_COMPONENTS COMPONENTS)
set(CIRCUIT_PLUGIN_COMPONENTS ${CIRCUIT_COMPONENTS})
list(FILTER CIRCUIT_PLUGIN_COMPONENTS INCLUDE REGEX "^plugin-")
list(SORT CIRCUIT_PLUGIN_COMPONENTS)
# The Python binding, when this build has it (python3-dev found).
set(CIRCUIT_EXTRA_COMPONENTS)
if("python" IN_LIST CIRCUIT_COMPONENTS)
  list(APPEND CIRCUIT_EXTRA_COMPONENTS python)
endif()

# Man pages, completion, the unit, /etc/default/circuitd, copyright files.
add_subdirectory(${PROJECT_SOURCE_DIR}/packaging ${PROJECT_BINARY_DIR}/packaging)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME circuit)
set(CPACK_PACKAGE_VENDOR "Circuit developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${CIRCUIT_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CIRCUIT_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
# A shlibs file for libcircuit.so.0: programs built against it depend on
# circuit (>= this version).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
# The compiled-in paths (plugin directory, circuit-guard) name the configured
# prefix, so the packages install there; /etc/default/circuitd is absolute,
# hence DESTDIR staging.
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_SET_DESTDIR ON)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/packaging/cpack-project.cmake)
set(CPACK_COMPONENTS_ALL core dev ${CIRCUIT_EXTRA_COMPONENTS} ${CIRCUIT_PLUGIN_COMPONENTS})

# circuit
set(CPACK_DEBIAN_CORE_PACKAGE_NAME circuit)
set(CPACK_COMPONENT_CORE_DESCRIPTION
  "run and wire together processes across hosts through one tree of names
circuitd is a small server that runs on every host of a cluster and lets one
person run, watch and wire together processes, channels, DNS records and
containers on any host, from any host, through one tree of names; circuit is
its command-line tool, libcircuit the client library both are built on.
.
Element kinds are plugins, each in its own circuit-plugin-KIND package:
circuitd loads every one that is installed. The circuitd.service unit is
installed but not enabled.")
set(CPACK_DEBIAN_CORE_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_CORE_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/postinst
  ${PROJECT_SOURCE_DIR}/packaging/prerm
  ${PROJECT_SOURCE_DIR}/packaging/postrm
  ${PROJECT_BINARY_DIR}/packaging/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/triggers)

# libcircuit-dev
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libcircuit-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS core)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libglib2.0-dev, libjson-glib-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "circuit SDK: write element-kind plugins and clients
The headers circuit/plugin.h (the plugin SDK, pkg-config circuit-plugin) and
circuit/client.h (libcircuit, pkg-config circuit), the libcircuit.so link
and two examples built out of tree with pkg-config: a new element kind and a
client program.")

# python3-circuit: the extension is built for one python3 (its ABI tag in the
# file name), and needs the libcircuit of the same version.
if("python" IN_LIST CIRCUIT_EXTRA_COMPONENTS)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-circuit)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
  set(CPACK_COMPONENT_PYTHON_DEPENDS core)
  math(EXPR circuit_py_next "${CIRCUIT_PYTHON_VERSION_MINOR} + 1")
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS
    "python3 (>= 3.${CIRCUIT_PYTHON_VERSION_MINOR}~), python3 (<< 3.${circuit_py_next})")
  # The extension links libcircuit, which is in circuit (not installed while
  # packaging): dpkg-shlibdeps finds it in the build tree; the dependency is
  # circuit (= version), from the component's.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/lib)
  # Byte-compiled at install, cleaned before removal (as dh_python3 does).
  set(CPACK_DEBIAN_PYTHON_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/python3-circuit/postinst
    ${PROJECT_SOURCE_DIR}/packaging/python3-circuit/prerm)
  set(CPACK_COMPONENT_PYTHON_DESCRIPTION
    "Python binding of circuit's client library
import circuit: dial a circuit server, list and peek its tree, run processes
on any host with their standard streams as Python files, wait for them,
signal them; channels, DNS elements, containers, membership feeds, and any
third-party element kind through one generic call. A CPython extension over
libcircuit (no second implementation of the protocol); calls release the
GIL and can be interrupted. See /usr/share/doc/python3-circuit/python.md.")
endif()

# circuit-plugin-KIND, each needing the circuitd of the same version (the
# plugin ABI is checked at load time; same version keeps it simple).
foreach(component IN LISTS CIRCUIT_PLUGIN_COMPONENTS)
  string(TOUPPER ${component} upper)
  string(REGEX REPLACE "^plugin-" "" kind ${component})
  circuit_package_name(${component} package)
  set(CPACK_DEBIAN_${upper}_PACKAGE_NAME ${package})
  set(CPACK_COMPONENT_${upper}_DEPENDS core)
  set(CPACK_COMPONENT_${upper}_DESCRIPTION
    "${kind} element kind for circuitd
The ${kind} plugin of circuit.
circuitd loads it at start (restart circuitd after installing or removing
it), and circuit drives its elements with the verbs it offers.
See circuit(1).")
endforeach()

# The docker plugin loads libcurl at first use instead of linking it (so an
# idle circuitd does not map it): dpkg-shlibdeps cannot see that dependency.
if("plugin-docker" IN_LIST CIRCUIT_PLUGIN_COMPONENTS)
  set(CPACK_DEBIAN_PLUGIN-DOCKER_PACKAGE_DEPENDS "libcurl4 (>= 7.68)")
endif()

include(CPack)
