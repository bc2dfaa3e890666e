#!/usr/bin/env bash
# Configures failoverd on a DigitalOcean droplet of the pair and starts failoverd@INSTANCE.
#
# Nothing about the network is written into the Vagrantfile: this droplet's VPC address comes
# from the metadata service, the peer is the one other droplet carrying FAILOVERD_DO_TAG (found
# through the API, waiting for it while both are created in parallel), and the interface is the
# one holding the VPC address. Both must be in the same VPC and region as the reserved IP.
#
# Environment (set by vagrant/Vagrantfile):
#   FAILOVERD_DO_TOKEN     API token stored on the droplet for failoverd (required, secret)
#   FAILOVERD_RESERVED_IP  an existing reserved IP in this droplet's region (required)
#   FAILOVERD_DO_TAG       the tag both droplets carry (required)
#   FAILOVERD_PRIORITY     this node's priority (required)
#   FAILOVERD_AUTH_KEY     shared key of the udp transport (required with transport udp, secret)
#   FAILOVERD_INSTANCE (web), FAILOVERD_VRID (51), FAILOVERD_ADVERT_INTERVAL (1s),
#   FAILOVERD_TRANSPORT (udp | vrrp), FAILOVERD_MIN_RUNNING (10; 0: no docker check),
#   FAILOVERD_CHECK_LABEL, FAILOVERD_CHECK_WEIGHT (0), FAILOVERD_PEER_TIMEOUT (600 seconds),
#   FAILOVERD_DO_API_URL (https://api.digitalocean.com)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

[[ $(id -u) == 0 ]] || die "run as root"
: "${FAILOVERD_DO_TOKEN:?}" "${FAILOVERD_RESERVED_IP:?}" "${FAILOVERD_DO_TAG:?}"
metadata=http://169.254.169.254/metadata/v1
api=${FAILOVERD_DO_API_URL:-https://api.digitalocean.com}
peer_timeout=${FAILOVERD_PEER_TIMEOUT:-600}

FOD_INSTANCE=${FAILOVERD_INSTANCE:-web}
FOD_VRID=${FAILOVERD_VRID:-51}
FOD_PRIORITY=${FAILOVERD_PRIORITY:?}
FOD_ADVERT_INTERVAL=${FAILOVERD_ADVERT_INTERVAL:-1s}
FOD_TRANSPORT=${FAILOVERD_TRANSPORT:-udp}
FOD_MIN_RUNNING=${FAILOVERD_MIN_RUNNING:-10}
FOD_CHECK_LABEL=${FAILOVERD_CHECK_LABEL-failoverd.demo=web}
FOD_CHECK_WEIGHT=${FAILOVERD_CHECK_WEIGHT:-0}
FOD_RESERVED_IP=$FAILOVERD_RESERVED_IP
FOD_TOKEN_FILE=/etc/failoverd/do.token
FOD_AUTH_KEY_FILE=/etc/failoverd/$FOD_INSTANCE.key
FOD_VIRTUAL_IP=""

# The token goes to curl in a header file, never on a command line (other users see those).
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
(umask 077 && printf 'Authorization: Bearer %s\n' "$FAILOVERD_DO_TOKEN" >"$workdir/auth")

meta() { curl -fsS --max-time 5 --retry 3 "$metadata/$1"; }
api_get() { curl -fsS --max-time 20 --retry 5 --retry-delay 2 -H "@$workdir/auth" "$api$1"; }

my_id=$(meta id)
my_region=$(meta region)
my_address=$(meta interfaces/private/0/ipv4/address) ||
  die "no VPC address in the metadata (is private networking on?)"
FOD_INTERFACE=$(ip -o -4 addr show | awk -v a="$my_address" 'split($4, p, "/") && p[1] == a { print $2; exit }')
[[ -n $FOD_INTERFACE ]] || die "no interface holds the VPC address $my_address"
log "this droplet: id $my_id, region $my_region, $my_address on $FOD_INTERFACE"

# Both droplets of the pair carry the tag. The peer may still be booting (vagrant up creates
# them in parallel): wait until it exists and has its VPC address.
list_pair() {
  api_get "/v2/droplets?tag_name=$FAILOVERD_DO_TAG&per_page=200" | jq -c '[.droplets[] | {
    id: (.id | tostring), name, vpc: .vpc_uuid, region: .region.slug,
    address: ([.networks.v4[] | select(.type == "private") | .ip_address][0])}]'
}
deadline=$((SECONDS + peer_timeout))
while :; do
  pair=$(list_pair) || die "listing the droplets tagged $FAILOVERD_DO_TAG failed (token?)"
  others=$(jq -c --arg me "$my_id" '[.[] | select(.id != $me)]' <<<"$pair")
  count=$(jq length <<<"$others")
  ((count <= 1)) ||
    die "$count other droplets carry the tag $FAILOVERD_DO_TAG; a pair needs exactly one: $others"
  if ((count == 1)) && [[ $(jq -r '.[0].address // ""' <<<"$others") != "" ]]; then
    break
  fi
  ((SECONDS < deadline)) || die "no peer tagged $FAILOVERD_DO_TAG after ${peer_timeout}s;" \
    "bring both up (vagrant up), then run: vagrant provision"
  log "waiting for the peer droplet tagged $FAILOVERD_DO_TAG"
  sleep 10
done
FOD_PEER=$(jq -r '.[0].address' <<<"$others")
peer_name=$(jq -r '.[0].name' <<<"$others")
my_vpc=$(jq -r --arg me "$my_id" '.[] | select(.id == $me) | .vpc' <<<"$pair")
peer_vpc=$(jq -r '.[0].vpc' <<<"$others")
[[ -n $my_vpc && $my_vpc == "$peer_vpc" ]] ||
  die "this droplet (VPC $my_vpc) and $peer_name (VPC $peer_vpc) are not in one VPC"
log "peer: $peer_name at $FOD_PEER, VPC $my_vpc"

# The reserved IP must exist in this account and region; it is never created or released here.
ip_region=$(api_get "/v2/reserved_ips/$FOD_RESERVED_IP" | jq -r '.reserved_ip.region.slug') ||
  die "reserved IP $FOD_RESERVED_IP not found in this account (create it: see vagrant/README.md)"
[[ $ip_region == "$my_region" ]] ||
  die "reserved IP $FOD_RESERVED_IP is in $ip_region, the droplets in $my_region"

changed=$(printf '%s\n' "$FAILOVERD_DO_TOKEN" | fod_install_secret "$FOD_TOKEN_FILE")
if [[ $FOD_TRANSPORT == udp ]]; then
  [[ ${#FAILOVERD_AUTH_KEY} -ge 16 ]] || die "FAILOVERD_AUTH_KEY must be at least 16 bytes"
  changed+=$(printf '%s\n' "$FAILOVERD_AUTH_KEY" | fod_install_secret "$FOD_AUTH_KEY_FILE")
else
  rm -f "$FOD_AUTH_KEY_FILE"
fi
fod_apply_config "$changed"
fod_report
