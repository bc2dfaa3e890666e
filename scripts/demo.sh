#!/usr/bin/env bash
# failoverd in about 20 seconds: two nodes in two network namespaces joined by a veth, unicast
# VRRPv3 every 200 ms, and a reserved IP held at a local fake of the DigitalOcean API (the same
# paths, JSON and 50 ms answers): the fake's record of which droplet holds the IP is the proof
# that the address moved. A virtual IP on the veth follows the master too.
#
#   1. election        node-a (priority 150) becomes MASTER and claims the IP for droplet 1
#   2. crash           kill -9 node-a: node-b takes over after Master_Down_Interval, droplet 2
#   3. restart         node-a comes back, preempts and claims the IP back
#   4. test failover   `failoverctl failover` on node-a: node-b, its one peer, takes over at once
#   5. planned stop    SIGTERM node-b: it sends priority 0, node-a takes over
#
# Prints a timeline (state changes and the API's assignments) and a summary. Needs root;
# everything it creates (namespaces, processes, /tmp files) is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

if ((EUID != 0)); then
  echo "demo: run as root (it creates network namespaces)" >&2
  exit 1
fi

build=${BUILD_DIR:-build}
advert=200ms
vip=10.99.0.100
rip=203.0.113.10       # the reserved IP (a documentation address: it never leaves the fake)
api=10.99.0.1:8099     # the fake API, in node-a's namespace, reachable from both

if [[ -t 1 ]]; then
  say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
else
  say() { printf '==> %s\n' "$*"; }
fi

say "installing dependencies and building (${build})"
bash scripts/install-deps.sh
if ! out=$(cmake -S . -B "$build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo 2>&1 &&
  cmake --build "$build" -j2 --target failoverd failoverctl fake_do_api 2>&1); then
  echo "$out" | tail -n 40 >&2
  echo "demo: build failed" >&2
  exit 1
fi
fod=$(realpath "$build/failoverd")
ctl=$(realpath "$build/failoverctl")
fake_api=$(realpath "$build/tests/fake_do_api")

work=$(mktemp -d /tmp/fodemo.XXXXXX)
ns_a=fodemo-$$-a
ns_b=fodemo-$$-b
declare -A pid=()
declare -A ns=([node-a]=$ns_a [node-b]=$ns_b)
declare -A addr=([node-a]=10.99.0.1 [node-b]=10.99.0.2)
declare -A prio=([node-a]=150 [node-b]=100)
declare -A droplet=([node-a]=1 [node-b]=2)
events=$work/events

