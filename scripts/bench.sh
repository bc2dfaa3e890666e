#!/usr/bin/env bash
# Runs the benchmarks and rewrites their sections of docs/benchmarks.md, each in place (a
# section not run is kept as it is; a new one is added at the end). As root:
#
#   bash scripts/bench.sh [TRIALS] [all | SECTION...]
#
# SECTION is one of: failover (failoverd and keepalived, kill -9 and SIGTERM), checks (cost of
# the health checks), reserved-ip (kill -9 until the DigitalOcean API has moved the IP),
# switchover (planned switchover: instant handover, the RFC wait, keepalived, to the peer's
# first advert and its master hook), startup (exec until READY=1), sim (10,000 seeded Node
# schedules), restart (100 x failoverctl restart on the MASTER), load (steady under stress-ng:
# 10 minutes at each of 10ms, 100ms and 1s, failoverd and keepalived side by side).
# all (the default) is every section. Run time on 2 cores with TRIALS=10: failover 8 minutes,
# checks 2, reserved-ip 2, switchover 8, startup 1, sim 1, restart 2, load 31 (LOAD_SECONDS per
# interval, default 600): about 55 minutes for all.
set -euo pipefail
cd "$(dirname "$0")/.."

trials=10
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  trials=$1
  shift
fi
all_sections=(failover checks reserved-ip switchover startup sim restart load)
sections=("$@")
if [ ${#sections[@]} -eq 0 ] || [ "${sections[*]}" = all ]; then sections=("${all_sections[@]}"); fi
for s in "${sections[@]}"; do
  case " ${all_sections[*]} " in
    *" $s "*) ;;
    *)
      echo "usage: bash scripts/bench.sh [TRIALS] [all | SECTION...]; SECTION: ${all_sections[*]}" >&2
      exit 2
      ;;
  esac
done
wants() { case " ${sections[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
load_seconds=${LOAD_SECONDS:-600}
build_dir=${BUILD_DIR:-build}
out=docs/benchmarks.md

bash scripts/install-deps.sh
if wants load && ! command -v stress-ng >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q stress-ng >/dev/null
fi
cmake -S . -B "$build_dir" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=(failoverd failoverctl fake_do_api)
wants failover && targets+=(failover_bench)
wants checks && targets+=(check_bench)
wants reserved-ip && targets+=(reserved_ip_bench)
wants switchover && targets+=(switchover_bench)
wants startup && targets+=(startup_bench)
wants sim && targets+=(node_sim_bench)
wants restart && targets+=(restart_bench)
wants load && targets+=(load_bench)
cmake --build "$build_dir" -j2 --target "${targets[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$out" ] || printf '# Benchmarks\n' >"$out"

# replace_section HEADING FILE: the section of $out that starts with the line HEADING (up to the
# next "## " heading) becomes FILE's text; appended at the end when $out has no such heading.
replace_section() {
  awk -v h="$1" -v f="$2" '
    function emit() { while ((getline line < f) > 0) print line; close(f); done = 1 }
    $0 == h { emit(); skip = 1; next }
    skip && /^## / { skip = 0 }
    !skip { print }
    END { if (!done) { print ""; emit() } }' "$out" >"$work/next.md"
  mv "$work/next.md" "$out"
}
produced() { # what ran, when, on what
  echo "Produced by \`$1\` (as root, run by \`bash scripts/bench.sh $trials $2\`) on"
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), keepalived $(keepalived --version 2>&1 | head -1 | awk '{print $2}')."
}

