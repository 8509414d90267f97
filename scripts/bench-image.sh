#!/usr/bin/env bash
# `sigil verify IMAGE` with 1, 10 and 100 attached signatures (and 101, over the cap), against Debian's
# docker-registry and `sigil serve --dev`. See scripts/bench_image.py and docs/image-performance.md.
# Usage: scripts/bench-image.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v docker-registry >/dev/null || { echo "docker-registry is not installed (apt-get install docker-registry)" >&2; exit 1; }
cargo build --quiet --release -p sigil-cli
exec python3 scripts/bench_image.py "${1:-7}"