cleanup() {
  local p
  # The group's redirection also silences bash's "Killed" notice for each job.
  for p in "${pid[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null || true; done
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  if [[ ${KEEP:-0} == 1 ]]; then
    rm -rf "$work.kept" && cp -r "$work" "$work.kept" && echo "  kept the logs in $work.kept"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$EPOCHREALTIME

# event WHO TEXT: one timeline entry, stamped now.
event() { printf '%s %s %s\n' "$EPOCHREALTIME" "$1" "$2" >>"$events"; }

# Reads a node's log from stdin: keeps all of it (stamped) and records every state transition
# ("BACKUP -> MASTER ..." with the reason the daemon logged) as a timeline entry.
stamp() {
  local name=$1 line re='(INIT|BACKUP|MASTER|FAULT) -> (INIT|BACKUP|MASTER|FAULT)'
  while IFS= read -r line; do
    printf '%s %s\n' "$EPOCHREALTIME" "$line" >>"$work/$name.log"
    if [[ $line =~ $re ]]; then
      event "$name" "${BASH_REMATCH[0]}${line#*"${BASH_REMATCH[0]}"}"
    fi
  done
}

state_of() {
  "$ctl" --socket "$work/$1.sock" status --json 2>/dev/null |
    grep -o '"state": *"[A-Z]*"' | grep -o '[A-Z]*"$' | tr -d '"' || true
}

wait_state() {  # NAME STATE [TIMEOUT_S]
  local deadline=$((SECONDS + ${3:-10}))
  while ((SECONDS < deadline)); do
    [[ $(state_of "$1") == "$2" ]] && return 0
    sleep 0.05
  done
  echo "demo: $1 did not become $2 within ${3:-10}s; its log:" >&2
  tail -n 30 "$work/$1.log" >&2
  exit 1
}

holder_droplet() {  # from the "reserved_ips" part of the state; "assignments" is the history
  api_state | sed 's/.*"reserved_ips"//' | grep -o '"droplet":[0-9]*,"ip":"'"$rip"'"' |
    grep -o '[0-9]*' | head -n1 || true
}

wait_holder() {  # DROPLET [TIMEOUT_S]: until the API says DROPLET holds the reserved IP
  local deadline=$((SECONDS + ${2:-10}))
  while ((SECONDS < deadline)); do
    [[ $(holder_droplet) == "$1" ]] && return 0
    sleep 0.05
  done
  echo "demo: the API did not record $rip on droplet $1 within ${2:-10}s" >&2
  tail -n 30 "$work/fake_api.log" >&2
  exit 1
}

start_node() {
  local name=$1
  ip netns exec "${ns[$name]}" "$fod" --config "$work/$name.conf" --log-level info \
    > /dev/null 2> >(stamp "$name") &
  pid[$name]=$!
  event demo "start $name (priority ${prio[$name]}, pid ${pid[$name]})"
}

say "creating namespaces $ns_a and $ns_b (veth, 10.99.0.0/24)"
ip netns add "$ns_a"
ip netns add "$ns_b"
ip -n "$ns_a" link add veth0 type veth peer name veth0 netns "$ns_b"
for name in node-a node-b; do
  ip -n "${ns[$name]}" link set lo up
  ip -n "${ns[$name]}" addr add "${addr[$name]}/24" dev veth0
  ip -n "${ns[$name]}" link set veth0 up
done
for _ in $(seq 100); do
  ip netns exec "$ns_a" ping -c1 -W1 10.99.0.2 >/dev/null 2>&1 && break
  sleep 0.05
done
# Ping works before a netlink dump says the far end is running; a node started then would
# begin in FAULT ("veth0 is down"). Wait for operstate UP on both ends.
for _ in $(seq 200); do
  ip -n "$ns_a" -o link show dev veth0 | grep -q ' state UP ' &&
    ip -n "$ns_b" -o link show dev veth0 | grep -q ' state UP ' && break
  sleep 0.05
done

say "starting the fake DigitalOcean API on $api (answers after 50 ms, droplets 1 and 2)"
umask 077
echo "dop_v1_demo_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" >"$work/do.token"
ip netns exec "$ns_a" "$fake_api" --listen "${api%:*}" --port "${api#*:}" \
  --token-file "$work/do.token" --reserved-ip "$rip" --droplet 1 --droplet 2 --delay-ms 50 \
  >"$work/fake_api.log" 2>&1 &
pid[fake_api]=$!
api_state() { ip netns exec "$ns_a" curl -s -m 2 "http://$api/_fake/state" || true; }
for _ in $(seq 100); do
  [[ -n $(api_state) ]] && break
  sleep 0.05
done
[[ -n $(api_state) ]] || { echo "demo: the fake API did not start:" >&2; cat "$work/fake_api.log" >&2; exit 1; }

for name in node-a node-b; do
  other=node-b
  [[ $name == node-b ]] && other=node-a
  cat >"$work/$name.conf" <<EOF
[instance]
name = $name
interface = veth0

[vrrp]
virtual_router_id = 51
priority = ${prio[$name]}
advert_interval = $advert
preempt = true
transport = vrrp
peer = ${addr[$other]}
source = ${addr[$name]}

[virtual_ip]
address = $vip/24

[reserved_ip]
provider = digitalocean
address = $rip
token_file = $work/do.token
droplet_id = ${droplet[$name]}
api_url = http://$api
reconcile_interval = 5s

[control]
socket = $work/$name.sock
EOF
done

say "1. election: node-a (150) starts first, then node-b (100); adverts every $advert"
start_node node-a
wait_state node-a MASTER
start_node node-b
wait_state node-b BACKUP
wait_holder 1
sleep 1

say "2. crash: kill -9 node-a"
event demo "kill -9 node-a"
kill -9 "${pid[node-a]}"
wait "${pid[node-a]}" 2>/dev/null || true
wait_state node-b MASTER
wait_holder 2
sleep 1

say "3. restart node-a: it has the higher priority and preempts"
start_node node-a
wait_state node-a MASTER
wait_state node-b BACKUP
wait_holder 1
sleep 1

say "4. test failover: failoverctl failover on node-a"
event demo "failoverctl failover on node-a"
"$ctl" --socket "$work/node-a.sock" failover | sed 's/^/    /'
wait_state node-b MASTER
wait_holder 2
sleep 1

say "5. planned stop: SIGTERM node-b"
event demo "SIGTERM node-b"
kill -TERM "${pid[node-b]}"
wait_state node-a MASTER
rc=0
wait "${pid[node-b]}" || rc=$?
event demo "node-b exited with status $rc"
unset 'pid[node-b]'
wait_holder 1
holder=none
for name in node-a node-b; do
  if ip -n "${ns[$name]}" -4 -o addr show dev veth0 | grep -q " $vip/"; then holder=$name; fi
done
final_droplet=$(holder_droplet)

# The API's assignments, with the time it recorded each, join the timeline.
api_state | grep -o '"at_unix_ms":[0-9]*,"droplet":[0-9]*' |
  sed 's/"at_unix_ms":\([0-9]*\),"droplet":\([0-9]*\)/\1 \2/' |
  while read -r ms d; do
    who=node-a
    [[ $d == 2 ]] && who=node-b
    printf '%d.%03d api     %s assigned to droplet %s (%s)\n' $((ms / 1000)) $((ms % 1000)) "$rip" "$d" "$who" >>"$events"
  done

echo
say "timeline"
sort -n "$events" | awk -v t0="$t0" '{
  t = $1 - t0; who = $2; $1 = ""; $2 = ""; sub(/^  /, "");
  printf "t=+%.3fs  %-7s %s\n", t, who, $0 }'

