#!/usr/bin/env bash
# The maintainer scripts (POSIX sh, as dpkg runs them) and the package tests pass shellcheck.
# Usage: shellcheck_test.sh SOURCE_DIR
set -euo pipefail

src=${1:?usage: shellcheck_test.sh SOURCE_DIR}
if ! command -v shellcheck >/dev/null; then
  echo "SKIP: shellcheck is not installed (apt-get install shellcheck)"
  exit 77
fi
for f in postinst prerm postrm; do
  head -1 "$src/packaging/deb/$f" | grep -qx '#!/bin/sh' ||
    { echo "FAIL: packaging/deb/$f must start with #!/bin/sh" >&2; exit 1; }
  [[ -x $src/packaging/deb/$f ]] || { echo "FAIL: packaging/deb/$f is not executable" >&2; exit 1; }
done
shellcheck -s sh "$src"/packaging/deb/{postinst,prerm,postrm}
shellcheck -s bash "$src"/tests/package/*.sh
echo "PASS: shellcheck"
