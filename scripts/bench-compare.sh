#!/usr/bin/env bash
# Side-by-side speed of sigil and sigstore-python 4.5.1 on the same real bundle and trusted root:
# whole-process wall time (median of N runs) and peak memory, and in-process bundles/s.
# Installs sigstore-python into .venv (PyPI) on first use. Usage: scripts/bench-compare.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sigstore, sys; sys.exit(sigstore.__version__ != "4.5.1")' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet 'sigstore==4.5.1'
fi
cargo build --quiet --release -p sigil-cli
cargo build --quiet --release -p sigil-examples --examples
exec .venv/bin/python scripts/bench_compare.py "$RUNS"
