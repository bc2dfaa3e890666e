#!/usr/bin/env bash
# Shared by the provisioning scripts (sourced, not run) and by tests/lint: logging, the one
# function that turns FOD_* settings into an instance config, and installing it.
# shellcheck shell=bash

FOD_PROVISION_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FOD_TEMPLATE=${FOD_TEMPLATE:-$FOD_PROVISION_DIR/../templates/failoverd.conf.tmpl}

log() { printf 'failoverd-provision: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# fod_render_config: prints this node's config from the template. Reads FOD_INSTANCE,
# FOD_INTERFACE, FOD_VRID, FOD_PRIORITY, FOD_ADVERT_INTERVAL, FOD_TRANSPORT (vrrp | udp) and
# the optional FOD_PEER (empty: multicast), FOD_AUTH_KEY_FILE (udp), FOD_MIN_RUNNING (0: no
# docker check), FOD_CHECK_LABEL, FOD_CHECK_WEIGHT, FOD_RESERVED_IP + FOD_TOKEN_FILE
# (DigitalOcean), FOD_VIRTUAL_IP (a LAN). Both Vagrantfiles and the lint test go through here.
fod_render_config() {
  local min_running=${FOD_MIN_RUNNING:-0} auth_key_file=""
  [[ $min_running =~ ^[0-9]+$ ]] || die "FAILOVERD_MIN_RUNNING must be a number, not '$min_running'"
  [[ $min_running == 0 ]] && min_running=""
  [[ ${FOD_TRANSPORT:?} == udp ]] && auth_key_file=${FOD_AUTH_KEY_FILE:?transport udp needs a key file}
  bash "$FOD_PROVISION_DIR/render-config.sh" "$FOD_TEMPLATE" \
    NAME="${FOD_INSTANCE:?}" \
    INTERFACE="${FOD_INTERFACE:?}" \
    VRID="${FOD_VRID:?}" \
    PRIORITY="${FOD_PRIORITY:?}" \
    ADVERT_INTERVAL="${FOD_ADVERT_INTERVAL:-1s}" \
    TRANSPORT="$FOD_TRANSPORT" \
    PEER="${FOD_PEER:-}" \
    AUTH_KEY_FILE="$auth_key_file" \
    CHECK_MIN_RUNNING="$min_running" \
    CHECK_LABEL="${FOD_CHECK_LABEL:-}" \
    CHECK_WEIGHT="${FOD_CHECK_WEIGHT:-0}" \
    RESERVED_IP="${FOD_RESERVED_IP:-}" \
    TOKEN_FILE="${FOD_TOKEN_FILE:-}" \
    VIRTUAL_IP="${FOD_VIRTUAL_IP:-}"
}

# fod_install_secret PATH: stores stdin as a secret failoverd reads (0600, owner failoverd),
# replacing the file atomically and only when the content changed. Prints "changed" if it did.
fod_install_secret() {
  local path=$1 tmp
  tmp=$(mktemp "$path.XXXXXX")
  cat >"$tmp"
  chmod 0600 "$tmp"
  chown failoverd:failoverd "$tmp"
  if [[ -f $path ]] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$path"
    echo changed
  fi
}

# fod_apply_config: renders /etc/failoverd/$FOD_INSTANCE.conf, validates it as the daemon's
# user (so a secret it cannot read fails here, not at start), installs it if it changed, and
# starts or reloads failoverd@$FOD_INSTANCE. $1: "changed" when a secret changed, forcing a
# reload even if the config itself did not.
fod_apply_config() {
  local secrets_changed=${1:-} conf=/etc/failoverd/$FOD_INSTANCE.conf tmp unit
  unit=failoverd@$FOD_INSTANCE.service
  tmp=$(mktemp "$conf.XXXXXX")
  fod_render_config >"$tmp"
  chmod 0640 "$tmp"
  chown root:failoverd "$tmp"
  if ! runuser -u failoverd -- /usr/sbin/failoverd --check-config "$tmp" >&2; then
    rm -f "$tmp"
    die "the rendered config is invalid (see above)"
  fi
  local config_changed=""
  if [[ -f $conf ]] && cmp -s "$tmp" "$conf"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$conf"
    config_changed=yes
    log "wrote $conf"
  fi
  systemctl enable --quiet "$unit"
  if ! systemctl is-active --quiet "$unit"; then
    systemctl start "$unit"
    log "started $unit"
  elif [[ -n $config_changed || -n $secrets_changed ]]; then
    systemctl reload "$unit"
    log "reloaded $unit"
  else
    log "$unit is running with this config already"
  fi
}

# fod_report: waits until every check passes, then shows the status. Fails when the node does
# not become healthy: a node that can never be MASTER is a provisioning failure.
fod_report() {
  local sock=/run/failoverd/$FOD_INSTANCE.sock timeout=${FOD_HEALTHY_TIMEOUT:-180s}
  if ! failoverctl --socket "$sock" wait-healthy --timeout "$timeout"; then
    failoverctl --socket "$sock" status >&2 || true
    die "failoverd@$FOD_INSTANCE is not healthy after $timeout (see the checks above)"
  fi
  failoverctl --socket "$sock" status
}
