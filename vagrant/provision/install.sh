#!/usr/bin/env bash
# Installs what a failoverd node needs: Docker (the service the health check watches), the
# failoverd .deb uploaded next to this folder, and the demo workload. Safe to run again: each
# step checks first, and the demo containers converge to FAILOVERD_DEMO_CONTAINERS.
#
# Environment (all optional):
#   FAILOVERD_DEB              the .deb to install (default: ../failoverd.deb beside this folder)
#   FAILOVERD_DEMO_CONTAINERS  how many demo containers to run (default 10; 0: none, you bring
#                              your own workload)
#   FAILOVERD_DEMO_IMAGE       their image (default nginx:alpine)
#   FAILOVERD_DEMO_LABEL       their label, key=value (default failoverd.demo=web); the docker
#                              check counts containers with this label
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

[[ $(id -u) == 0 ]] || die "run as root"
deb=${FAILOVERD_DEB:-$FOD_PROVISION_DIR/../failoverd.deb}
demo_count=${FAILOVERD_DEMO_CONTAINERS:-10}
demo_image=${FAILOVERD_DEMO_IMAGE:-nginx:alpine}
demo_label=${FAILOVERD_DEMO_LABEL:-failoverd.demo=web}
[[ $demo_count =~ ^[0-9]+$ ]] || die "FAILOVERD_DEMO_CONTAINERS must be a number"
[[ $demo_label == ?*=?* ]] || die "FAILOVERD_DEMO_LABEL must be key=value"
[[ -f $deb ]] || die "$deb is missing (the Vagrantfile uploads build/failoverd_*_amd64.deb)"

export DEBIAN_FRONTEND=noninteractive

install_packages() {
  # Docker first: the package's postinst adds the failoverd user to an existing docker group.
  local missing=()
  for p in docker.io curl jq ca-certificates sudo; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  systemctl enable --now --quiet docker.service
}

install_failoverd() {
  local want have
  want=$(dpkg-deb -f "$deb" Version)
  have=$(dpkg-query -W -f='${Version}' failoverd 2>/dev/null || true)
  if [[ $have == "$want" ]]; then
    log "failoverd $want is installed already"
  else
    log "installing failoverd $want (was: ${have:-none})"
    # apt (not dpkg -i) so the package's dependencies come along.
    apt-get install -y -qq "$(readlink -f "$deb")" >/dev/null
  fi
  # Docker may have arrived after the package: the check needs the socket's group.
  if ! id -nG failoverd | tr ' ' '\n' | grep -qx docker; then
    usermod -a -G docker failoverd
    log "added failoverd to the docker group"
  fi
}

demo_containers() {
  # N identical web servers; the first also answers on port 80 of the host (and so on the
  # reserved or virtual IP), with a page naming the node.
  local key=${demo_label%%=*} i name want=" "
  install -d -m 0755 /srv/failoverd-demo
  printf '<h1>served by %s</h1>\n' "$(hostname)" >/srv/failoverd-demo/index.html
  for ((i = 1; i <= demo_count; i++)); do
    name=failoverd-demo-$i
    want+="$name "
    if docker container inspect "$name" >/dev/null 2>&1; then
      docker start "$name" >/dev/null
      continue
    fi
    local publish=()
    ((i == 1)) && publish=(--publish 80:80)
    docker run --detach --restart unless-stopped --name "$name" --label "$demo_label" \
      "${publish[@]}" --volume /srv/failoverd-demo:/usr/share/nginx/html:ro "$demo_image" >/dev/null
    log "started $name"
  done
  # Fewer wanted than before: remove the extra demo containers (never anything else).
  while read -r name; do
    [[ -z $name || $want == *" $name "* ]] && continue
    docker rm --force "$name" >/dev/null
    log "removed $name"
  done < <(docker ps --all --filter "label=$key" --format '{{.Names}}')
}

install_packages
install_failoverd
demo_containers
log "installed: $(failoverd --version 2>&1 | head -1); demo containers: $demo_count"
