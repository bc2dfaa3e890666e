#!/usr/bin/env bash
# The Vagrant config template stays valid: renders it through vagrant/provision/common.sh (the
# same function the provisioning scripts call) for both DigitalOcean nodes, for the local pair
# and without the docker check, and runs `failoverd --check-config` on every result. Also checks
# that the renderer refuses broken templates and values, and that --check-config is really
# consulted (a render with a bad priority must be refused).
# Usage: render_template_test.sh SOURCE_DIR BINARY_DIR
set -euo pipefail

src=${1:?usage: render_template_test.sh SOURCE_DIR BINARY_DIR}
bin=${2:?usage: render_template_test.sh SOURCE_DIR BINARY_DIR}/failoverd
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }

# shellcheck source-path=SCRIPTDIR source=../../vagrant/provision/common.sh
source "$src/vagrant/provision/common.sh"
renderer=$src/vagrant/provision/render-config.sh

# Secrets the config names, as the provisioning writes them: mode 0600.
(umask 077 && echo "dop_v1_$(printf 'x%.0s' {1..40})" >"$tmp/do.token" &&
  head -c 32 /dev/urandom | base64 >"$tmp/web.key")

valid() {  # valid NAME FILE: --check-config accepts FILE
  local out
  if out=$("$bin" --check-config "$2" 2>&1); then ok "$1: --check-config accepts it"; else fail "$1: $out"; fi
  if grep -q '@' "$2"; then fail "$1: a placeholder or directive is left: $(grep -n '@' "$2")"; fi
}
has() {  # has NAME FILE LINE: FILE has exactly this line
  if grep -qxF -- "$3" "$2"; then ok "$1: has '$3'"; else fail "$1: no line '$3'"; fi
}
lacks() {  # lacks NAME FILE PATTERN
  if grep -qE -- "$3" "$2"; then fail "$1: unexpected /$3/"; else ok "$1: no /$3/"; fi
}

# The DigitalOcean pair, as provision/configure-do.sh sets it up (sample addresses).
do_node() {  # do_node PRIORITY PEER
  FOD_INSTANCE=web FOD_INTERFACE=eth1 FOD_VRID=51 FOD_PRIORITY=$1 FOD_ADVERT_INTERVAL=1s
  FOD_TRANSPORT=udp FOD_PEER=$2 FOD_AUTH_KEY_FILE=$tmp/web.key FOD_MIN_RUNNING=10
  FOD_CHECK_LABEL=failoverd.demo=web FOD_CHECK_WEIGHT=0 FOD_RESERVED_IP=203.0.113.10
  FOD_TOKEN_FILE=$tmp/do.token FOD_VIRTUAL_IP=""
  fod_render_config
}
do_node 150 10.114.0.5 >"$tmp/web1.conf"
do_node 100 10.114.0.4 >"$tmp/web2.conf"
for n in web1 web2; do
  valid "do $n" "$tmp/$n.conf"
  has "do $n" "$tmp/$n.conf" "transport = udp"
  has "do $n" "$tmp/$n.conf" "[reserved_ip]"
  has "do $n" "$tmp/$n.conf" "address = 203.0.113.10"
  has "do $n" "$tmp/$n.conf" "token_file = $tmp/do.token"
  has "do $n" "$tmp/$n.conf" "min_running = 10"
  has "do $n" "$tmp/$n.conf" "label = failoverd.demo=web"
  lacks "do $n" "$tmp/$n.conf" '^\[virtual_ip\]'
done
has "do web1" "$tmp/web1.conf" "priority = 150"
has "do web1" "$tmp/web1.conf" "peer = 10.114.0.5"
has "do web2" "$tmp/web2.conf" "priority = 100"
has "do web2" "$tmp/web2.conf" "peer = 10.114.0.4"
# One template: the two nodes differ in their priority and their peer, nothing else.
differ=$({ diff "$tmp/web1.conf" "$tmp/web2.conf" || true; } | grep -E '^[<>]' | sed -E 's/^[<>] //; s/ = .*//' | sort -u | tr '\n' ' ')
if [[ $differ == "peer priority " ]]; then ok "do: nodes differ only in peer and priority"; else
  fail "do: nodes differ in: $differ"; fi

