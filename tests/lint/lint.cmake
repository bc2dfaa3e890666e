# Lint of the operator files: the Vagrantfiles parse and configure what they should, the shell
# scripts pass shellcheck, and the Vagrant config template renders to configs failoverd accepts.
# Included from tests/CMakeLists.txt. Every test has the label "lint". Files are globbed with
# CONFIGURE_DEPENDS, so a script or Vagrantfile added later gets its test at the next build.
set(_lint_dir ${CMAKE_CURRENT_SOURCE_DIR}/lint)
set(_src ${PROJECT_SOURCE_DIR})

find_program(FAILOVERD_RUBY ruby)
find_program(FAILOVERD_SHELLCHECK shellcheck)

# A missing linter is a failure, not a pass: the suite would otherwise vouch for files nobody
# checked. scripts/install-deps.sh installs both.
set(_lint_missing "")
foreach(_tool RUBY SHELLCHECK)
  if(NOT FAILOVERD_${_tool})
    string(TOLOWER ${_tool} _name)
    list(APPEND _lint_missing ${_name})
  endif()
endforeach()
if(_lint_missing)
  add_test(NAME lint_tools_missing
           COMMAND sh -c "echo 'lint needs: ${_lint_missing} (scripts/install-deps.sh)' >&2; exit 1")
  set_tests_properties(lint_tools_missing PROPERTIES LABELS lint)
endif()

# Files under a Vagrant machine-state folder (.vagrant/) are not ours.
function(_lint_drop_state out_var)
  set(_kept "")
  foreach(_f ${ARGN})
    if(NOT _f MATCHES "/\\.vagrant/")
      list(APPEND _kept ${_f})
    endif()
  endforeach()
  set(${out_var} ${_kept} PARENT_SCOPE)
endfunction()

if(FAILOVERD_RUBY)
  file(GLOB_RECURSE _ruby_files CONFIGURE_DEPENDS
       ${_src}/vagrant/Vagrantfile ${_src}/vagrant/*/Vagrantfile ${_src}/vagrant/*.rb
       ${_lint_dir}/*.rb)
  _lint_drop_state(_ruby_files ${_ruby_files})
  foreach(_f ${_ruby_files})
    file(RELATIVE_PATH _rel ${_src} ${_f})
    add_test(NAME lint_ruby_syntax:${_rel} COMMAND ${FAILOVERD_RUBY} -c ${_f})
    set_tests_properties(lint_ruby_syntax:${_rel} PROPERTIES LABELS lint TIMEOUT 30)
  endforeach()
  # Loads both Vagrantfiles against a stand-in for Vagrant's API (provider settings that exist,
  # uploaded files that exist, required settings that stop `vagrant up`, per-node values).
  add_test(NAME lint_vagrantfiles
           COMMAND ${FAILOVERD_RUBY} ${_lint_dir}/vagrantfile_check.rb ${_src})
  set_tests_properties(lint_vagrantfiles PROPERTIES LABELS lint TIMEOUT 60)
endif()

if(FAILOVERD_SHELLCHECK)
  file(GLOB_RECURSE _sh_files CONFIGURE_DEPENDS ${_src}/vagrant/*.sh)
  _lint_drop_state(_sh_files ${_sh_files})
  file(GLOB _sh_more CONFIGURE_DEPENDS ${_src}/scripts/*.sh ${_lint_dir}/*.sh
       ${_src}/tests/systemd/*.sh)
  # The Debian maintainer scripts that exist (POSIX sh; shellcheck reads the #! line).
  file(GLOB _maint CONFIGURE_DEPENDS ${_src}/packaging/deb/preinst ${_src}/packaging/deb/postinst
       ${_src}/packaging/deb/prerm ${_src}/packaging/deb/postrm ${_src}/packaging/deb/config)
  foreach(_f ${_sh_files} ${_sh_more} ${_maint})
    file(RELATIVE_PATH _rel ${_src} ${_f})
    get_filename_component(_dir ${_f} DIRECTORY)
    # -x follows `source`; the scripts' source-path=SCRIPTDIR directives resolve from their folder.
    add_test(NAME lint_shellcheck:${_rel} COMMAND ${FAILOVERD_SHELLCHECK} -x ${_f}
             WORKING_DIRECTORY ${_dir})
    set_tests_properties(lint_shellcheck:${_rel} PROPERTIES LABELS lint TIMEOUT 60)
  endforeach()
endif()

# The one config template renders, for both DigitalOcean nodes and the local pair, to configs
# that `failoverd --check-config` accepts (with the secrets it names in place, mode 0600).
add_test(NAME lint_vagrant_template
         COMMAND bash ${_lint_dir}/render_template_test.sh ${_src} ${PROJECT_BINARY_DIR})
set_tests_properties(lint_vagrant_template PROPERTIES LABELS lint TIMEOUT 60)