if wants failover; then
  "$build_dir/tests/failover_bench" --trials "$trials" --out "$work/table"
  {
    echo "## Failover: failoverd and keepalived, same setup, same measurement"
    echo
    produced "failover_bench --trials $trials" failover
    cat <<SECTION

Two hosts are two network namespaces joined by a veth pair; master priority 150, backup
priority 100, unicast VRRPv3 with one virtual IP. failoverd and keepalived run one after the
other in the same run. A packet sniffer on the backup's side of the link timestamps every
advert (kernel receive time), so both implementations are measured at the protocol level:

- **crash: last advert of master -> first advert of backup** is crash detection: \`kill -9\`
  of failoverd, or keepalived's parent stopped and its VRRP child killed (a real crash: killed alone,
  keepalived's parent has its VRRP child send priority 0). The floor is the backup's Master_Down_Interval.
- **crash: kill -> first advert of backup** is what a client sees; its floor depends on where
  in the advert cycle the kill lands (kills are placed at random).
- **SIGTERM -> first advert of backup** is a planned switchover: the master sends priority 0
  and the backup takes over: keepalived after its Skew_Time, failoverd (one peer: instant
  handover) at once. The planned switchover section below has both failoverd modes.
SECTION
    echo
    cat "$work/table"
    echo
  } >"$work/section"
  replace_section "## Failover: failoverd and keepalived, same setup, same measurement" "$work/section"
fi

if wants checks; then
  # check_bench writes its own heading and text.
  "$build_dir/tests/check_bench" --out "$work/section" "$build_dir/failoverd" >/dev/null
  echo >>"$work/section"
  replace_section "$(head -1 "$work/section")" "$work/section"
fi

if wants reserved-ip; then
  "$build_dir/tests/reserved_ip_bench" --trials "$trials" --advert-interval 1s --delay-ms 50 \
    --out "$work/reserved_ip" >/dev/null
  {
    echo "## Reserved IP failover end to end"
    echo
    produced "reserved_ip_bench --trials $trials --advert-interval 1s --delay-ms 50" reserved-ip
    cat <<SECTION

\`kill -9\` of the master until the DigitalOcean API has the reserved IP on the backup, for a
failoverd backup and for the setup it replaces: keepalived as the backup with \`notify_master\`
pointing at a shell script that assigns the IP with \`curl -X POST .../actions\` and the bearer
token (the droplet id written in the script; scripts that first ask the metadata service for it
pay one more round trip). Same run, same two namespaces, same master (failoverd, priority 150,
droplet 1, killed the same way); the backups have priority 100 (droplet 2), advert_interval 1s.
The fake API (\`tests/cloud/fake_do_api\`) runs in the master's namespace and answers every
request 50 ms late, with instant actions: the POST answers the action "completed" and the
assignment happens at the POST, so the cloud's own work is not measured. The failoverd backup
reads the holder every \`reconcile_interval = 1s\` (as BACKUP too); each kill comes 2 s or more
after the master's claim, at a random point of the advert cycle.

A sniffer on the backup's side of the link timestamps (kernel time) every advert and every HTTP
request and answer of the backup:

- **detection**: the master's last advert -> the backup's first advert (the backup is MASTER);
  floor: Master_Down_Interval.
- **MASTER -> POST sent**: until the backup's assign request leaves; **POST -> answer** is the
  API round trip (50 ms + the network).
- **moved at API**: the fake's own record of the assignment (1 ms resolution; the assignment
  happens when the POST arrives, before the 50 ms delay of its answer).
- **excess**: answer at the backup - backup MASTER - 50 ms, i.e. the time to the confirmed
  assignment beyond detection + one API round trip. **GETs before the POST** counts the
  requests the backup made between becoming MASTER and sending the assign (0 = fast path).
SECTION
    echo
    cat "$work/reserved_ip"
    echo
  } >"$work/section"
  replace_section "## Reserved IP failover end to end" "$work/section"
fi

if wants switchover; then
  "$build_dir/tests/switchover_bench" --trials "$trials" --out "$work/switchover" >/dev/null
  {
    echo "## Planned switchover: instant handover, the RFC wait and keepalived"
    echo
    produced "switchover_bench --trials $trials" switchover
    cat <<SECTION

Two nodes as in the failover benchmark above (master 150, backup 100, unicast, one virtual
IP), at advert_interval 1s and 100ms, in one run: failoverd as installed (one peer, so instant
handover: the backup takes over as soon as the priority-0 advert arrives), failoverd with
\`instant_handover = no\` (RFC 5798 §6.4.2: the backup waits its Skew_Time first), and
keepalived. Each trial, at a random point of the advert cycle, the benchmark asks the master to
hand over and the sniffer on the backup's link gives the master's priority-0 advert and the
backup's first advert (the peer is MASTER), measured as failover_bench measures SIGTERM. The
ways of asking: \`failoverctl --socket S failover\` (t0 = just before its posix_spawn, so a
process start is included; its floor, \`failoverctl --version\`, is given below the table), the
same request sent by the benchmark itself over the control socket (t0 = just before connect:
the daemons' share), and SIGTERM of the master (what \`systemctl stop\` does, and keepalived's
only planned switchover). The master is restarted between trials (a resigned node would not
preempt back for 60 s). The backup's master hook (\`[notify] master\`, keepalived's
\`notify_master\`) is the same /bin/sh script for both, appending \`date +%s%N\` to a file: the
hook column is t0 until that line runs (the start of the shell and of \`date\` included, the
same for both; no reserved IP is configured, so failoverd does not hold the hook for a claim
report). The ratio columns divide each median by keepalived's SIGTERM median at the same
interval.
SECTION
    echo
    cat "$work/switchover"
    echo
  } >"$work/section"
  replace_section "## Planned switchover: instant handover, the RFC wait and keepalived" "$work/section"
fi

if wants startup; then
  runs=$((trials * 2 > 20 ? trials * 2 : 20))
  "$build_dir/tests/startup_bench" --runs "$runs" --out "$work/startup" >/dev/null
  {
    echo "## Daemon start-up: exec until READY=1"
    echo
    produced "startup_bench --runs $runs" startup
    cat <<SECTION

What systemd waits for with \`Type=notify\`: from \`posix_spawn\` of failoverd until its
\`READY=1\` datagram reaches \`NOTIFY_SOCKET\` (a unix datagram socket the benchmark binds;
kernel receive timestamp). The daemon runs in a namespace of its own (veth, one unicast peer,
one virtual IP), without checks and with one docker check against a canned Docker Engine API
on a unix socket; each run is stopped with SIGTERM after READY. The first run of each kind only
warms the page cache and is not counted. \`failoverd --version\` is the floor: exec, dynamic
linking and static initialisation of the same binary. CPU and run-queue wait are the sums over
the daemon's threads of \`/proc/PID/task/*/schedstat\` read at READY: on a busy machine the wall
time is mostly waiting for a CPU. Memory is read 500 ms after READY, once the first check has
run: VmRSS (\`/proc/PID/status\`), Pss (\`/proc/PID/smaps_rollup\`) and the shared objects in
\`/proc/PID/maps\` (libcurl and its dependencies are loaded only by the docker check).
SECTION
    echo
    cat "$work/startup"
    echo
  } >"$work/section"
  replace_section "## Daemon start-up: exec until READY=1" "$work/section"
fi

if wants sim; then
  sim_out=$( { /usr/bin/time -f "%e s wall, %U s user, %M KiB max RSS" \
    "$build_dir/tests/node_sim_bench" --schedules 10000 --seed 1; } 2>&1)
  {
    echo "## Simulator: 10,000 seeded Node schedules"
    echo
    produced "node_sim_bench --schedules 10000 --seed 1" sim
    cat <<'SECTION'

`node_sim_bench` (tests/bench/node_sim_bench.cpp) runs seeded schedules of the Node simulator
(`include/failoverd/sim/node_sim.h`): two or three whole `node::Node`s with a reserved IP at a
fake DigitalOcean-like API (virtual IPs in half of them), each schedule mixing partitions and
heals, advert loss, crashes and restarts, graceful stops, API outages, 500s and timeouts, bad
tokens, failing checks, links down, failovers and maintenance, then a quiet phase; every run is
checked against the five invariants written out in that header. No daemon, no network, one
thread; a schedule is a pure function of its seed. The suite runs 300 schedules
(`NodeSimRandom.InvariantsHold` in tests/sim); `FAILOVERD_NODE_SIM_SEEDS=N` runs more,
`FAILOVERD_NODE_SIM_SEED=N` one with its trace.

```
SECTION
    echo "$sim_out"
    echo '```'
    echo
  } >"$work/section"
  replace_section "## Simulator: 10,000 seeded Node schedules" "$work/section"
