#!/usr/bin/env bash
# Configures failoverd on a local VM of the pair (vagrant/local) and starts failoverd@INSTANCE.
# No cloud: the MASTER adds FAILOVERD_VIP to its interface on the pair's private network. The
# heartbeats are multicast (VRRP's 224.0.0.18) on that network, so neither node needs its
# peer's address; the interface is the one holding an address in FAILOVERD_LOCAL_NET, which
# DHCP assigned.
#
# Environment (set by vagrant/local/Vagrantfile):
#   FAILOVERD_LOCAL_NET    the pair's /24 network address, e.g. 192.168.150.0 (required)
#   FAILOVERD_VIP          the virtual IP with prefix, in that network, outside its DHCP range
#                          (required)
#   FAILOVERD_PRIORITY     this node's priority (required)
#   FAILOVERD_INSTANCE (web), FAILOVERD_VRID (51), FAILOVERD_ADVERT_INTERVAL (1s),
#   FAILOVERD_MIN_RUNNING (10; 0: no docker check), FAILOVERD_CHECK_LABEL,
#   FAILOVERD_CHECK_WEIGHT (0)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

[[ $(id -u) == 0 ]] || die "run as root"
net=${FAILOVERD_LOCAL_NET:?}
[[ $net =~ ^([0-9]{1,3}\.){3}0$ ]] || die "FAILOVERD_LOCAL_NET must be a /24 network address like 192.168.150.0"

FOD_INSTANCE=${FAILOVERD_INSTANCE:-web}
FOD_VRID=${FAILOVERD_VRID:-51}
FOD_PRIORITY=${FAILOVERD_PRIORITY:?}
FOD_ADVERT_INTERVAL=${FAILOVERD_ADVERT_INTERVAL:-1s}
FOD_TRANSPORT=vrrp
FOD_PEER=""
FOD_MIN_RUNNING=${FAILOVERD_MIN_RUNNING:-10}
FOD_CHECK_LABEL=${FAILOVERD_CHECK_LABEL-failoverd.demo=web}
FOD_CHECK_WEIGHT=${FAILOVERD_CHECK_WEIGHT:-0}
FOD_RESERVED_IP=""
FOD_TOKEN_FILE=""
FOD_VIRTUAL_IP=${FAILOVERD_VIP:?}

# DHCP may still be answering right after boot: give it a little while.
for _ in $(seq 30); do
  FOD_INTERFACE=$(ip -o -4 addr show to "$net/24" | awk '{ print $2; exit }')
  [[ -n $FOD_INTERFACE ]] && break
  sleep 2
done
[[ -n $FOD_INTERFACE ]] || die "no interface has an address in $net/24"
log "heartbeats and $FOD_VIRTUAL_IP on $FOD_INTERFACE"

fod_apply_config ""  # no secrets on a LAN pair
fod_report
