#!/usr/bin/env bash
# The .deb on this very machine: build it with cpack from BUILD_DIR, install it, check files,
# user, modes, the programs and the unit, upgrade to a re-packed higher version (an admin's
# /etc/failoverd/web.conf survives), remove (config kept), purge (config gone).
# The machine is left as it was found, also on failure (trap): the package purged, and the
# failoverd user, group and directories deleted if this test created them.
# Usage (root): deb_lifecycle_test.sh BUILD_DIR [CPACK]. Exit 77 = skipped.
set -euo pipefail

build=${1:?usage: deb_lifecycle_test.sh BUILD_DIR [CPACK]}
cpack=${2:-cpack}
pkg=failoverd

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
skip() {
  echo "SKIP: $*"
  exit 77
}
step() { echo "== $*"; }

((EUID == 0)) || skip "needs root (dpkg -i)"
for tool in dpkg dpkg-deb dpkg-query; do
  command -v "$tool" >/dev/null || skip "no $tool: not a Debian system"
done
[[ -f $build/CPackConfig.cmake ]] ||
  fail "no $build/CPackConfig.cmake: cmake/packaging.cmake was not included or found no dpkg"

pkg_status() { dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true; }

# Anything but "never heard of it" means someone else's package (or its config) is here.
before=$(pkg_status)
if [[ -n $before && $before != not-installed ]]; then
  skip "a $pkg package is already on this machine (dpkg status: $before); this test did not" \
    "install it and leaves it alone"
fi
# Directories an unpackaged failoverd (make install, a demo) would use: not ours to purge.
for dir in /etc/failoverd /run/failoverd; do
  [[ ! -e $dir ]] || skip "$dir exists without a $pkg package; not touching it"
done
getent passwd "$pkg" >/dev/null && user_existed=1 || user_existed=0
getent group "$pkg" >/dev/null && group_existed=1 || group_existed=0

tmp=$(mktemp -d /tmp/failoverd-deb-test.XXXXXX)

