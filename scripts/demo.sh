#!/usr/bin/env bash
# failoverd in two minutes (well, about 15 seconds): two nodes in two network namespaces
# joined by a veth, unicast VRRPv3 every 200 ms, a virtual IP that follows the master.
#
#   1. election        node-a (priority 150) becomes MASTER, node-b (100) BACKUP
#   2. crash           kill -9 node-a: node-b takes over after Master_Down_Interval
#   3. restart         node-a comes back and preempts
#   4. planned stop    SIGTERM node-a: it sends priority 0, node-b takes over after Skew_Time
#
# Prints a timeline from the nodes' logs and a summary. Needs root; everything it creates
# (namespaces, processes, /tmp files) is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

if ((EUID != 0)); then
  echo "demo: run as root (it creates network namespaces)" >&2
  exit 1
fi

build=${BUILD_DIR:-build}
advert=200ms
vip=10.99.0.100

if [[ -t 1 ]]; then
  say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
else
  say() { printf '==> %s\n' "$*"; }
fi

say "installing dependencies and building (${build})"
bash scripts/install-deps.sh
if ! out=$(cmake -S . -B "$build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo 2>&1 &&
  cmake --build "$build" -j2 --target failoverd failoverctl 2>&1); then
  echo "$out" | tail -n 40 >&2
  echo "demo: build failed" >&2
  exit 1
fi
fod=$(realpath "$build/failoverd")
ctl=$(realpath "$build/failoverctl")

work=$(mktemp -d /tmp/fodemo.XXXXXX)
ns_a=fodemo-$$-a
ns_b=fodemo-$$-b
declare -A pid=()
declare -A ns=([node-a]=$ns_a [node-b]=$ns_b)
declare -A addr=([node-a]=10.99.0.1 [node-b]=10.99.0.2)
declare -A prio=([node-a]=150 [node-b]=100)
events=$work/events

cleanup() {
  local p
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
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

[control]
socket = $work/$name.sock
EOF
done

say "1. election: starting node-a (150) and node-b (100), adverts every $advert"
start_node node-a
start_node node-b
wait_state node-a MASTER
wait_state node-b BACKUP
sleep 1

say "2. crash: kill -9 node-a"
event demo "kill -9 node-a"
kill -9 "${pid[node-a]}"
wait "${pid[node-a]}" 2>/dev/null || true
wait_state node-b MASTER
sleep 1

say "3. restart node-a: it has the higher priority and preempts"
start_node node-a
wait_state node-a MASTER
wait_state node-b BACKUP
sleep 1

say "4. planned switchover: SIGTERM node-a"
event demo "SIGTERM node-a"
kill -TERM "${pid[node-a]}"
wait_state node-b MASTER
rc=0
wait "${pid[node-a]}" || rc=$?
event demo "node-a exited with status $rc"
unset 'pid[node-a]'
sleep 0.5
holder=none
for name in node-a node-b; do
  if ip -n "${ns[$name]}" -4 -o addr show dev veth0 | grep -q " $vip/"; then holder=$name; fi
done

echo
say "timeline"
sort -n "$events" | awk -v t0="$t0" '{
  t = $1 - t0; who = $2; $1 = ""; $2 = ""; sub(/^  /, "");
  printf "t=+%.3fs  %-7s %s\n", t, who, $0 }'

echo
say "summary"
# Time from each demo action to the first transition that answers it.
sort -n "$events" | awk -v vip="$vip" -v holder="$holder" -v rc="$rc" '
  $2 == "demo" && /kill -9 node-a/ { crash = $1 }
  $2 == "demo" && /SIGTERM node-a/ { term = $1 }
  $2 == "demo" && /start node-a/ { start = $1 }
  $2 == "node-b" && /-> MASTER/ && crash && !crash_done { crash_ms = ($1 - crash) * 1000; crash_done = 1 }
  $2 == "node-b" && /-> MASTER/ && term && !term_done { term_ms = ($1 - term) * 1000; term_done = 1 }
  $2 == "node-a" && /-> MASTER/ && crash_done && !term { preempt_ms = ($1 - start) * 1000 }
  END {
    printf "  crash failover (kill -9 -> node-b MASTER):  %6.0f ms  (Master_Down_Interval 722 ms after the last advert heard)\n", crash_ms
    printf "  preempt after restart (start -> MASTER):    %6.0f ms\n", preempt_ms
    printf "  planned switchover (SIGTERM -> node-b):     %6.0f ms  (Skew_Time 122 ms after priority 0)\n", term_ms
    printf "  node-a exit status after SIGTERM:           %6d\n", rc
    printf "  %s is now on: %s\n", vip, holder
  }'
echo "  logs were in $work (removed on exit; rerun with KEEP=1 to keep them)"
if [[ ${KEEP:-0} == 1 ]]; then
  cp -r "$work" "$work.kept"
  echo "  kept a copy in $work.kept"
fi
