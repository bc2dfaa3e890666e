# The install layout and the Debian package (cmake/packaging.cmake, packaging/deb/).
# Included from tests/CMakeLists.txt. Exit code 77 is a skip (for example: not root, or a
# failoverd package this test did not install is already on the machine).
set(_pkg_tests ${CMAKE_CURRENT_SOURCE_DIR}/package)

# Installs, upgrades, removes and purges the .deb on this machine: root, and one at a time.
add_test(NAME package_deb_lifecycle
         COMMAND bash ${_pkg_tests}/deb_lifecycle_test.sh ${PROJECT_BINARY_DIR} ${CMAKE_CPACK_COMMAND})
# `cmake --install` into temporary directories (a prefix, and DESTDIR with the prefix /usr).
add_test(NAME package_cmake_install
         COMMAND bash ${_pkg_tests}/cmake_install_test.sh ${PROJECT_BINARY_DIR} ${CMAKE_COMMAND})
# lintian --pedantic on the .deb: no error-level tag.
add_test(NAME package_lintian
         COMMAND bash ${_pkg_tests}/lintian_test.sh ${PROJECT_BINARY_DIR} ${CMAKE_CPACK_COMMAND})
# The maintainer scripts and these test scripts pass shellcheck.
add_test(NAME package_shellcheck
         COMMAND bash ${_pkg_tests}/shellcheck_test.sh ${PROJECT_SOURCE_DIR})

set_tests_properties(package_deb_lifecycle PROPERTIES LABELS "root;package" TIMEOUT 300)
set_tests_properties(package_cmake_install PROPERTIES LABELS "package" TIMEOUT 120)
set_tests_properties(package_shellcheck PROPERTIES LABELS "package" TIMEOUT 60)
set_tests_properties(package_lintian PROPERTIES LABELS "package" TIMEOUT 300 SKIP_RETURN_CODE 77
                     RESOURCE_LOCK failoverd_install_script)
# Both run the build dir's install script (which writes install_manifest.txt there).
set_tests_properties(package_deb_lifecycle package_cmake_install package_shellcheck PROPERTIES
                     SKIP_RETURN_CODE 77)
set_tests_properties(package_deb_lifecycle package_cmake_install PROPERTIES
                     RESOURCE_LOCK failoverd_install_script)