cleanup() {
  local rc=$?
  set +e
  if [[ -n $(pkg_status) && $(pkg_status) != not-installed ]]; then
    echo "cleanup: purging $pkg"
    if ! dpkg --purge "$pkg" >"$tmp/cleanup.log" 2>&1; then
      # A broken maintainer script must not keep the package on the machine: bypass ours.
      cat "$tmp/cleanup.log"
      for s in prerm postrm; do
        [[ -f /var/lib/dpkg/info/$pkg.$s ]] && printf '#!/bin/sh\nexit 0\n' >"/var/lib/dpkg/info/$pkg.$s"
      done
      dpkg --purge --force-remove-reinstreq "$pkg"
    fi
  fi
  if ((!user_existed)) && getent passwd "$pkg" >/dev/null; then userdel "$pkg"; fi
  if ((!group_existed)) && getent group "$pkg" >/dev/null; then groupdel "$pkg"; fi
  rm -rf /run/failoverd /etc/failoverd "$tmp"
  rm -f /etc/systemd/system/multi-user.target.wants/failoverd@web.service \
    /etc/systemd/system/multi-user.target.wants/failoverd@mine.service
  if ((rc == 0)); then echo "PASS: install, upgrade, remove, purge"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# dpkg with a wait for its lock, in case apt runs at the same moment.
run_dpkg() {
  local i
  for i in $(seq 1 60); do
    if dpkg "$@" >"$tmp/dpkg.log" 2>&1; then
      cat "$tmp/dpkg.log"
      return 0
    fi
    grep -qiE 'lock|locked' "$tmp/dpkg.log" || break
    ((i == 60)) || sleep 1
  done
  cat "$tmp/dpkg.log" >&2
  return 1
}

# Expects PATH to exist with octal MODE and OWNER:GROUP.
expect_stat() {
  local path=$1 mode=$2 owner=$3 got
  [[ -e $path ]] || fail "missing: $path"
  got=$(stat -c '%a %U:%G' "$path")
  [[ $got == "$mode $owner" ]] || fail "$path is '$got', expected '$mode $owner'"
}

installed_files=(
  /usr/sbin/failoverd /usr/bin/failoverctl
  /lib/systemd/system/failoverd@.service
  /usr/lib/sysusers.d/failoverd.conf /usr/lib/tmpfiles.d/failoverd.conf
  /usr/share/doc/failoverd/README.md /usr/share/doc/failoverd/examples/failoverd.conf
)

# ---------------------------------------------------------------------------------------------
step "build the .deb with cpack"
arch=$(dpkg --print-architecture)
# Packs what is already built. With the Makefile generator cpack would first run the
# `preinstall` target (a build of everything) while other tests run; naming a generator that
# has no such target (Ninja; ninja itself is never run) skips that step. The package target
# (`cmake --build build --target package`) does build first.
"$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" -D CPACK_CMAKE_GENERATOR=Ninja \
  >"$tmp/cpack.log" 2>&1 ||
  fail "cpack failed: $(cat "$tmp/cpack.log")"
version=$("$build/failoverd" --version | awk '{print $2}')
deb=$tmp/out/${pkg}_${version}_${arch}.deb
[[ -f $deb ]] || fail "cpack did not write $deb; it wrote: $(ls "$tmp/out")"
field() { dpkg-deb -f "$1" "$2"; }
[[ $(field "$deb" Package) == "$pkg" ]] || fail "Package field is not $pkg"
[[ $(field "$deb" Version) == "$version" ]] || fail "Version $(field "$deb" Version) != $version"
[[ $(field "$deb" Architecture) == "$arch" ]] || fail "Architecture is not $arch"
[[ $(field "$deb" Section) == net ]] || fail "Section is not net"
[[ -n $(field "$deb" Maintainer) && -n $(field "$deb" Homepage) ]] ||
  fail "Maintainer or Homepage missing"
depends=$(field "$deb" Depends)
echo "Depends: $depends"
# libcurl4 by hand (dlopen'd), libc6 and libnl-3 from dpkg-shlibdeps.
for dep in libcurl4 libc6 libnl-3-200 libnl-route-3-200; do
  grep -qE "(^|, )$dep( |,|$)" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
contents=$(dpkg-deb -c "$deb")
grep -qE '^drwxr-x--- .* \./etc/failoverd/$' <<<"$contents" ||
  fail "the .deb does not ship /etc/failoverd/ with mode 0750"
grep -qE ' \./lib/systemd/system/failoverd@\.service$' <<<"$contents" ||
  fail "the .deb does not ship the unit in /lib/systemd/system"

# ---------------------------------------------------------------------------------------------
step "install $(basename "$deb")"
run_dpkg -i "$deb" || fail "dpkg -i $deb failed"
[[ $(pkg_status) == installed ]] || fail "dpkg status after install is '$(pkg_status)'"
for f in "${installed_files[@]}"; do
  [[ -f $f ]] || fail "not installed: $f"
done
[[ -x /usr/sbin/failoverd && -x /usr/bin/failoverctl ]] || fail "programs are not executable"

passwd_entry=$(getent passwd "$pkg") || fail "no $pkg user after install"
getent group "$pkg" >/dev/null || fail "no $pkg group after install"
IFS=: read -r _ _ uid gid _ home shell <<<"$passwd_entry"
((uid < 1000)) || fail "$pkg is not a system user (uid $uid)"
[[ $(getent group "$gid" | cut -d: -f1) == "$pkg" ]] || fail "primary group of $pkg is not $pkg"
[[ $home == /nonexistent && ! -e /nonexistent ]] || fail "home is '$home' or it was created"
[[ $shell == */nologin || $shell == /bin/false ]] || fail "$pkg has a login shell: $shell"
if getent group docker >/dev/null; then
  id -nG "$pkg" | tr ' ' '\n' | grep -qx docker || fail "$pkg was not added to the docker group"
fi
expect_stat /etc/failoverd 750 root:failoverd
expect_stat /run/failoverd 750 failoverd:failoverd
expect_stat /usr/sbin/failoverd 755 root:root

[[ $(/usr/sbin/failoverd --version) == "failoverd $version" ]] ||
  fail "failoverd --version printed '$(/usr/sbin/failoverd --version)'"
/usr/bin/failoverctl --version | grep -qF "$version" || fail "failoverctl --version is wrong"
# The documented example is a valid config.
/usr/sbin/failoverd --check-config /usr/share/doc/failoverd/examples/failoverd.conf ||
  fail "the installed example config does not pass --check-config"

# The unit as systemd finds it by name in its search path, with the installed binaries.
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify failoverd@web.service 2>&1) ||
    fail "systemd-analyze verify failoverd@web.service: $out"
  [[ -z $out ]] || fail "systemd-analyze verify has remarks: $out"
else
  echo "(no systemd-analyze: unit not verified)"
fi

step "run the postinst again: nothing changes"
snapshot() { getent passwd "$pkg"; getent group "$pkg"; stat -c '%n %a %U:%G' /etc/failoverd /run/failoverd; }
snapshot >"$tmp/state1"
/var/lib/dpkg/info/$pkg.postinst configure "$version" || fail "postinst configure again failed"
snapshot >"$tmp/state2"
diff "$tmp/state1" "$tmp/state2" || fail "a second postinst run changed the state above"

