#!/usr/bin/env bash
# shellcheck disable=SC2317  # predicates are called through poll, which shellcheck cannot follow
# Runs inside the booted container (scripts/systemd-check.sh copies it to
# /root/systemd-check/): the operator's view of failoverd@.service under a real systemd. Each
# check prints `ok - NAME` or `FAIL - NAME: what was seen`; the exit status is the number of
# failed checks (capped at 100). The checks share one container and run in this order because
# later ones build on the state earlier ones leave (a running, b in netns peer, ...).
set -uo pipefail

here=$(dirname "$0")
failed=0
ok() { echo "ok - $1"; }
fail() {
  echo "FAIL - $1: $2"
  failed=$((failed + 1))
}
# The evidence after a failure: the unit's state and its last journal lines.
show_unit() {
  local u
  for u in "$@"; do
    echo "--- systemctl status $u"
    systemctl status --no-pager "$u" 2>&1 | sed 's/^/    /'
    echo "--- journalctl -u $u -n 30"
    journalctl -u "$u" --no-pager -n 30 2>&1 | sed 's/^/    /'
  done
}
# poll SECONDS COMMAND...: until COMMAND succeeds, every 0.1 s.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  while ! "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
prop() { systemctl show -p "$2" --value "$1"; }
json_field() { grep -oE "\"$1\": *(\"[^\"]*\"|[0-9-]+)" | head -1 | sed -E 's/^[^:]*: *"?//; s/"$//'; }
status_of() { failoverctl --socket "/run/failoverd/$1.sock" status --json 2>/dev/null; }
state_of() { status_of "$1" | json_field state; }
is_state() { [[ $(state_of "$1") == "$2" ]]; }
# No pipe into grep -q: under pipefail, ip dying of SIGPIPE after grep found the line would
# read as "not there".
has_vip_here() { [[ $(ip -o addr show dev "$1" 2>/dev/null) == *' 10.0.0.100/'* ]]; }
has_vip_peer() { [[ $(ip -n peer -o addr show dev "$1" 2>/dev/null) == *' 10.0.0.100/'* ]]; }
now_ms() { date +%s%3N; }
priority_is() { [[ $(status_of "$1" | json_field priority) == "$2" ]]; }
indent() { local pad
  pad=$(printf '%*s' "$1" '')
  while IFS= read -r line; do printf '%s%s\n' "$pad" "$line"; done
}

write_conf() { # NAME INTERFACE PRIORITY [EXTRA...]; INTERVAL=... for another advert_interval
  local name=$1 ifname=$2 prio=$3
  shift 3
  {
    printf '[instance]\nname = %s\ninterface = %s\n' "$name" "$ifname"
    printf '[vrrp]\nvirtual_router_id = 51\npriority = %s\nadvert_interval = %s\n' "$prio" "${INTERVAL:-100ms}"
    printf '[virtual_ip]\naddress = 10.0.0.100/24\n'
    local extra
    for extra in "$@"; do printf '%s\n' "$extra"; done
  } >"/etc/failoverd/$name.conf"
  chown root:failoverd "/etc/failoverd/$name.conf"
  chmod 0640 "/etc/failoverd/$name.conf"
}

# --- the network: veth-a here, veth-b in netns peer (the second instance's own stack)
ip netns add peer
ip link add veth-a type veth peer name veth-b
ip link set veth-b netns peer
ip addr add 10.0.0.1/24 dev veth-a
ip -n peer addr add 10.0.0.2/24 dev veth-b
ip link set lo up
ip -n peer link set lo up
ip link set veth-a up
ip -n peer link set veth-b up
link_up() { ip -o link show veth-a | grep -q ' state UP ' && ip -n peer -o link show veth-b | grep -q ' state UP '; }
if ! poll 10 link_up; then
  echo "checks: the veth pair did not come up:"
  ip -o link show veth-a
  ip -n peer -o link show veth-b
  exit 100
fi

# --- 1. install
name=install
if ! out=$(systemctl cat failoverd@a 2>&1); then
  fail $name "systemctl cat failoverd@a: $out"
