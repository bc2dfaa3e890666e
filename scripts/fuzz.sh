#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang 14, ASan + UBSan) and runs each one for
# SECONDS_PER_TARGET (default 30) on a scratch copy of its seed corpus, with its regression
# inputs replayed first. Prints executions and coverage per target and fails (exit 1) on any
# crash, leak, timeout, out-of-memory or sanitizer report, naming the reproducer.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (build parallelism, default 2),
# FUZZ_TARGETS (space-separated subset, default all), FUZZ_SEED (libFuzzer's -seed, default
# random), FUZZ_WORK (scratch dir, default a fresh mktemp dir; reproducers and logs stay
# there), FUZZ_PARALLEL (targets fuzzed at once, default 1; CI uses 2, one per core),
# FUZZ_PREBUILT=1 (FUZZ_BUILD_DIR is already configured and built, e.g. by
# scripts/hardening.sh: neither configure nor build here).
set -euo pipefail

seconds="${1:-30}"
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${FUZZ_JOBS:-2}"
start=$(date +%s)

work="${FUZZ_WORK:-$(mktemp -d /tmp/failoverd-fuzz.XXXXXX)}"
mkdir -p "$work"
parallel="${FUZZ_PARALLEL:-1}"
case "$parallel" in '' | *[!0-9]* | 0) echo "$0: FUZZ_PARALLEL must be a positive number" >&2; exit 2 ;; esac

build_secs=0
if [ "${FUZZ_PREBUILT:-0}" != 1 ]; then
  need_pkgs=()
  command -v clang++-14 >/dev/null || need_pkgs+=(clang-14)
  compgen -G "/usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null ||
    need_pkgs+=(libclang-rt-14-dev)
  if ((${#need_pkgs[@]})); then
    echo "== installing ${need_pkgs[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}"
  fi

  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

  echo "== configure and build ($build, -j$jobs)"
  build_start=$(date +%s)
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G "Unix Makefiles" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF -DFAILOVERD_FUZZ=ON "${launcher[@]}" \
    >"$work/configure.log" 2>&1 || {
    cat "$work/configure.log" >&2
    exit 1
  }
  cmake --build "$build" -j"$jobs" --target fuzz_all
  build_secs=$(($(date +%s) - build_start))
  echo "== build took ${build_secs}s"
fi

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for src in "$root"/tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$src" .cpp)"); done
fi

echo "== running ${#targets[@]} targets, ${seconds}s each, $parallel at a time; scratch: $work"

# One target: regressions replayed, then fuzzing on a scratch copy of its corpus. Prints its
# report and writes its summary line to $work/$t/summary and "ok"/"FAILED" to $work/$t/status,
# so that several can run at once (FUZZ_PARALLEL) and be collected afterwards in order.
fuzz_one() {
  local t=$1 bin="$build/fuzz/$1" corpus="$work/$1/corpus" artifacts="$work/$1/artifacts"
  local log="$work/$1/fuzz.log" status=ok rc=0 out="$work/$1/report" t0 execs cov units a line
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  : >"$out"
  [ -d "$root/tests/fuzz/corpus/$t" ] && cp -r "$root/tests/fuzz/corpus/$t/." "$corpus/"
  t0=$(date +%s)

  # Regression inputs first, one run each: a fixed finding must stay fixed.
  local regressions="$root/tests/fuzz/regressions/$t"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! "$bin" -runs=1 -timeout=10 -rss_limit_mb=2048 "$regressions"/* \
      >"$work/$t/regressions.log" 2>&1; then
      status=FAILED
      {
        echo "!! $t: a regression input fails again ($regressions):"
        grep -E "contract violated|detail:|ERROR:|SUMMARY:|Running: " "$work/$t/regressions.log" | head -20
      } >>"$out"
    fi
  fi

  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -print_funcs=0 -artifact_prefix="$artifacts/" "$corpus" \
    >"$log" 2>&1 || rc=$?
  # `|| true`: a run that crashed at once has no such lines (and set -e would end the job).
  execs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}' | tail -1 || true)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | awk '{print $2 " ft " $4}' || true)
  units=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|contract violated' "$log"; then
    status=FAILED
    {
      echo "!! $t: exit $rc"
      grep -E "contract violated|detail:|runtime error:|ERROR:|SUMMARY:|^    #[0-9]+ " "$log" | head -40
      for a in "$artifacts"/*; do
        [ -e "$a" ] && echo "   reproducer: $a   (replay: $bin $a; minimize: $bin -minimize_crash=1 -max_total_time=60 $a)"
      done
    } >>"$out"
  fi
  line=$(printf '%-26s %-6s execs %-10s cov %-14s corpus %-6s %ss' "$t" "$status" "${execs:-?}" "${cov:-?}" "$units" "$(($(date +%s) - t0))")
  echo "$line" >"$work/$t/summary"
  echo "$status" >"$work/$t/status"
  echo "   $line" >>"$out"
  cat "$out"
}

for t in "${targets[@]}"; do
  if [ ! -x "$build/fuzz/$t" ]; then
    echo "$0: $build/fuzz/$t is not built" >&2
    exit 1
  fi
  mkdir -p "$work/$t"
  rm -f "$work/$t/status" "$work/$t/summary"
done

running=0
for t in "${targets[@]}"; do
  if ((running >= parallel)); then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
  # No status file: the job itself died (e.g. killed); that is a failure too.
  st=$(cat "$work/$t/status" 2>/dev/null || echo FAILED)
  summary+=("$(cat "$work/$t/summary" 2>/dev/null || printf '%-26s FAILED (no result)' "$t")")
  [ "$st" = ok ] || failed+=("$t")
done

total=$(($(date +%s) - start))
echo
echo "== summary (${seconds}s per target, $parallel at a time; build ${build_secs}s; total ${total}s)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "== FAILED: ${failed[*]} (logs and reproducers under $work)"
  exit 1
fi
echo "== all ${#targets[@]} targets clean"
