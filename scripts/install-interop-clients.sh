#!/usr/bin/env bash
# Installs the real Sigstore clients the interop tests drive, pinned, into project-local folders:
#   .venv/         sigstore-python 4.5.1 (PyPI `sigstore==4.5.1`)
#   .interop/js/   sigstore-js: npm `sigstore` + `@sigstore/cli` (exact versions below)
#   .interop/js5/  sigstore-js 5.0.1 (npm `sigstore@5.0.1` only), whatever the Node version
# Idempotent: does nothing when the pinned versions are already there. Network use: PyPI and the npm
# registry only (through pip and npm). Used by `cargo xtask test` and scripts/bench-compare.sh.
#
# sigstore-js pins follow the Node version (INTEROP.md §3): sigstore 5.0.1 + @sigstore/cli 0.10.3 need
# Node ^22.22.2 || ^24.15.0 || >=26; on older Node (20.17+) we install sigstore 4.1.1 + @sigstore/cli 0.8.1.
#
# .interop/js5 always holds sigstore 5.0.1, because the private-instance interop test
# (crates/sigil-cli/tests/serve_interop.rs) requires exactly that release. Its `engines` field (Node ^22.22.2…)
# is advisory: the library installs and signs/verifies on Node 20 (checked by hand and by that test), so it is
# installed with --engine-strict=false. Only the library is installed there (its @sigstore/* dependencies are
# caret ranges resolved by npm: sign 5.1.x, verify 4.1.x, bundle 5.0.x, core 4.0.x at the time of writing);
# @sigstore/cli is not needed by that test. .interop/js stays as it is for log_interop.rs.
#
# Usage: scripts/install-interop-clients.sh [python|js|js5|all]   (default: all; js installs js and js5)
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT="${1:-all}"
PY_VERSION=4.5.1

install_python() {
  if [ -x .venv/bin/python ] &&
    .venv/bin/python -c "import sigstore, sys; sys.exit(sigstore.__version__ != '$PY_VERSION')" 2>/dev/null; then
    return 0
  fi
  echo "install-interop-clients: installing sigstore==$PY_VERSION into .venv" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet "sigstore==$PY_VERSION"
}

js_versions() {
  # Prints "SIGSTORE_VERSION CLI_VERSION" for the installed Node.
  node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    const modern = (maj === 22 && min >= 22) || (maj === 24 && min >= 15) || maj >= 26;
    console.log(modern ? "5.0.1 0.10.3" : "4.1.1 0.8.1");'
}

install_js() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "install-interop-clients: node and npm are required for the sigstore-js interop tests" >&2
    return 1
  fi
  local versions sig cli dir=.interop/js
  versions="$(js_versions)"
  sig="${versions% *}"
  cli="${versions#* }"
  if [ -f "$dir/node_modules/sigstore/package.json" ] && [ -f "$dir/node_modules/@sigstore/cli/package.json" ] &&
    node -e '
      const d = process.argv[1];
      const v = (p) => require(require("path").resolve(d, "node_modules", p, "package.json")).version;
      process.exit(v("sigstore") === process.argv[2] && v("@sigstore/cli") === process.argv[3] ? 0 : 1);' \
      "$dir" "$sig" "$cli"; then
    return 0
  fi
  echo "install-interop-clients: installing sigstore@$sig @sigstore/cli@$cli into $dir" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  # A private package.json so npm never walks up into anything else.
  printf '{"name":"sigil-interop-clients","private":true}\n' >"$dir/package.json"
  npm install --prefix "$dir" --save-exact --no-audit --no-fund --loglevel=error \
    "sigstore@$sig" "@sigstore/cli@$cli"
}

JS5_VERSION=5.0.1

install_js5() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "install-interop-clients: node and npm are required for the sigstore-js interop tests" >&2
    return 1
  fi
  local dir=.interop/js5
  if [ -f "$dir/node_modules/sigstore/package.json" ] &&
    node -e '
      const p = require("path").resolve(process.argv[1], "node_modules/sigstore/package.json");
      process.exit(require(p).version === process.argv[2] ? 0 : 1);' "$dir" "$JS5_VERSION"; then
    return 0
  fi
  echo "install-interop-clients: installing sigstore@$JS5_VERSION into $dir" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '{"name":"sigil-interop-clients-js5","private":true}\n' >"$dir/package.json"
  npm install --prefix "$dir" --save-exact --no-audit --no-fund --loglevel=error --engine-strict=false \
    "sigstore@$JS5_VERSION"
}

case "$WHAT" in
python) install_python ;;
js)
  install_js
  install_js5
  ;;
js5) install_js5 ;;
all)
  install_python
  install_js
  install_js5
  ;;
*)
  echo "usage: $0 [python|js|js5|all]" >&2
  exit 2
  ;;
esac