else
  exposure=$(systemd-analyze security failoverd@a.service 2>&1 | sed -n 's/.*Overall exposure level for failoverd@a.service: *\([0-9.]*\).*/\1/p')
  echo "    systemd-analyze security: exposure ${exposure:-unknown}"
  if [[ -z $exposure ]]; then
    fail $name "no exposure level from systemd-analyze security: $(systemd-analyze security failoverd@a.service 2>&1 | tail -3)"
  elif awk -v e="$exposure" 'BEGIN {exit !(e <= 2.0)}'; then
    ok $name
  else
    fail $name "exposure $exposure > 2.0"
  fi
fi

# --- 2. start returns after READY
name=start
write_conf a veth-a 150
if ! out=$(systemctl start failoverd@a 2>&1); then
  fail $name "systemctl start failoverd@a: $out"
  show_unit failoverd@a
else
  st=$(systemctl show -p ActiveState,SubState,StatusText failoverd@a)
  indent 4 <<<"$st"
  if ! grep -qx 'ActiveState=active' <<<"$st" || ! grep -qx 'SubState=running' <<<"$st" ||
    ! grep -qE '^StatusText=.+' <<<"$st"; then
    fail $name "right after start: $(tr '\n' ' ' <<<"$st")"
  elif ! out=$(failoverctl status 2>&1); then
    fail $name "failoverctl status as root: $out"
  else
    ok $name
  fi
fi

# --- 2b. realtime: the event loop runs SCHED_RR with locked memory where the host lets the
# unit's LimitRTPRIO=/LimitMEMLOCK= take effect; where it does not (a container whose hard
# limits cannot be raised), the start-up line names the reason and the node runs normally.
name=realtime
pid=$(prop failoverd@a MainPID)
problems=()
rtprio=$(awk '/^Max realtime priority/ {print $4}' /proc/"$pid"/limits)
memlock=$(awk '/^Max locked memory/ {print $4}' /proc/"$pid"/limits)
echo "    limits in effect: realtime priority $rtprio, locked memory $memlock"
line=$(journalctl -u failoverd@a --no-pager -o cat | grep 'event loop:' | tail -1)
echo "    $line"
policy=$(chrt -p "$pid" 2>&1 | tr '\n' ' ')
echo "    $policy"
if [[ $rtprio == 99 ]]; then
  grep -q "policy: SCHED_RR|SCHED_RESET_ON_FORK .*priority: 10" <<<"$policy" ||
    problems+=("LimitRTPRIO is in effect but the main thread is: $policy")
  for task in /proc/"$pid"/task/*; do
    tid=${task##*/}
    [[ $tid == "$pid" ]] && continue
    t=$(chrt -p "$tid" 2>&1 | head -1)
    grep -q SCHED_OTHER <<<"$t" || problems+=("thread $tid: $t")
  done
else
  grep -q 'SCHED_RR priority 10 not permitted' <<<"$line" ||
    problems+=("RLIMIT_RTPRIO is $rtprio, yet the start-up line does not say SCHED_RR was not permitted")
fi
if [[ $memlock == unlimited ]]; then
  locked=$(awk '/^VmLck:/ {print $2}' /proc/"$pid"/status)
  ((${locked:-0} > 0)) || problems+=("LimitMEMLOCK is in effect but VmLck is ${locked:-?} kB")
else
  grep -q 'memory not locked (RLIMIT_MEMLOCK is' <<<"$line" ||
    problems+=("RLIMIT_MEMLOCK is $memlock, yet the start-up line does not give it as the reason")
