#!/usr/bin/env bash
# CI's hardening stage: ONE clang 14 build tree serves both the test suite under
# AddressSanitizer (with LeakSanitizer) + UndefinedBehaviorSanitizer and the libFuzzer targets
# of tests/fuzz, so CI pays for one instrumented build, not two (FAILOVERD_FUZZ=ON: every
# library with -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all, the fuzz
# targets linked with -fsanitize=fuzzer; -O1 -gline-tables-only, no benchmarks). Then:
#   1. the whole suite once (scripts/sanitize.sh: any process's sanitizer report fails it),
#   2. every fuzz target SECONDS_PER_TARGET on its corpus, two at a time (one per core), its
#      regression inputs replayed first (scripts/fuzz.sh: a finding fails it).
#
#   bash scripts/hardening.sh [SECONDS_PER_TARGET]    # as root; default 30
#
# Environment: HARDENING_BUILD_DIR (default build-hardening), HARDENING_JOBS (build
# parallelism, default 2), and those of scripts/sanitize.sh and scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-30}
case "$seconds" in '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac
build=${HARDENING_BUILD_DIR:-$root/build-hardening}
jobs=${HARDENING_JOBS:-2}
t0=$(date -u +%s)

bash scripts/install-deps.sh
# clang 14 and its libFuzzer runtime: only this stage needs them, so install-deps.sh (the
# README's path for users) does not bring them.
need=()
command -v clang++-14 >/dev/null || need+=(clang-14)
compgen -G "/usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null ||
  need+=(libclang-rt-14-dev)
if ((${#need[@]})); then
  echo "== hardening: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
echo "== hardening: configure and build ($build, clang 14, ASan+UBSan+fuzzer coverage, -j$jobs)"
# -O1 -gline-tables-only: the build is most of this stage's time; reports keep file:line.
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DFAILOVERD_FUZZ=ON "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$jobs"
t1=$(date -u +%s)
echo "== hardening: build $((t1 - t0)) s"

rc=0
SANITIZE_PREBUILT=1 SANITIZE_BUILD_DIR=$build bash scripts/sanitize.sh || rc=1
t2=$(date -u +%s)
# A fixed seed (FUZZ_SEED, default 1): CI explores the same inputs on every run, so a finding
# there comes from the change under test, and a failing run can be replayed as it was. The
# longer campaign (scripts/fuzz.sh by hand) draws its seeds at random.
FUZZ_SEED=${FUZZ_SEED:-1} FUZZ_PREBUILT=1 FUZZ_BUILD_DIR=$build FUZZ_PARALLEL=2 \
  bash scripts/fuzz.sh "$seconds" || rc=1
t3=$(date -u +%s)

echo "hardening: build $((t1 - t0)) s, suite under ASan+UBSan $((t2 - t1)) s, fuzzing ($seconds s per target, 2 at a time) $((t3 - t2)) s"
if ((rc != 0)); then
  echo "== hardening: FAILED"
  exit 1
fi
echo "== hardening: clean"
