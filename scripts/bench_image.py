"""`sigil verify IMAGE` with 1, 10 and 100 attached signatures: does the time grow linearly, and stop at the cap?

Run through scripts/bench-image.sh (it builds sigil in release mode). One `sigil serve --dev` (Rekor v1 for the
legacy layout's signed entry timestamps) and one Debian docker-registry 2.8 on loopback. Three small images are
pushed over the registry API; one gets 1 signature, one 10 and one 100 (`sigil sign IMAGE --key`, each a real
signature with its own Rekor v1 entry), and a fourth gets 101 signatures written directly into its `.sig`
manifest (over the cap of 100: refused before any payload is fetched). Then `sigil verify IMAGE --key` runs
RUNS times per image, timed as whole processes; the table gives median, min and max.
"""

import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIGIL = os.path.join(ROOT, "target", "release", "sigil")


def env():
    e = dict(os.environ)
    for v in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        e.pop(v, None)
    e["NO_PROXY"] = "127.0.0.1,localhost"
    e["COSIGN_PASSWORD"] = "bench"
    e.pop("SIGIL_PASSWORD", None)
    return e


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req) as resp:
        return resp.status, dict(resp.headers), resp.read()


def push_blob(base, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _, headers, _ = http("POST", f"{base}/v2/{repo}/blobs/uploads/")
    location = headers["Location"]
    if location.startswith("/"):
        location = base + location
    sep = "&" if "?" in location else "?"
    http("PUT", f"{location}{sep}digest={digest}", data, {"Content-Type": "application/octet-stream"})
    return digest


def push_image(base, repo, tag, layer):
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": push_blob(base, repo, config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": push_blob(base, repo, layer), "size": len(layer)}],
    }
    body = json.dumps(manifest).encode()
    http("PUT", f"{base}/v2/{repo}/manifests/{tag}", body,
         {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    return "sha256:" + hashlib.sha256(body).hexdigest()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    work = tempfile.mkdtemp(prefix="sigil-bench-image-")
    procs = []
    try:
        port = free_port()
        with open(os.path.join(work, "registry.yml"), "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                    f"    rootdirectory: {work}/registry\nhttp:\n  addr: 127.0.0.1:{port}\n")
        procs.append(subprocess.Popen(["docker-registry", "serve", os.path.join(work, "registry.yml")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        server_log = open(os.path.join(work, "server.log"), "wb")
        server = subprocess.Popen([SIGIL, "serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir",
                                   os.path.join(work, "instance")],
                                  stdout=subprocess.PIPE, stderr=server_log, env=env())
        procs.append(server)
        server.stdout.readline()
        host = f"127.0.0.1:{port}"
        base = f"http://{host}"
        for _ in range(200):
            try:
                http("GET", f"{base}/v2/")
                break
            except OSError:
                time.sleep(0.05)
        trust_config = os.path.join(work, "instance", "trust_config.json")
        trusted_root = os.path.join(work, "instance", "trusted_root.json")
        subprocess.run([SIGIL, "generate-key-pair", "--output-key-prefix", os.path.join(work, "k")],
                       check=True, env=env(), capture_output=True)
        images = {}
        for n in (1, 10, 100):
            digest = push_image(base, "bench/app", f"n{n}", f"layer {n}".encode())
            image = f"{host}/bench/app@{digest}"
            for _ in range(n):
                # The legacy layout: one `.sig` manifest whose layers the cap counts (the default is a referrer).
                subprocess.run([SIGIL, "sign", image, "--key", os.path.join(work, "k.key"),
                                "--new-bundle-format=false", "--trust-config", trust_config],
                               check=True, env=env(), capture_output=True)
            images[n] = image
        # Over the cap: the 100-signature manifest with one layer more, under the .sig tag of a fourth image.
        d100 = images[100].split("@")[1]
        _, _, sig100 = http("GET", f"{base}/v2/bench/app/manifests/{d100.replace(':', '-')}.sig", None,
                            {"Accept": "application/vnd.oci.image.manifest.v1+json"})
        m = json.loads(sig100)
        m["layers"].append(m["layers"][0])
        d101 = push_image(base, "bench/app", "n101", b"layer 101")
        http("PUT", f"{base}/v2/bench/app/manifests/{d101.replace(':', '-')}.sig", json.dumps(m).encode(),
             {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        images[101] = f"{host}/bench/app@{d101}"

        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        print(f"bench-image: sigil at {commit}; {os.cpu_count()} cores; load average {load}; {runs} runs each")
        print()
        print("| signatures attached | verified | median ms | min ms | max ms | ms per signature (median) |")
        print("|---|---|---|---|---|---|")
        for n, image in images.items():
            times = []
            outcome = ""
            for _ in range(runs):
                t = time.perf_counter()
                r = subprocess.run([SIGIL, "verify", image, "--key", os.path.join(work, "k.pub"),
                                    "--trusted-root", trusted_root], env=env(), capture_output=True, text=True)
                times.append((time.perf_counter() - t) * 1000)
                if n <= 100 and r.returncode != 0:
                    sys.exit(f"verify of {n} signatures failed: {r.stderr}")
                if n > 100 and r.returncode == 0:
                    sys.exit("verify of 101 signatures succeeded: the cap is not enforced")
                outcome = r.stdout.splitlines()[0].split(": ", 1)[-1] if r.returncode == 0 else "refused (over the cap)"
            med = statistics.median(times)
            print(f"| {n} | {outcome} | {med:.1f} | {min(times):.1f} | {max(times):.1f} | {med / n:.2f} |")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