echo
say "summary"
# Time from each demo action to the first transition and the first API assignment answering it.
sort -n "$events" | awk -v vip="$vip" -v rip="$rip" -v holder="$holder" -v rc="$rc" \
  -v droplet="$final_droplet" '
  function ms(t) { return (t - at) * 1000 }
  $2 == "demo" && /kill -9 node-a/              { step = "crash"; at = $1 }
  $2 == "demo" && /start node-a/ && step        { step = "preempt"; at = $1 }
  $2 == "demo" && /failoverctl failover/        { step = "failover"; at = $1 }
  $2 == "demo" && /SIGTERM node-b/              { step = "stop"; at = $1 }
  step && /-> MASTER/ && !(step in master)      { master[step] = ms($1) }
  step && $2 == "api" && !(step in api)         { api[step] = ms($1) }
  END {
    printf "  %-44s %10s %14s\n", "", "new MASTER", "IP reassigned"
    printf "  %-44s %7.0f ms %11.0f ms\n", "crash (kill -9 node-a -> node-b)", master["crash"], api["crash"]
    printf "  %-44s %7.0f ms %11.0f ms\n", "preempt (restart node-a -> node-a)", master["preempt"], api["preempt"]
    printf "  %-44s %7.0f ms %11.0f ms\n", "test failover (failoverctl -> node-b)", master["failover"], api["failover"]
    printf "  %-44s %7.0f ms %11.0f ms\n", "planned stop (SIGTERM node-b -> node-a)", master["stop"], api["stop"]
    print  "  (Master_Down_Interval of node-b: 722 ms after the last advert; a priority-0 advert"
    print  "   from its one peer: at once, not after Skew_Time (122 ms; instant_handover);"
    print  "   each claim is one or two API round trips of 50 ms each)"
    printf "  node-b exit status after SIGTERM: %d\n", rc
    printf "  %s (reserved IP) is assigned to droplet %s (node-a); %s (virtual IP) is on %s\n", rip, droplet, vip, holder
  }'
[[ ${KEEP:-0} == 1 ]] || echo "  logs were in $work (removed on exit; rerun with KEEP=1 to keep them)"
