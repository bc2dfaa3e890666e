#!/usr/bin/env bash
# Runs the README's two quick-start commands (the demo, then the test command) on a pristine
# Debian 12 root, as a new user would: a `debootstrap --variant=minbase bookworm` root, the
# checkout's tracked files copied in, and nothing else. It proves that scripts/install-deps.sh
# installs everything they need; this machine's own packages cannot hide a missing one.
#
#   bash scripts/pristine-check.sh            # as root; about 20 minutes on 2 cores
#
# PRISTINE_MIRROR overrides the Debian mirror (default: the first one in this machine's apt
# sources). PRISTINE_DEB_OUT=DIR copies the .deb built in there to DIR. Every mount and the
# root itself are removed on exit, on failure too.
set -euo pipefail
cd "$(dirname "$0")/.."

if ((EUID != 0)); then
  echo "pristine-check: run as root (debootstrap, chroot and mounts)" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null; then
  echo "pristine-check: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

# The Debian (not security) mirror this machine already uses: deb822 sources first, then the
# one-line format.
mirror=${PRISTINE_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
fi
if [[ -z $mirror ]]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
    /etc/apt/sources.list 2>/dev/null || true)
fi
if [[ -z $mirror ]]; then
  echo "pristine-check: no Debian mirror in the apt sources; set PRISTINE_MIRROR" >&2
  exit 1
fi

root=$(mktemp -d /var/tmp/failoverd-pristine.XXXXXX)
# mktemp makes it 0700: as the chroot's /, that would lock every user but root out of it.
chmod 0755 "$root"
mounted=()
cleanup() {
  local rc=$? i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[i]}" 2>/dev/null || umount -l -R "${mounted[i]}" 2>/dev/null || true
  done
  # Only remove the root when nothing is mounted below it any more.
  if ! grep -q " $root" /proc/self/mounts; then
    rm -rf --one-file-system "$root"
  else
    echo "pristine-check: mounts left below $root; not removing it" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stamp() { date -u +%s; }
t0=$(stamp)
echo "pristine-check: debootstrap bookworm from $mirror into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
  tail -20 "$root.debootstrap.log" >&2
  rm -f "$root.debootstrap.log"
  exit 1
}
rm -f "$root.debootstrap.log"
t1=$(stamp)

# The checkout as a clone would have it: tracked files only, no build directory.
mkdir -p "$root/src"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$root/src"

mnt() { mount "$@"; mounted+=("${@: -1}"); }
# `ip netns exec` remounts / as a slave: the chroot's / must be a mount point.
mnt --bind "$root" "$root"
mnt --bind /proc "$root/proc"
mnt --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mnt --bind /dev "$root/dev"
mnt --bind /dev/pts "$root/dev/pts"
mnt --bind /dev/shm "$root/dev/shm"
mnt -t tmpfs -o mode=0755 tmpfs "$root/run"
mkdir -p "$root/run/lock" "$root/run/netns"

in_root() {
  chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 ${CI:+CI=$CI} bash -c "cd /src && $1"
}

echo "pristine-check: bash scripts/demo.sh"
in_root 'bash scripts/demo.sh'
t2=$(stamp)
echo "pristine-check: bash scripts/test.sh"
in_root 'bash scripts/test.sh'
t3=$(stamp)
# The .deb the test command built (the package tests make it), for the systemd suite: one
# build of the package per CI run.
if [[ -n ${PRISTINE_DEB_OUT:-} ]]; then
  in_root 'cd build && cpack -G DEB >/dev/null'
  cp "$root"/src/build/failoverd_*.deb "$PRISTINE_DEB_OUT"/
fi
echo "pristine-check: passed; debootstrap $((t1 - t0)) s, demo (with deps and build) $((t2 - t1)) s, tests $((t3 - t2)) s"
