#!/usr/bin/env bash
# lintian --pedantic on the .deb, built with cpack from BUILD_DIR into a temporary directory:
# any error-level tag fails the test; warnings and notes are printed for the reader. Each tag
# the package accepts is overridden with its reason in packaging/deb/lintian-overrides.
# Usage: lintian_test.sh BUILD_DIR [CPACK]. Exit 77 = skipped.
set -euo pipefail

build=${1:?usage: lintian_test.sh BUILD_DIR [CPACK]}
cpack=${2:-cpack}

if ! command -v lintian >/dev/null; then
  echo "SKIP: lintian is not installed (apt-get install lintian)"
  exit 77
fi
[[ -f $build/CPackConfig.cmake ]] || { echo "FAIL: no $build/CPackConfig.cmake" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! (cd "$build" && "$cpack" -G DEB -B "$out" >"$out/cpack.log" 2>&1); then
  cat "$out/cpack.log" >&2
  echo "FAIL: cpack could not build the .deb" >&2
  exit 1
fi
debs=("$out"/failoverd_*.deb)
[[ -f ${debs[0]} ]] || { echo "FAIL: cpack made no failoverd_*.deb" >&2; exit 1; }

# lintian exits non-zero on errors; the tags themselves are what this test reads.
report=$(lintian --pedantic --display-info --display-experimental --tag-display-limit 0 \
  "${debs[0]}" 2>&1 | grep -v 'running with root privileges' || true)
printf '%s\n' "$report"
if grep -q '^E: ' <<<"$report"; then
  echo "FAIL: lintian reports errors" >&2
  exit 1
fi
echo "PASS: lintian shows no error"