fi

if wants restart; then
  "$build_dir/tests/restart_bench" --restarts 100 --out "$work/restart100" >/dev/null
  "$build_dir/tests/restart_bench" --restarts 100 --interval 1s --out "$work/restart1s" >/dev/null
  {
    echo "## Restart in place: failoverctl restart on the MASTER"
    echo
    produced "restart_bench --restarts 100\` and \`restart_bench --restarts 100 --interval 1s" restart
    cat <<'SECTION'

Two namespaces (veth), failoverd on both: the master (priority 150) with a virtual IP and the
reserved IP at the fake DigitalOcean API (20 ms per answer), the backup (priority 100), unicast.
`failoverctl restart` on the master 100 times in a row, 200 ms apart; each execs the same
binary, as an upgrade execs the new one. Transitions are the daemons' own counters (status),
assignments the fake API's record, the VIP is looked for with `ip addr` in the master's
namespace about every 10 ms, the advert gap is between the master's adverts as the backup's
side of the veth sees them (kernel timestamps), and the restart time is `failoverctl restart`
from its call until the new process answers status under the same PID (it includes the new
binary's `--check-config --check-restore` run and the exec). Target: 0 transitions on the peer,
0 assignments at the API, the VIP never absent.

SECTION
    echo
    cat "$work/restart100"
    echo
    cat "$work/restart1s"
    echo
  } >"$work/section"
  replace_section "## Restart in place: failoverctl restart on the MASTER" "$work/section"
fi

if wants load; then
  "$build_dir/tests/load_bench" --seconds "$load_seconds" --out "$work/load" >"$work/load.log" 2>&1 ||
    { cat "$work/load.log" >&2; exit 1; }
  {
    echo "## Steady under load: false transitions and advert gaps under stress-ng"
    echo
    produced "load_bench --seconds $load_seconds" load
    cat <<'SECTION'

Two nodes of one implementation in the two-namespace setup above (master 150, backup 100,
unicast, one virtual IP) while `stress-ng --cpu 6 --vm 2 --vm-bytes 25% --hdd 1` loads the two
cores, for the stated seconds at each advert interval. At each interval the three setups run
side by side, each pair in namespaces of its own, under one stress-ng: they meet the same load
at the same moments. failoverd runs as installed (default settings: its event loop realtime,
SCHED_RR priority 10, memory locked); keepalived with its defaults; keepalived tuned as its
documentation advises against such load, with `vrrp_rt_priority 10` (failoverd's priority) and
`vrrp_no_swap`. Any transition after both pairs settled is a false one (nobody asked for it):
"backup became MASTER" counts the backup's takeovers, "transitions" both nodes' state changes.
The gaps are between the master's adverts as the backup's side of the link sees them (kernel
timestamps); a frame the capture lost (its buffer full) would read as a gap and is counted.
Target: failoverd 0 false transitions at 10 ms.
SECTION
    echo
    cat "$work/load"
    echo
  } >"$work/section"
  replace_section "## Steady under load: false transitions and advert gaps under stress-ng" "$work/section"
fi

echo "wrote $out (${sections[*]})"
