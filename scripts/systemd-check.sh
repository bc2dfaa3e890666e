#!/usr/bin/env bash
# End-to-end check of the .deb under a real systemd (PID 1): a debootstrap bookworm root with
# the package installed, booted with systemd-nspawn, then tests/systemd/checks.sh run inside
# as an operator would (start, reload, watchdog, handover, hooks, remove and purge). The unit
# tests cannot see any of this: the sandbox, sd_notify, the watchdog and the maintainer
# scripts only act under systemd.
#
#   bash scripts/systemd-check.sh [path/to/failoverd_*.deb]   # as root; about 4 minutes
#
# Without an argument the .deb is built from this checkout in build-systemd/. SYSTEMD_MIRROR
# overrides the Debian mirror (default: the first one in this machine's apt sources). The
# container, every mount and the root are removed on exit, on failure too.
set -euo pipefail
cd "$(dirname "$0")/.."

if ((EUID != 0)); then
  echo "systemd-check: run as root (debootstrap, chroot, mounts, nspawn)" >&2
  exit 1
fi

missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
# The docker check's engine (tests/systemd/engine.sh): podman runs on this host.
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
[[ -x /usr/bin/catatonit || -x /usr/libexec/podman/catatonit ]] || missing+=(catatonit)
[[ -x /bin/busybox ]] || missing+=(busybox-static)
if ((${#missing[@]})); then
  echo "systemd-check: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

stamp() { date -u +%s; }
# shellcheck source-path=SCRIPTDIR source=../tests/systemd/engine.sh
. tests/systemd/engine.sh

deb=${1:-}
if [[ -z $deb ]]; then
  echo "systemd-check: building the .deb in build-systemd/"
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B build-systemd -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBUILD_TESTING=OFF "${launcher[@]}"
  cmake --build build-systemd -j2 --target package
  debs=(build-systemd/failoverd_*.deb)
  deb=${debs[-1]}
fi
if [[ ! -f $deb ]]; then
  echo "systemd-check: no such .deb: $deb" >&2
  exit 1
fi
deb=$(realpath "$deb")
echo "systemd-check: package $deb"

# The Debian (not security) mirror this machine already uses: deb822 sources first, then the
# one-line format.
mirror=${SYSTEMD_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
fi
if [[ -z $mirror ]]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
    /etc/apt/sources.list 2>/dev/null || true)
fi
if [[ -z $mirror ]]; then
  echo "systemd-check: no Debian mirror in the apt sources; set SYSTEMD_MIRROR" >&2
  exit 1
fi

root=$(mktemp -d /var/tmp/failoverd-systemd.XXXXXX)
# mktemp makes it 0700: as the container's /, that would lock every user but root out of it.
chmod 0755 "$root"
machine=failoverd-check-$$
mounted=()
nspawn_pid=
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[i]}" 2>/dev/null || umount -l -R "${mounted[i]}" 2>/dev/null || true
  done
  mounted=()
}
stop_container() {
  [[ -n $nspawn_pid ]] || return 0
  if kill -0 "$nspawn_pid" 2>/dev/null; then
    in_container systemctl poweroff >/dev/null 2>&1 || true
    local i
    for ((i = 0; i < 60; i++)); do
      kill -0 "$nspawn_pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$nspawn_pid" 2>/dev/null; then
      echo "systemd-check: container did not power off in 30 s; killing nspawn $nspawn_pid" >&2
      kill -KILL "$nspawn_pid" 2>/dev/null || true
    fi
  fi
  wait "$nspawn_pid" 2>/dev/null || true
  nspawn_pid=
}
cleanup() {
  local rc=$?
  stop_container
  engine_stop
  unmount_all
  # Only remove the root when nothing is mounted below it any more.
  if ! grep -q " $root" /proc/self/mounts; then
    rm -rf --one-file-system "$root"
  else
    echo "systemd-check: mounts left below $root; not removing it" >&2
  fi
  rm -f "$root.debootstrap.log" "$root.nspawn.log"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(stamp)
echo "systemd-check: debootstrap bookworm from $mirror into $root"
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2 bookworm "$root" \
  "$mirror" >"$root.debootstrap.log" 2>&1 || {
  tail -20 "$root.debootstrap.log" >&2
  exit 1
}
t1=$(stamp)

mnt() { mount "$@"; mounted+=("${@: -1}"); }
# apt's maintainer scripts need /proc, /dev and /sys in the chroot; they go again before the
# boot, as systemd-nspawn sets up its own.
mnt --bind /proc "$root/proc"
mnt --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mnt --bind /dev "$root/dev"
mnt --bind /dev/pts "$root/dev/pts"
in_root() {
  chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
cp "$deb" "$root/root/"
# A docker group before the package, as on a Docker host: the postinst adds failoverd to it.
in_root groupadd --system docker
docker_gid=$(in_root getent group docker | cut -d: -f3)
echo "systemd-check: apt-get install ./$(basename "$deb") (and procps, the checks' tools)"
in_root apt-get install -y -q --no-install-recommends procps "./root/$(basename "$deb")" \
  >"$root.apt.log" 2>&1 || {
  tail -30 "$root.apt.log" >&2
  rm -f "$root.apt.log"
  exit 1
}
rm -f "$root.apt.log"
unmount_all
mkdir -p "$root/root/systemd-check"
cp tests/systemd/checks.sh "$root/root/systemd-check/"
cp systemd/hooks-writable-paths.conf.example "$root/root/systemd-check/"
echo "systemd-check: a podman engine on the host for the docker check (socket group $docker_gid)"
engine_start "$root.engine" "$docker_gid"
t2=$(stamp)

echo "systemd-check: booting $machine"
systemd-nspawn -D "$root" --boot --private-network --register=no --keep-unit -M "$machine" \
  --bind="$root.engine/sock:/run/engine" --console=read-only >"$root.nspawn.log" 2>&1 &
nspawn_pid=$!

leader=
in_container() {
  nsenter -t "$leader" -m -u -i -n -p -C -r -w -- \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 TERM=dumb "$@"
}
boot_failed() {
  echo "systemd-check: $1" >&2
  tail -30 "$root.nspawn.log" >&2
  exit 1
}
# The container's PID 1 is the nspawn process's child once systemd has been exec'd.
for ((i = 0; i < 120; i++)); do
  kill -0 "$nspawn_pid" 2>/dev/null || boot_failed "systemd-nspawn exited"
  read -r -a children < <(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null) || true
  for child in "${children[@]}"; do
    if [[ $(cat /proc/"$child"/comm 2>/dev/null) == systemd ]]; then leader=$child; fi
  done
  [[ -n $leader ]] && break
  sleep 0.25
done
[[ -n $leader ]] || boot_failed "no systemd PID 1 below nspawn $nspawn_pid after 30 s"
state=
for ((i = 0; i < 120; i++)); do
  state=$(in_container systemctl is-system-running 2>/dev/null || true)
  [[ $state == running || $state == degraded ]] && break
  sleep 0.5
done
case $state in
  running) ;;
  degraded)
    echo "systemd-check: the container is degraded; failed units:"
    in_container systemctl --failed --no-pager || true
    ;;
  *) boot_failed "the container did not boot in 60 s (is-system-running: ${state:-nothing})" ;;
esac
t3=$(stamp)
echo "systemd-check: booted in $((t3 - t2)) s ($state)"

rc=0
in_container bash /root/systemd-check/checks.sh || rc=$?
t4=$(stamp)
stop_container
echo "systemd-check: time: root creation $((t1 - t0)) s, package install $((t2 - t1)) s," \
  "boot $((t3 - t2)) s, checks $((t4 - t3)) s"
if ((rc != 0)); then
  echo "systemd-check: FAILED (see the FAIL lines above)"
  exit 1
fi
echo "systemd-check: passed"
