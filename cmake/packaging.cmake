# Install layout beyond the two programs, and the Debian package (CPack DEB).
#
# `cmake --install build --prefix P` lays out:
#   P/sbin/failoverd, P/bin/failoverctl                       (CMakeLists.txt)
#   P/share/doc/failoverd/{README.md,docs...,examples/failoverd.conf}
#   P/lib/sysusers.d/failoverd.conf, P/lib/tmpfiles.d/failoverd.conf
#   P/lib/systemd/system/failoverd@.service, P/etc/failoverd/ (0750)
# With the prefix /usr (the .deb), the last two go to the root instead, as Debian 12 expects:
# /lib/systemd/system (not /usr/lib: bookworm's dpkg must not see a file move between the two)
# and /etc/failoverd. That choice is made at install time, so `--prefix` and DESTDIR both work.
include(GNUInstallDirs)

set(_fod_pkg_dir ${PROJECT_SOURCE_DIR}/packaging/deb)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/conf/failoverd.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Placeholders until the project has a public home: override with -D at configure time. The
# maintainer also signs the changelog below.
set(FAILOVERD_MAINTAINER "failoverd maintainers <failoverd@example.org>" CACHE STRING
    "Maintainer field of the .deb")
set(FAILOVERD_HOMEPAGE "https://example.org/failoverd" CACHE STRING "Homepage field of the .deb")

# Manual pages and the changelog, compressed as Debian wants them (gzip -9n: no name or time
# stamp, so the files are the same on every build); the copyright file; lintian's overrides,
# each override with its reason in the file.
find_program(FAILOVERD_GZIP gzip REQUIRED)
set(FAILOVERD_VERSION ${PROJECT_VERSION})
set(_fod_gen ${CMAKE_CURRENT_BINARY_DIR}/packaging/gen)
set(_fod_gz "")
foreach(_src man/failoverd.8 man/failoverctl.8 man/failoverd.conf.5 deb/changelog.in)
  get_filename_component(_name ${_src} NAME)
  string(REGEX REPLACE "\\.in$" "" _name ${_name})
  configure_file(${PROJECT_SOURCE_DIR}/packaging/${_src} ${_fod_gen}/${_name} @ONLY)
  add_custom_command(OUTPUT ${_fod_gen}/${_name}.gz
                     COMMAND ${FAILOVERD_GZIP} -9nkf ${_fod_gen}/${_name}
                     DEPENDS ${_fod_gen}/${_name} VERBATIM)
  list(APPEND _fod_gz ${_fod_gen}/${_name}.gz)
endforeach()
add_custom_target(failoverd_package_docs ALL DEPENDS ${_fod_gz})
install(FILES ${_fod_gen}/failoverd.8.gz ${_fod_gen}/failoverctl.8.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${_fod_gen}/failoverd.conf.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${_fod_gen}/changelog.gz ${_fod_pkg_dir}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${_fod_pkg_dir}/lintian-overrides DESTINATION share/lintian/overrides
        RENAME failoverd)
# The failoverd system user and group (systemd-sysusers, also used by the postinst), and
# /run/failoverd for the control sockets and VIP ledgers (systemd-tmpfiles at boot; the unit's
# RuntimeDirectory= creates it too).
install(FILES ${_fod_pkg_dir}/failoverd.sysusers DESTINATION lib/sysusers.d
        RENAME failoverd.conf)
install(FILES ${_fod_pkg_dir}/failoverd.tmpfiles DESTINATION lib/tmpfiles.d
        RENAME failoverd.conf)

# An empty directory to install as /etc/failoverd: 0750, so instance configs (which may name
# token and key files) are not world-readable. Its group becomes failoverd in the postinst,
# once that group exists.
set(_fod_etc_src ${CMAKE_CURRENT_BINARY_DIR}/packaging/etc/failoverd)
file(MAKE_DIRECTORY ${_fod_etc_src})
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_fod_root \"\")
  else()
    set(_fod_root \"\${CMAKE_INSTALL_PREFIX}\")
  endif()
  file(INSTALL DESTINATION \"\${_fod_root}/lib/systemd/system\" TYPE FILE
       FILES \"${PROJECT_SOURCE_DIR}/systemd/failoverd@.service\")
  file(INSTALL DESTINATION \"\${_fod_root}/etc\" TYPE DIRECTORY
       FILES \"${_fod_etc_src}\"
       DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)
")

# The Debian package. Only on a host with dpkg: the architecture and the shared-library
# dependencies come from dpkg's own tools.
find_program(FAILOVERD_DPKG dpkg)
if(NOT FAILOVERD_DPKG)
  message(STATUS "packaging: no dpkg, no .deb (the `package` target is not defined)")
  return()
endif()
execute_process(COMMAND ${FAILOVERD_DPKG} --print-architecture
                OUTPUT_VARIABLE _fod_arch OUTPUT_STRIP_TRAILING_WHITESPACE
                COMMAND_ERROR_IS_FATAL ANY)
find_program(FAILOVERD_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(NOT FAILOVERD_DPKG_SHLIBDEPS)
  message(WARNING "packaging: dpkg-shlibdeps not found (apt-get install dpkg-dev); "
                  "building the .deb will fail")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME failoverd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "failoverd")
set(CPACK_PACKAGE_CONTACT "${FAILOVERD_MAINTAINER}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${FAILOVERD_HOMEPAGE}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "VRRP failover daemon for one service address")
# lintian wants description lines of at most 80 columns.
set(CPACK_PACKAGE_DESCRIPTION
    "failoverd keeps one service address alive across two hosts. The daemons\n\
elect a master with VRRPv3 heartbeats (wire-compatible with keepalived) or\n\
an authenticated UDP transport, and the master owns the virtual IP or the\n\
cloud reserved IP. Health checks (docker, http, tcp, exec), notify hooks,\n\
Prometheus metrics and a control socket (failoverctl) are included.")
# Staging with DESTDIR keeps CMAKE_INSTALL_PREFIX at /usr during `cpack`, so the install
# code above puts the unit in /lib/systemd/system and the directory in /etc.
# (In that mode CPACK_INSTALL_PREFIX is the prefix; CPACK_PACKAGING_INSTALL_PREFIX is not used.)
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR})

set(CPACK_DEBIAN_PACKAGE_NAME failoverd)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${_fod_arch})
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${CPACK_PACKAGE_HOMEPAGE_URL}")
set(CPACK_DEBIAN_FILE_NAME "failoverd_${PROJECT_VERSION}_${_fod_arch}.deb")
# dpkg-shlibdeps adds what the binaries link; libcurl is dlopen'd ("libcurl.so.4", from
# libcurl4) on first use, so it is invisible to shlibdeps and named here. The postinst
# creates the user with systemd-sysusers, or adduser where systemd is absent (lintian wants
# adduser as a plain dependency of a script that may call it), and restarts instances with
# deb-systemd-invoke (init-system-helpers, essential in Debian 12: not named).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4, adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_fod_pkg_dir}/postinst ${_fod_pkg_dir}/prerm ${_fod_pkg_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
