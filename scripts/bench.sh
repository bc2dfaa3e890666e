#!/usr/bin/env bash
# Runs the benchmarks -- failover (failoverd and keepalived, same namespaces, same
# measurement) and health checks -- and writes docs/benchmarks.md. As root: bash scripts/bench.sh [TRIALS]
set -euo pipefail
cd "$(dirname "$0")/.."

trials=${1:-10}
build_dir=${BUILD_DIR:-build}

bash scripts/install-deps.sh
cmake -S . -B "$build_dir" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j2 --target failoverd failoverctl failover_bench check_bench

table=$(mktemp)
checks=$(mktemp)
trap 'rm -f "$table" "$checks"' EXIT
"$build_dir/tests/failover_bench" --trials "$trials" --out "$table"
"$build_dir/tests/check_bench" --out "$checks" "$build_dir/failoverd" >/dev/null

{
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
  of failoverd, or keepalived's parent stopped and its VRRP child killed (a real crash; see
  shared/testdata/keepalived-lab.md). The floor is the backup's Master_Down_Interval.
- **crash: kill -> first advert of backup** is what a client sees; its floor depends on where
  in the advert cycle the kill lands (kills are placed at random).
- **SIGTERM -> first advert of backup** is a planned switchover: the master sends priority 0
  and the backup takes over after its Skew_Time.

HEADER
  cat "$table"
  echo
  cat "$checks"
} > docs/benchmarks.md
echo "wrote docs/benchmarks.md"