fi
if ((${#problems[@]})); then
  fail $name "$(printf '%s; ' "${problems[@]}")"
else
  ok $name
fi

# --- 3. status access
name=status-access
useradd -m alice 2>/dev/null
useradd -m bob 2>/dev/null
usermod -aG failoverd alice
expected='failoverctl: cannot list /run/failoverd to find the instance: Permission denied (run failoverctl as root or as a member of the group failoverd)'
problems=()
out=$(failoverctl status 2>&1) || problems+=("root: $out")
out=$(runuser -u alice -- failoverctl status 2>&1) || problems+=("alice (group failoverd): $out")
if out=$(runuser -u bob -- failoverctl status 2>&1); then
  problems+=("bob (not in the group) got exit 0: $out")
elif [[ $out != "$expected" ]]; then
  problems+=("bob (not in the group) saw: '$out'; expected: '$expected'")
fi
if ((${#problems[@]})); then
  fail $name "$(printf '%s; ' "${problems[@]}")"
else
  ok $name
fi

# --- 4. VIP on MASTER
name=vip-on-master
if poll 10 is_state a MASTER && poll 5 has_vip_here veth-a; then
  ok $name
else
  fail $name "state $(state_of a); veth-a: $(ip -o addr show dev veth-a | awk '{print $4}' | tr '\n' ' ')"
  show_unit failoverd@a
fi

# --- 5. reload
name=reload
write_conf a veth-a 140
if ! out=$(systemctl reload failoverd@a 2>&1); then
  fail $name "systemctl reload with priority 140 failed: $out"
  show_unit failoverd@a
elif ! poll 5 priority_is a 140; then
  fail $name "after reload, priority is $(status_of a | json_field priority), not 140"
else
  pid_before=$(prop failoverd@a MainPID)
  write_conf a veth-a 999
  since=$(date '+%Y-%m-%d %H:%M:%S')
  if out=$(systemctl reload failoverd@a 2>&1); then
    fail $name "systemctl reload with priority 999 exited 0: $out"
  else
    echo "    refused reload said: $out"
    sleep 0.5
    logged=$(journalctl -u failoverd@a --since "$since" --no-pager -o cat 2>&1)
    echo "    journal since the reload:"
    indent 6 <<<"$logged"
    prio=$(status_of a | json_field priority)
    if ! grep -q 'priority' <<<"$out$logged"; then
      fail $name "the refusal does not name the bad key; stderr: '$out'; journal: '$logged'"
    elif [[ $(prop failoverd@a ActiveState) != active || $(prop failoverd@a MainPID) != "$pid_before" ]]; then
      fail $name "the daemon did not keep running after a refused reload"
      show_unit failoverd@a
    elif [[ $prio != 140 ]]; then
      fail $name "after a refused reload, priority is '$prio', not the old 140"
    else
      ok $name
    fi
  fi
fi
write_conf a veth-a 150
systemctl reload failoverd@a >/dev/null 2>&1 || true

# --- 5b. restart in place: failoverctl restart, and the upgrade's postinst running it
name=restart-in-place
pid_before=$(prop failoverd@a MainPID)
restarts_before=$(prop failoverd@a NRestarts)
transitions_before=$(status_of a | json_field transitions)
since=$(date '+%Y-%m-%d %H:%M:%S')
problems=()
if ! out=$(failoverctl --socket /run/failoverd/a.sock restart 2>&1); then
  problems+=("failoverctl restart: $out")
else
  echo "    $out"
fi
# The upgrade path: the postinst of a configured older version restarts running instances.
if ! out=$(/var/lib/dpkg/info/failoverd.postinst configure 0.0.1 2>&1); then
  problems+=("postinst configure 0.0.1: $out")
else
  echo "    postinst: $out"
fi
poll 5 is_state a MASTER || problems+=("a is $(state_of a), not MASTER")
[[ $(prop failoverd@a MainPID) == "$pid_before" ]] ||
  problems+=("MainPID $pid_before -> $(prop failoverd@a MainPID)")
[[ $(prop failoverd@a NRestarts) == "$restarts_before" ]] ||
  problems+=("NRestarts $restarts_before -> $(prop failoverd@a NRestarts)")
[[ $(prop failoverd@a ActiveState)/$(prop failoverd@a SubState) == active/running ]] ||
  problems+=("unit is $(prop failoverd@a ActiveState)/$(prop failoverd@a SubState)")
[[ $(status_of a | json_field transitions) == "$transitions_before" ]] ||
  problems+=("transitions $transitions_before -> $(status_of a | json_field transitions)")
has_vip_here veth-a || problems+=("10.0.0.100 is not on veth-a")
resumed=$(journalctl -u failoverd@a --since "$since" --no-pager -o cat | grep -c 'restarted in place: resuming as MASTER')
[[ $resumed == 2 ]] || problems+=("$resumed 'restarted in place' lines in the journal, not 2")
if ((${#problems[@]})); then
  fail $name "$(printf '%s; ' "${problems[@]}")"
  show_unit failoverd@a
else
  ok $name
fi

# --- 6. watchdog
name=watchdog
wd=$(prop failoverd@a WatchdogUSec)
restarts=$(prop failoverd@a NRestarts)
old_pid=$(prop failoverd@a MainPID)
if [[ $wd != 10s ]]; then
  fail $name "WatchdogUSec=$wd, not 10s"
else
  kill -STOP "$old_pid"
  stopped_at=$SECONDS
  restarted() {
    [[ $(prop failoverd@a NRestarts) -gt $restarts && $(prop failoverd@a MainPID) != "$old_pid" &&
      $(prop failoverd@a MainPID) != 0 && $(prop failoverd@a ActiveState) == active ]]
  }
  if poll 25 restarted; then
    echo "    restarted after $((SECONDS - stopped_at)) s: NRestarts $restarts -> $(prop failoverd@a NRestarts), MainPID $old_pid -> $(prop failoverd@a MainPID)"
    if journalctl -u failoverd@a --no-pager | grep -qi 'watchdog timeout'; then
      ok $name
    else
      fail $name "restarted, but the journal has no watchdog timeout line"
      show_unit failoverd@a
    fi
  else
    fail $name "not restarted within 25 s of SIGSTOP: NRestarts $(prop failoverd@a NRestarts), MainPID $(prop failoverd@a MainPID), $(prop failoverd@a ActiveState)"
    show_unit failoverd@a
  fi
  kill -CONT "$old_pid" 2>/dev/null || true
fi
poll 10 is_state a MASTER || true

# --- 6b. crash resume: a MASTER whose daemon is killed is restarted by systemd (Restart=
# on-failure, RestartSec=1s) and, at the default advert_interval of 1s, comes back as MASTER
# from its crash record before a peer could have taken over: no transition, the VIP never gone.
name=crash-resume
INTERVAL=1s write_conf a veth-a 150
systemctl restart failoverd@a >/dev/null 2>&1 || true
problems=()
if ! poll 10 is_state a MASTER; then
  problems+=("a is $(state_of a), not MASTER, at advert_interval 1s")
else
  old_pid=$(prop failoverd@a MainPID)
  restarts=$(prop failoverd@a NRestarts)
  sleep 1.5 # a full advert cycle of the new process, so the record holds a recent advert
  kill -KILL "$old_pid"
  killed_at=$(now_ms)
  absent=0 samples=0
  back() {
    [[ $(prop failoverd@a NRestarts) -gt $restarts && $(prop failoverd@a MainPID) != "$old_pid" &&
      $(prop failoverd@a MainPID) != 0 ]] && is_state a MASTER
  }
  # The VIP is looked for every 50 ms until the restarted daemon answers as MASTER.
  while ((samples < 200)) && ! back; do
    if ! has_vip_here veth-a; then
      absent=$((absent + 1))
      echo "    VIP not seen at +$(($(now_ms) - killed_at)) ms: $(ip -o addr show dev veth-a 2>&1 | tr '\n' ' ')"
    fi
    samples=$((samples + 1))
    sleep 0.05
  done
  echo "    MASTER again $(($(now_ms) - killed_at)) ms after SIGKILL: NRestarts $restarts -> $(prop failoverd@a NRestarts), MainPID $old_pid -> $(prop failoverd@a MainPID); VIP absent in $absent of $samples samples"
  back || problems+=("not MASTER again under a new MainPID: a is $(state_of a), NRestarts $(prop failoverd@a NRestarts)")
  ((absent == 0)) || problems+=("10.0.0.100 missing from veth-a in $absent samples")
  # The new process's lines only: the first start of this check became MASTER the usual way.
  journal=$(journalctl -u failoverd@a _PID="$(prop failoverd@a MainPID)" --no-pager -o cat)
  line=$(grep 'resumed MASTER from the crash record' <<<"$journal" | tail -1)
  echo "    ${line:-no 'resumed MASTER from the crash record' line}"
  [[ -n $line ]] || problems+=("no 'resumed MASTER from the crash record' line: $(grep -E 'crash record|-> ' <<<"$journal" | tail -3 | tr '\n' ' ')")
  grep -q ' -> MASTER:' <<<"$journal" && problems+=("a transition to MASTER after the restart: $(grep ' -> MASTER:' <<<"$journal" | tail -1)")
  grep -q 'removed 10.0.0.100' <<<"$journal" && problems+=("the restarted daemon removed the VIP: $(grep 'removed 10.0.0.100' <<<"$journal" | tail -1)")
  grep -q 'kept 10.0.0.100/24 on veth-a across the crash' <<<"$journal" || problems+=("no 'kept 10.0.0.100/24 on veth-a across the crash' line")
  [[ $(status_of a | json_field transitions) == 0 ]] ||
    problems+=("the restarted daemon counts $(status_of a | json_field transitions) transitions, not 0")
fi
if ((${#problems[@]})); then
  fail $name "$(printf '%s; ' "${problems[@]}")"
  show_unit failoverd@a
else
  ok $name
fi
# Back to the 100ms instance the next checks expect.
write_conf a veth-a 150
systemctl restart failoverd@a >/dev/null 2>&1 || true
poll 10 is_state a MASTER || true

# --- 7. handover on stop
name=handover-on-stop
write_conf b veth-b 100
mkdir -p /etc/systemd/system/failoverd@b.service.d
printf '[Service]\nNetworkNamespacePath=/run/netns/peer\n' >/etc/systemd/system/failoverd@b.service.d/netns.conf
systemctl daemon-reload
if ! out=$(systemctl start failoverd@b 2>&1); then
  fail $name "systemctl start failoverd@b: $out"
  show_unit failoverd@b
elif ! poll 10 is_state b BACKUP; then
  fail $name "b is $(state_of b), not BACKUP, with a ($(state_of a)) running"
  show_unit failoverd@b
else
  # Master_Down_Interval for b: 3 * 100ms + Skew_Time ((256 - 100) * 100ms / 256 = 61ms).
  start_ms=$(now_ms)
  systemctl stop failoverd@a &
  stop_job=$!
  poll 5 is_state b MASTER
  took=$(($(now_ms) - start_ms))
  wait "$stop_job"
  echo "    b became MASTER ${took} ms after 'systemctl stop failoverd@a' (Master_Down_Interval 361 ms)"
  if [[ $(state_of b) != MASTER ]]; then
    fail $name "b is $(state_of b) after a stopped"
    show_unit failoverd@a failoverd@b
  elif ((took >= 361)); then
    fail $name "b took ${took} ms to become MASTER, not less than Master_Down_Interval (361 ms): the priority-0 advert was not seen"
    show_unit failoverd@a failoverd@b
  elif ! poll 5 has_vip_peer veth-b; then
    fail $name "b is MASTER but 10.0.0.100 is not on veth-b"
  elif has_vip_here veth-a; then
    fail $name "10.0.0.100 is still on veth-a after a stopped"
  else
    ok $name
  fi
fi

# --- 8. config errors go to the journal as errors and are not retried
name=config-error
write_conf c veth-a 999
if out=$(systemctl start failoverd@c 2>&1); then
  fail $name "systemctl start failoverd@c with priority 999 succeeded"
else
  sleep 5 # RestartSec=1s: a retry would have happened by now
  errs=$(journalctl -u failoverd@c -p err --no-pager -o cat 2>&1)
  echo "    journalctl -u failoverd@c -p err:"
  indent 6 <<<"$errs"
  n=$(prop failoverd@c NRestarts)
  st=$(prop failoverd@c ActiveState)
  if ! grep -q 'priority' <<<"$errs"; then
    fail $name "no error naming priority in journalctl -p err"
    show_unit failoverd@c
  elif [[ $n != 0 || $st != failed ]]; then
    fail $name "NRestarts=$n ActiveState=$st (expected 0, failed)"
    show_unit failoverd@c
  else
    ok $name
  fi
fi
systemctl reset-failed failoverd@c 2>/dev/null
rm -f /etc/failoverd/c.conf

# --- 9. hooks under the sandbox, then with the drop-in
name=hooks-sandbox
install -d -m 0755 /etc/failoverd/hooks
cat >/etc/failoverd/hooks/master.sh <<'HOOK'
#!/bin/sh
# Records what a hook may do under failoverd@.service's sandbox.
out=/run/failoverd/hook-result
{
  echo "ran: $* as $(id -un)"
  if echo x 2>&1 >/var/tmp/failoverd-hook-test; then echo "var_tmp: written"; else echo "var_tmp: refused"; fi
  if err=$(echo x 2>&1 >/var/lib/failoverd-hooks/out); then echo "var_lib: written"; else echo "var_lib: refused: $err"; fi
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "master hook ran for $1"
HOOK
chmod 0755 /etc/failoverd/hooks/master.sh
install -d -o failoverd -g failoverd -m 0750 /var/lib/failoverd-hooks
rm -f /var/tmp/failoverd-hook-test /run/failoverd/hook-result
write_conf a veth-a 150 '[notify]' 'master = /etc/failoverd/hooks/master.sh'
hook_ran() { [[ -f /run/failoverd/hook-result ]]; }
if ! systemctl start failoverd@a || ! poll 10 hook_ran; then
  fail $name "the master hook did not run (state $(state_of a))"
  show_unit failoverd@a
else
  result=$(cat /run/failoverd/hook-result)
  indent 4 <<<"$result"
  problems=()
  grep -q '^ran: a MASTER 150 as failoverd$' <<<"$result" || problems+=("no 'ran: a MASTER 150 as failoverd' line")
  if grep -q '^var_tmp: written' <<<"$result"; then
    [[ -e /var/tmp/failoverd-hook-test ]] && problems+=("the /var/tmp write is visible outside the unit (no PrivateTmp?)")
  else
    problems+=("writing to /var/tmp failed")
  fi
  grep -q '^var_lib: refused: .*Read-only file system' <<<"$result" ||
    problems+=("writing to /var/lib/failoverd-hooks was not refused as read-only")
  journalctl -u failoverd@a --no-pager -o cat | grep -q 'master hook ran for a' ||
    problems+=("the hook's stdout ('master hook ran for a') is not in journalctl -u failoverd@a")
  if ((${#problems[@]})); then
    fail $name "$(printf '%s; ' "${problems[@]}")"
  else
    ok $name
  fi
fi

name=hooks-drop-in
install -D -m 0644 "$here/hooks-writable-paths.conf.example" \
  /etc/systemd/system/failoverd@.service.d/hooks-writable-paths.conf
systemctl daemon-reload
rm -f /run/failoverd/hook-result
# a hands over to b on stop and takes the address back on start (higher priority, preempt).
systemctl restart failoverd@a
if ! poll 15 hook_ran; then
  fail $name "the master hook did not run after the restart (state $(state_of a))"
  show_unit failoverd@a
else
  result=$(cat /run/failoverd/hook-result)
  indent 4 <<<"$result"
  if grep -q '^var_lib: written' <<<"$result" && [[ -f /var/lib/failoverd-hooks/out ]]; then
    ok $name
  else
    fail $name "with the drop-in the write to /var/lib/failoverd-hooks still fails: $(grep var_lib <<<"$result")"
  fi
fi

# --- 10. the docker check through the docker group
# systemd-check.sh binds a podman engine's socket at /run/engine/docker.sock, root:docker 0660,
# with one running container labelled com.docker.compose.project=fod-systemd. Instance d
# (VRID 52, alone) needs that container: MASTER while failoverd is in the docker group, FAULT
# with the engine's refusal once it is not.
name=docker-group
cat >/etc/failoverd/d.conf <<'CONF'
[instance]
name = d
interface = veth-a
[vrrp]
virtual_router_id = 52
priority = 100
advert_interval = 100ms
[virtual_ip]
address = 10.0.0.101/24
[check.containers]
type = docker
socket = /run/engine/docker.sock
label = com.docker.compose.project=fod-systemd
min_running = 1
interval = 200ms
timeout = 150ms
rise = 1
fall = 1
CONF
chown root:failoverd /etc/failoverd/d.conf
chmod 0640 /etc/failoverd/d.conf
checks_of() { failoverctl --socket "/run/failoverd/$1.sock" checks 2>&1; }
checks_say() { checks_of "$1" | grep -q -- "$2"; }
problems=()
if [[ ! -S /run/engine/docker.sock ]]; then
  problems+=("no engine socket at /run/engine/docker.sock (systemd-check.sh binds it)")
elif ! id -nG failoverd | tr ' ' '\n' | grep -qx docker; then
  problems+=("the postinst did not add failoverd to the existing docker group: $(id failoverd)")
elif ! systemctl start failoverd@d || ! poll 15 is_state d MASTER; then
  problems+=("with the docker group: d is $(state_of d), not MASTER; checks: $(checks_of d | tr '\n' ' ')")
else
  checks_of d | indent 4
  checks_say d '1 container running' || problems+=("checks do not say '1 container running'")
  gpasswd -d failoverd docker >/dev/null
  systemctl restart failoverd@d
  if ! poll 15 checks_say d 'docker socket /run/engine/docker.sock: Permission denied'; then
    problems+=("without the docker group the check does not report the refusal: $(checks_of d | tr '\n' ' ')")
  else
    checks_of d | indent 4
    poll 5 is_state d FAULT || problems+=("without the docker group d is $(state_of d), not FAULT")
  fi
  usermod -a -G docker failoverd
fi
systemctl stop failoverd@d >/dev/null 2>&1
rm -f /etc/failoverd/d.conf
if ((${#problems[@]})); then
  fail $name "$(printf '%s; ' "${problems[@]}")"
  show_unit failoverd@d
else
  ok $name
fi

# --- 11. remove and purge with an instance running
# b runs as failoverd@b too, so the prerm's `systemctl stop 'failoverd@*'` would stop both
# at once and prove nothing about the handover. The peer is a copy of the binary in a
# transient unit instead: it survives the removal, as a peer host would.
name=remove-purge
systemctl stop failoverd@b
# failoverctl goes with the package: the peer's state is read with a copy too.
install -m 0755 /usr/sbin/failoverd /usr/local/sbin/failoverd-peer
install -m 0755 /usr/bin/failoverctl /usr/local/bin/failoverctl-peer
install -d -m 0755 /root/peer
cp /etc/failoverd/b.conf /root/peer/b.conf
rm -f /etc/failoverd/b.conf
rm -rf /etc/systemd/system/failoverd@b.service.d
systemd-run --unit=peer-b -p NetworkNamespacePath=/run/netns/peer -p PrivateTmp=yes \
  /usr/local/sbin/failoverd-peer --config /root/peer/b.conf --set control.socket=/run/peer-b.sock >/dev/null 2>&1
peer_state() { failoverctl-peer --socket /run/peer-b.sock status --json 2>/dev/null | json_field state; }
peer_is() { [[ $(peer_state) == "$1" ]]; }
systemctl enable failoverd@a >/dev/null 2>&1
poll 10 is_state a MASTER
poll 10 peer_is BACKUP
links_before=$(find /etc/systemd/system -path '*.wants/failoverd@*' | tr '\n' ' ')
echo "    enabled: ${links_before:-no links}; a $(state_of a), peer $(peer_state)"
rm -f /etc/failoverd/hooks/master.sh
rmdir /etc/failoverd/hooks
if ! peer_is BACKUP; then
  fail $name "the peer (transient unit peer-b) is '$(peer_state)', not BACKUP"
  show_unit peer-b
elif ! out=$(DEBIAN_FRONTEND=noninteractive apt-get remove -y failoverd 2>&1); then
  fail $name "apt-get remove: $(tail -5 <<<"$out")"
else
  problems=()
  st=$(prop failoverd@a ActiveState)
  [[ $st == inactive ]] || problems+=("failoverd@a is $st after remove")
  has_vip_here veth-a && problems+=("10.0.0.100 still on veth-a")
  poll 5 peer_is MASTER || problems+=("the peer is $(peer_state), not MASTER")
  poll 5 has_vip_peer veth-b || problems+=("10.0.0.100 is not on the peer's veth-b")
  took_over=$(journalctl -u peer-b --no-pager -o cat | grep -E 'BACKUP -> MASTER' | tail -1)
  echo "    peer: ${took_over:-no BACKUP -> MASTER line}"
  grep -q 'priority 0' <<<"$took_over" ||
    problems+=("the peer did not take over on a priority-0 advert: '${took_over}'")
  rm -f /etc/failoverd/a.conf
  if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get purge -y failoverd 2>&1); then
    problems+=("apt-get purge: $(tail -5 <<<"$out")")
  fi
  [[ -e /etc/failoverd ]] && problems+=("/etc/failoverd is still there: $(find /etc/failoverd -mindepth 1 | tr '\n' ' ')")
  left=$(find /etc/systemd/system -path '*.wants/failoverd@*' | tr '\n' ' ')
  [[ -n $left ]] && problems+=("links left: $left")
  if ((${#problems[@]})); then
    fail $name "$(printf '%s; ' "${problems[@]}")"
  else
    ok $name
  fi
fi
systemctl stop peer-b >/dev/null 2>&1

echo "checks: $failed failed"
exit $((failed > 100 ? 100 : failed))