# The local pair, as provision/configure-local.sh sets it up: multicast, a virtual IP.
FOD_TRANSPORT=vrrp FOD_PEER="" FOD_RESERVED_IP="" FOD_TOKEN_FILE="" FOD_PRIORITY=150
FOD_VIRTUAL_IP=192.168.150.250/24
fod_render_config >"$tmp/local.conf"
valid local "$tmp/local.conf"
has local "$tmp/local.conf" "[virtual_ip]"
has local "$tmp/local.conf" "address = 192.168.150.250/24"
has local "$tmp/local.conf" "transport = vrrp"
lacks local "$tmp/local.conf" '^(peer|auth_key_file|token_file) '
lacks local "$tmp/local.conf" '^\[reserved_ip\]'

# FAILOVERD_MIN_RUNNING=0: no docker check; an empty label: count every container.
FOD_MIN_RUNNING=0 fod_render_config >"$tmp/nocheck.conf"
valid "no check" "$tmp/nocheck.conf"
lacks "no check" "$tmp/nocheck.conf" '^\[check\.'
FOD_MIN_RUNNING=3 FOD_CHECK_LABEL="" fod_render_config >"$tmp/nolabel.conf"
valid "no label" "$tmp/nolabel.conf"
has "no label" "$tmp/nolabel.conf" "min_running = 3"
lacks "no label" "$tmp/nolabel.conf" '^label '

# --check-config is really consulted: an out-of-range priority renders but must be refused.
FOD_PRIORITY=300 fod_render_config >"$tmp/bad.conf"
if "$bin" --check-config "$tmp/bad.conf" >/dev/null 2>&1; then fail "priority 300 was accepted"; else
  ok "--check-config refuses priority 300"; fi
# ... and so is the secrets' mode.
chmod 0644 "$tmp/do.token"
if "$bin" --check-config "$tmp/web1.conf" >/dev/null 2>&1; then fail "a 0644 token file was accepted"; else
  ok "--check-config refuses a 0644 token file"; fi
chmod 0600 "$tmp/do.token"

# The renderer refuses what would silently produce a wrong config.
refuses() {  # refuses NAME TEMPLATE_TEXT ARGS...
  local name=$1 text=$2 out
  shift 2
  printf '%s\n' "$text" >"$tmp/t.tmpl"
  if out=$(bash "$renderer" "$tmp/t.tmpl" "$@" 2>&1); then fail "renderer accepted $name: $out"; else
    ok "renderer refuses $name"; fi
}
refuses "a key it was not given" 'a = @A@' B=1
refuses "a key the template never uses" 'a = @A@' A=1 B=2
refuses "an @if on a key not given" $'@if B\nx\n@endif' A=1
refuses "@if without @endif" $'@if A\nx' A=1
refuses "@endif without @if" $'x\n@endif' A=1
refuses "an unknown directive" $'@include A' A=1
refuses "a value with #" 'a = @A@' 'A=1 # 2'
refuses "a key given twice" 'a = @A@' A=1 A=2
printf '%s\n' 'x = @A@' '@if B' 'y = @B@' '@if C' 'z' '@endif' '@endif' 'w = \n' >"$tmp/t.tmpl"
out=$(bash "$renderer" "$tmp/t.tmpl" 'A=a\tb&c' B=1 C=)
if [[ $out == $'x = a\\tb&c\ny = 1\nw = \\n' ]]; then ok "renderer: nesting, values verbatim"; else
  fail "renderer output: $out"; fi

((failures == 0)) || { echo "$failures failure(s)"; exit 1; }
echo PASS
