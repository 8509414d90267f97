"""sigil vs sigstore-python: whole-process and in-process verification of one real bundle.

Run through scripts/bench-compare.sh (it builds sigil and installs sigstore==4.5.1 into .venv).
The bundle is the conformance case happy-path-v0.3 (v0.3, Rekor v1 hashedrekord, public-good
instance); both tools use the same public-good trusted root (sigil's embedded copy and
sigstore-python's bundled one are the same file) and verify offline.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "..", "shared", "fixtures", "conformance", "bundle-verify")
CASE = os.path.join(CASES, "happy-path-v0.3")
BUNDLE = os.path.join(CASE, "bundle.sigstore.json")
ARTIFACT = os.path.join(CASES, "a.txt")
IDENTITY = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
            ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main")
ISSUER = "https://token.actions.githubusercontent.com"
SIGIL = os.path.join(ROOT, "target", "release", "sigil")
THROUGHPUT = os.path.join(ROOT, "target", "release", "examples", "verify_throughput")


def timed_runs(cmd, runs):
    """Median wall time (ms) of `runs` executions; each must succeed."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - start) * 1000)
        if proc.returncode != 0:
            sys.exit(f"{cmd[0]} failed: {proc.stderr.decode()[-500:]}")
    return statistics.median(times), min(times)


def peak_rss_mb(cmd):
    """Peak resident memory of one run, measured in a fresh child interpreter."""
    code = ("import resource,subprocess,sys;"
            "subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL,check=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1024


def python_in_process(n):
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    import logging
    logging.disable(logging.WARNING)
    verifier = Verifier.production(offline=True)
    data = open(BUNDLE).read()
    artifact = open(ARTIFACT, "rb").read()
    policy = Identity(identity=IDENTITY, issuer=ISSUER)
    verifier.verify_artifact(artifact, Bundle.from_json(data), policy)
    start = time.perf_counter()
    for _ in range(n):
        verifier.verify_artifact(artifact, Bundle.from_json(data), policy)
    return n / (time.perf_counter() - start)


def sigil_in_process(n, batch):
    args = [THROUGHPUT, CASE, str(n)] + (["--batch"] if batch else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    sigil_cmd = [SIGIL, "verify-bundle", "--bundle", BUNDLE, "--certificate-identity", IDENTITY,
                 "--certificate-oidc-issuer", ISSUER, ARTIFACT]
    py_cmd = [sys.executable, "-m", "sigstore", "verify", "identity", "--offline", "--bundle", BUNDLE,
              "--cert-identity", IDENTITY, "--cert-oidc-issuer", ISSUER, ARTIFACT]
    s_med, s_min = timed_runs(sigil_cmd, runs)
    p_med, p_min = timed_runs(py_cmd, max(10, runs // 2))
    s_rss, p_rss = peak_rss_mb(sigil_cmd), peak_rss_mb(py_cmd)
    py_ips = python_in_process(500)
    sg_single = statistics.median(sigil_in_process(3000, False) for _ in range(3))
    sg_batch = statistics.median(sigil_in_process(3000, True) for _ in range(3))
    result = {
        "bundle": "conformance happy-path-v0.3 (v0.3, Rekor v1 hashedrekord)",
        "whole_process_ms_median": {"sigil": round(s_med, 2), "sigstore-python": round(p_med, 1)},
        "whole_process_ms_min": {"sigil": round(s_min, 2), "sigstore-python": round(p_min, 1)},
        "whole_process_speedup": round(p_med / s_med, 1),
        "peak_rss_mb": {"sigil": round(s_rss, 1), "sigstore-python": round(p_rss, 1)},
        "in_process_bundles_per_s": {"sigil": round(sg_single), "sigil_batch": round(sg_batch),
                                     "sigstore-python": round(py_ips)},
        "in_process_speedup": round(sg_single / py_ips, 1),
        "in_process_batch_speedup": round(sg_batch / py_ips, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
