#!/usr/bin/env bash
# Installs every package needed to build and test failoverd on Debian 12 (run as root).
# Idempotent and fast on re-runs: when every package is already installed, apt is not touched.
set -euo pipefail

packages=(
  # build
  cmake g++ make pkg-config
  libnl-3-dev libnl-route-3-dev
  libboost-program-options-dev libboost-dev
  libcurl4-openssl-dev libspdlog-dev nlohmann-json3-dev libssl-dev
  # tests
  libgtest-dev libgmock-dev
  # end-to-end, interop and demo: namespaces, a real keepalived peer, ping, ps/kill
  keepalived iproute2 iputils-ping procps curl
  # a split brain in the end-to-end tests: heartbeats dropped both ways
  nftables
  # a real Docker-compatible engine for the docker check tests
  # (--init needs catatonit, which podman only recommends)
  podman runc catatonit busybox-static
  # systemd-analyze, which checks the unit in the suite
  systemd
  # the .deb (cpack, dpkg-shlibdeps), its install/upgrade/remove test and lintian
  dpkg-dev file lintian
  # lint of the Vagrant files and of the shell scripts
  ruby shellcheck
)

# The commands the build, the tests and the demo run, each with the package that brings it.
# A package list that no longer brings one fails here, naming the command, instead of as a
# wall of unrelated test failures.
commands=(
  cmake:cmake g++:g++ make:make pkg-config:pkg-config
  keepalived:keepalived ip:iproute2 ping:iputils-ping ps:procps curl:curl nft:nftables
  podman:podman runc:runc catatonit:catatonit busybox:busybox-static
  systemd-analyze:systemd dpkg-shlibdeps:dpkg-dev file:file lintian:lintian ruby:ruby shellcheck:shellcheck
)
check_commands() {
  local c missing_cmds=()
  for c in "${commands[@]}"; do
    PATH=$PATH:/usr/sbin:/sbin command -v "${c%%:*}" >/dev/null || missing_cmds+=("${c%%:*} (package ${c#*:})")
  done
  if ((${#missing_cmds[@]} > 0)); then
    printf 'install-deps: command not found after installing: %s\n' "${missing_cmds[@]}" >&2
    exit 1
  fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  check_commands
  exit 0
fi

if ((EUID != 0)); then
  echo "install-deps: must run as root to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# A container has no init system: keep keepalived's postinst from trying to start a service.
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
  -o Dpkg::Options::=--force-confold "${missing[@]}"
check_commands
