#!/usr/bin/env bash
# Runs the benchmarks and writes docs/benchmarks.md. As root:
#
#   bash scripts/bench.sh [TRIALS] [all|new]
#
# all (the default) runs everything: failover (failoverd and keepalived, same namespaces, same
# measurement), health checks, and the benchmarks of issues 4, 5 and 11 (reserved-IP failover end
# to end, planned switchover: instant handover, the RFC wait and keepalived, daemon start-up).
# new runs only the last three and rewrites only their sections, keeping the rest of
# docs/benchmarks.md as it is.
# Run time on 2 cores with TRIALS=10: about 21 minutes for all, 13 for new (the switchover
# benchmark alone: 7).
set -euo pipefail
cd "$(dirname "$0")/.."

trials=${1:-10}
set_name=${2:-all}
case "$set_name" in
  all | new) ;;
  *)
    echo "usage: bash scripts/bench.sh [TRIALS] [all|new]" >&2
    exit 2
    ;;
esac
build_dir=${BUILD_DIR:-build}
out=docs/benchmarks.md
# The first heading of the sections the new benchmarks write: everything before it is kept
# when only those run.
new_marker='## Reserved IP failover end to end'

bash scripts/install-deps.sh
cmake -S . -B "$build_dir" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=(failoverd failoverctl fake_do_api reserved_ip_bench switchover_bench startup_bench)
if [ "$set_name" = all ]; then targets+=(failover_bench check_bench); fi
cmake --build "$build_dir" -j2 --target "${targets[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$set_name" = all ]; then
  "$build_dir/tests/failover_bench" --trials "$trials" --out "$work/table"
  "$build_dir/tests/check_bench" --out "$work/checks" "$build_dir/failoverd" >/dev/null
fi
"$build_dir/tests/reserved_ip_bench" --trials "$trials" --advert-interval 1s --delay-ms 50 \
  --out "$work/reserved_ip" >/dev/null
"$build_dir/tests/switchover_bench" --trials "$trials" --out "$work/switchover" >/dev/null
runs=$((trials * 2 > 20 ? trials * 2 : 20))
"$build_dir/tests/startup_bench" --runs "$runs" --out "$work/startup" >/dev/null

{
  if [ "$set_name" = all ]; then
    cat <<HEADER
# Benchmarks

Produced by \`bash scripts/bench.sh $trials\` (as root) on $(date -u +%Y-%m-%d), $(nproc) cores,
$(uname -r), keepalived $(keepalived --version 2>&1 | head -1 | awk '{print $2}').

## Failover: failoverd and keepalived, same setup, same measurement

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

HEADER
    cat "$work/table"
    echo
    cat "$work/checks"
  else
    # Everything before the first new section, as it was.
    awk -v m="$new_marker" 'index($0, m) == 1 { exit } { print }' "$out"
  fi
  echo
  cat <<SECTION
$new_marker

Produced by \`reserved_ip_bench --trials $trials --advert-interval 1s --delay-ms 50\` (as root,
run by \`bash scripts/bench.sh $trials $set_name\`).

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
  cat "$work/reserved_ip"
  echo
  cat <<SECTION
## Planned switchover: instant handover, the RFC wait and keepalived

Produced by \`switchover_bench --trials $trials\` (as root, run by \`bash scripts/bench.sh
$trials $set_name\`).

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
preempt back for 60 s). The last column divides each median by keepalived's SIGTERM median at
the same interval.

SECTION
  cat "$work/switchover"
  echo
  cat <<SECTION
## Daemon start-up: exec until READY=1

Produced by \`startup_bench --runs $runs\` (as root, run by \`bash scripts/bench.sh $trials
$set_name\`).

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
  cat "$work/startup"
} >"$work/benchmarks.md"
mv "$work/benchmarks.md" "$out"
echo "wrote $out"