# ---------------------------------------------------------------------------------------------
step "upgrade to a re-packed higher version; an admin's web.conf survives"
cat >/etc/failoverd/web.conf <<'CONF'
# written by the admin (deb_lifecycle_test)
[instance]
name = web
interface = lo

[vrrp]
virtual_router_id = 51
priority = 150
CONF
chmod 0640 /etc/failoverd/web.conf
cp -p /etc/failoverd/web.conf "$tmp/web.conf.orig"
new_version=$version+pkgtest1
dpkg --compare-versions "$new_version" gt "$version" || fail "$new_version is not higher"
dpkg-deb -R "$deb" "$tmp/repack"
sed -i "s/^Version: .*/Version: $new_version/" "$tmp/repack/DEBIAN/control"
new_deb=$tmp/${pkg}_${new_version}_${arch}.deb
dpkg-deb --root-owner-group -b "$tmp/repack" "$new_deb" >/dev/null || fail "dpkg-deb -b failed"
run_dpkg -i "$new_deb" || fail "upgrade with dpkg -i $new_deb failed"
[[ $(pkg_status) == installed ]] || fail "dpkg status after upgrade is '$(pkg_status)'"
[[ $(dpkg-query -W -f='${Version}' "$pkg") == "$new_version" ]] || fail "version not upgraded"
cmp "$tmp/web.conf.orig" /etc/failoverd/web.conf || fail "the upgrade changed /etc/failoverd/web.conf"
[[ $(stat -c %a /etc/failoverd/web.conf) == 640 ]] || fail "the upgrade changed web.conf's mode"
expect_stat /etc/failoverd 750 root:failoverd
[[ $(getent passwd "$pkg") == "$passwd_entry" ]] || fail "the upgrade changed the $pkg user"
/usr/sbin/failoverd --check-config /etc/failoverd/web.conf || fail "web.conf does not check"

# ---------------------------------------------------------------------------------------------
step "remove: programs gone, configuration kept"
# An instance enabled as `systemctl enable failoverd@web` would (no systemd runs here): the link
# must not outlive a purge, or a later install comes back enabled.
wants=/etc/systemd/system/multi-user.target.wants
mkdir -p "$wants"
ln -sf /lib/systemd/system/failoverd@.service "$wants/failoverd@web.service"
# Someone else's link with a similar name is not ours to remove.
ln -sf /etc/systemd/system/mine.service "$wants/failoverd@mine.service"
run_dpkg -r "$pkg" || fail "dpkg -r failed"
[[ $(pkg_status) == config-files ]] || fail "dpkg status after remove is '$(pkg_status)'"
for f in "${installed_files[@]}"; do
  [[ ! -e $f ]] || fail "still there after dpkg -r: $f"
done
cmp "$tmp/web.conf.orig" /etc/failoverd/web.conf || fail "dpkg -r changed or removed web.conf"
getent passwd "$pkg" >/dev/null || fail "dpkg -r removed the $pkg user"

# ---------------------------------------------------------------------------------------------
step "purge: configuration gone, user kept"
# The postrm's purge leaves a directory with the admin's files in it...
/var/lib/dpkg/info/$pkg.postrm purge 2>"$tmp/postrm.log" || fail "postrm purge failed"
cmp "$tmp/web.conf.orig" /etc/failoverd/web.conf || fail "purge deleted the admin's web.conf"
grep -q "not empty" "$tmp/postrm.log" || fail "postrm purge did not say why it kept /etc/failoverd"
# ...which are the admin's to delete; then the purge removes the empty directory.
rm /etc/failoverd/web.conf
run_dpkg -P "$pkg" || fail "dpkg -P failed"
[[ $(pkg_status) == not-installed || -z $(pkg_status) ]] ||
  fail "dpkg status after purge is '$(pkg_status)'"
[[ ! -e /etc/failoverd ]] || fail "/etc/failoverd is still there after purge"
[[ ! -e /run/failoverd ]] || fail "/run/failoverd is still there after purge"
getent passwd "$pkg" >/dev/null || fail "purge removed the $pkg user (it must stay)"
[[ ! -L $wants/failoverd@web.service ]] || fail "purge left $wants/failoverd@web.service"
[[ -L $wants/failoverd@mine.service ]] || fail "purge removed a link that is not ours"
rm -f "$wants/failoverd@mine.service"
