#!/usr/bin/env bash
# End-to-end keyless signing, sigil vs sigstore-python 4.5.1, in one run against one local
# `sigil serve --dev`: wall time of `sigil sign-blob` and of `python -m sigstore sign` on the same small
# file, alternated, RUNS times each per Rekor version (default 15), with a fresh token minted before each
# timed run. Reports median, min and max and the ratio of the medians. See docs/ca-performance.md.
# Usage: scripts/bench-sign.sh [RUNS] [REKOR_VERSIONS, default 1,2]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-15}"
VERSIONS="${2:-1,2}"
scripts/install-interop-clients.sh python
cargo build --quiet --release -p sigil-cli
exec .venv/bin/python scripts/bench_sign.py "$RUNS" "$VERSIONS"
