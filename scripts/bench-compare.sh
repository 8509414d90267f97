#!/usr/bin/env bash
# Side-by-side speed of sigil and sigstore-python 4.5.1 on the same real bundle and trusted root:
# whole-process wall time (median of N runs) and peak memory, and in-process bundles/s.
# Installs sigstore-python into .venv (PyPI) on first use, via scripts/install-interop-clients.sh.
# Usage: scripts/bench-compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
scripts/install-interop-clients.sh python
cargo build --quiet --release -p sigil-cli
cargo build --quiet --release -p sigil-examples --examples
exec .venv/bin/python scripts/bench_compare.py "$RUNS"
