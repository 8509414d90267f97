"""sigil sign-blob vs sigstore-python sign: end-to-end keyless signing against one local instance.

Run through scripts/bench-sign.sh (it builds sigil and installs sigstore==4.5.1 into .venv).

One `sigil serve --dev` (CA + CT log + Rekor v1/v2 + TSA + development OIDC issuer) serves both
clients; both read the instance's trust_config.json. For each Rekor version, the two clients take
turns (ABBA order, so drift hits both alike) signing the same 1 KiB file; before every timed run a
fresh identity token is minted with `sigil dev-token` (not timed), so the figure is what a CI job
pays per signature: process start, key generation, Fulcio certificate (CT-logged, fsync), TSA
timestamp (Rekor v2; sigstore-python also asks the TSA with Rekor v1 when the signing config lists
one), transparency-log entry (durable, fsync) and writing the bundle. One untimed warm-up run per
client and version comes first (page cache, Python bytecode cache).

SIGIL_ALT=/path/to/another/sigil adds that binary as a third client (e.g. a build with
AWS_LC_SYS_NO_JITTER_ENTROPY=1, see docs/ca-performance.md), timed in the same rotation.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIGIL = os.path.join(ROOT, "target", "release", "sigil")
SIGIL_ALT = os.environ.get("SIGIL_ALT")
EMAIL = "bench-sign@example.com"


def env():
    e = dict(os.environ)
    for v in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
              "SIGSTORE_ID_TOKEN", "SIGSTORE_IDENTITY_TOKEN"):
        e.pop(v, None)
    e["NO_PROXY"] = "127.0.0.1,localhost"
    return e


def provenance():
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
    return (f"sigil at commit {commit}; {cpu}, {os.cpu_count()} cores; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {' '.join(load)}")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    versions = (sys.argv[2] if len(sys.argv) > 2 else "1,2").split(",")
    work = tempfile.mkdtemp(prefix="sigil-bench-sign-")
    data = os.path.join(work, "data")
    artifact = os.path.join(work, "artifact.txt")
    with open(artifact, "wb") as f:
        f.write(os.urandom(512).hex().encode())
    server_log = open(os.path.join(work, "server.log"), "wb")
    server = subprocess.Popen([SIGIL, "serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir", data],
                              stdout=subprocess.PIPE, stderr=server_log, env=env())
    try:
        base = server.stdout.readline().decode().strip()
        if not base.startswith("http://"):
            sys.exit(f"sigil serve did not print its URL (got {base!r}); see {work}/server.log")
        trust_config = os.path.join(data, "trust_config.json")
        print(f"bench-sign: {provenance()}")
        print(f"bench-sign: sigil serve --dev at {base}; {runs} timed runs per client and Rekor version")

        def token():
            out = subprocess.run([SIGIL, "dev-token", "--data-dir", data, "--email", EMAIL],
                                 capture_output=True, text=True, check=True)
            return out.stdout.strip()

        counter = [0]

        def run(client, version):
            counter[0] += 1
            bundle = os.path.join(work, f"{client}-v{version}-{counter[0]}.sigstore.json")
            t = token()
            if client in ("sigil", "sigil-alt"):
                cmd = [SIGIL if client == "sigil" else SIGIL_ALT, "sign-blob", artifact, "--bundle", bundle, "--identity-token", t,
                       "--trust-config", trust_config, "--rekor-version", version]
            else:
                cmd = [sys.executable, "-m", "sigstore", "--trust-config", trust_config, "sign",
                       "--rekor-version", version, "--identity-token", t, "--bundle", bundle, artifact]
            start = time.perf_counter()
            proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env(), cwd=work)
            ms = (time.perf_counter() - start) * 1000
            if proc.returncode != 0 or not os.path.exists(bundle):
                sys.exit(f"{client} (Rekor v{version}) failed: {proc.stderr.decode()[-800:]}")
            return ms

        clients = ["sigil", "python"] + (["sigil-alt"] if SIGIL_ALT else [])
        names = {"sigil": "sigil sign-blob", "python": "sigstore-python 4.5.1 sign",
                 "sigil-alt": f"sigil sign-blob ({SIGIL_ALT})"}
        results = {}
        for v in versions:
            for client in clients:
                run(client, v)
            times = {c: [] for c in clients}
            for i in range(runs):
                order = clients if i % 2 == 0 else list(reversed(clients))
                for client in order:
                    times[client].append(run(client, v))
            results[v] = times

        print()
        print("| Rekor | client | median ms | min ms | max ms | runs |")
        print("|---|---|---|---|---|---|")
        for v, times in results.items():
            for client in clients:
                t, name = times[client], names[client]
                print(f"| v{v} | {name} | {statistics.median(t):.1f} | {min(t):.1f} | {max(t):.1f} | {len(t)} |")
        print()
        for v, times in results.items():
            s, p = statistics.median(times["sigil"]), statistics.median(times["python"])
            print(f"bench-sign: Rekor v{v}: sigil {s:.1f} ms, sigstore-python {p:.1f} ms: {p / s:.1f}x faster")
            if SIGIL_ALT:
                a = statistics.median(times["sigil-alt"])
                print(f"bench-sign: Rekor v{v}: {SIGIL_ALT} {a:.1f} ms: {p / a:.1f}x faster than sigstore-python")
        load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
        print(f"bench-sign: load average after the run {' '.join(load)}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
