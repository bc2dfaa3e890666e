#!/usr/bin/env bash
# `cmake --install BUILD --prefix DIR` lays out every file under DIR and nothing elsewhere;
# with DESTDIR and the prefix /usr (what the .deb does), the unit and /etc/failoverd go to the
# root of DESTDIR as Debian 12 expects.
# Usage: cmake_install_test.sh BUILD_DIR [CMAKE]
set -euo pipefail

build=${1:?usage: cmake_install_test.sh BUILD_DIR [CMAKE]}
cmake=${2:-cmake}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ -x $build/failoverd && -x $build/failoverctl ]] ||
  fail "$build/failoverd or failoverctl is not built"

tmp=$(mktemp -d /tmp/failoverd-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Expects FILE to exist with octal MODE (permission bits only).
expect_mode() {
  local path=$1 mode=$2
  [[ -e $path ]] || fail "missing: $path"
  local got
  got=$(stat -c %a "$path")
  [[ $got == "$mode" ]] || fail "$path has mode $got, expected $mode"
}

echo "== cmake --install --prefix $tmp/prefix"
"$cmake" --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
  fail "cmake --install --prefix failed: $(cat "$tmp/install.log")"
p=$tmp/prefix
expect_mode "$p/sbin/failoverd" 755
expect_mode "$p/bin/failoverctl" 755
expect_mode "$p/lib/systemd/system/failoverd@.service" 644
expect_mode "$p/lib/sysusers.d/failoverd.conf" 644
expect_mode "$p/lib/tmpfiles.d/failoverd.conf" 644
expect_mode "$p/share/doc/failoverd/README.md" 644
expect_mode "$p/share/doc/failoverd/examples/failoverd.conf" 644
expect_mode "$p/share/doc/failoverd/split-brain.md" 644
expect_mode "$p/etc/failoverd" 750
[[ -d $p/etc/failoverd ]] || fail "$p/etc/failoverd is not a directory"
cmp -s "$p/lib/systemd/system/failoverd@.service" "$(dirname "$0")/../../systemd/failoverd@.service" ||
  fail "installed unit differs from systemd/failoverd@.service"
"$p/sbin/failoverd" --version | grep -q '^failoverd [0-9]' ||
  fail "installed failoverd --version does not print a version"
# Every installed path is inside the prefix: no absolute destination escapes it.
manifest=$build/install_manifest.txt
[[ -s $manifest ]] || fail "no $manifest written"
if grep -v "^$p/" "$manifest"; then
  fail "the paths above were installed outside the prefix $p"
fi

echo "== DESTDIR=$tmp/dest cmake --install --prefix /usr"
DESTDIR=$tmp/dest "$cmake" --install "$build" --prefix /usr >"$tmp/install.log" 2>&1 ||
  fail "cmake --install with DESTDIR failed: $(cat "$tmp/install.log")"
d=$tmp/dest
expect_mode "$d/usr/sbin/failoverd" 755
expect_mode "$d/usr/bin/failoverctl" 755
expect_mode "$d/lib/systemd/system/failoverd@.service" 644
expect_mode "$d/usr/lib/sysusers.d/failoverd.conf" 644
expect_mode "$d/usr/lib/tmpfiles.d/failoverd.conf" 644
expect_mode "$d/usr/share/doc/failoverd/README.md" 644
expect_mode "$d/usr/share/doc/failoverd/examples/failoverd.conf" 644
expect_mode "$d/etc/failoverd" 750
[[ ! -e $d/usr/etc && ! -e $d/usr/lib/systemd/system ]] ||
  fail "the /usr prefix put the unit or /etc under /usr"
if find "$tmp/dest" -mindepth 1 -maxdepth 1 | grep -vE "^$d/(usr|etc|lib)$"; then
  fail "unexpected top-level paths above in DESTDIR"
fi

echo "PASS: cmake --install layouts"
