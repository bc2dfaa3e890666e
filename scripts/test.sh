#!/usr/bin/env bash
# Installs dependencies, builds everything in ./build and runs the whole test suite.
# Exits non-zero when anything fails. Tests labelled "netns" need root (they create network
# namespaces with unique names, so `ctest -j2` is safe).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-2}

bash scripts/install-deps.sh
cmake -S . -B "$build_dir" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j"$jobs"
cd "$build_dir"
ctest --output-on-failure -j"$jobs" --timeout 300
