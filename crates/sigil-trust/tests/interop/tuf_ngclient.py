"""Runs python-tuf's ngclient Updater (an independent TUF client) against a repository directory that sigil's
writer produced, without a server: a fetcher maps http://tuf.invalid/<path> to REPO/<path>.

Usage: python tuf_ngclient.py REPO BOOTSTRAP_ROOT METADATA_DIR TARGET_DIR NAME...
METADATA_DIR persists between runs (root.json there, once present, is the trusted root), so successive runs
exercise updates (root rotation, new versions) from python-tuf's own cached state.
Prints one JSON object: the versions python-tuf trusts and the SHA-256 of every target it downloaded.
"""
import hashlib, json, os, sys, urllib.parse

from tuf.api.exceptions import DownloadHTTPError
from tuf.api.metadata import Metadata
from tuf.ngclient import Updater
from tuf.ngclient.fetcher import FetcherInterface

BASE = "http://tuf.invalid/"


class DirFetcher(FetcherInterface):
    def __init__(self, root):
        self.root = os.path.realpath(root)

    def _fetch(self, url):
        if not url.startswith(BASE):
            raise DownloadHTTPError(f"unexpected URL {url}", 404)
        rel = urllib.parse.unquote(url[len(BASE):])
        path = os.path.realpath(os.path.join(self.root, rel))
        if not path.startswith(self.root + os.sep) or not os.path.isfile(path):
            raise DownloadHTTPError(f"{url}: not found", 404)
        with open(path, "rb") as f:
            return iter([f.read()])


def main():
    repo, bootstrap, metadata_dir, target_dir, *names = sys.argv[1:]
    os.makedirs(metadata_dir, exist_ok=True)
    os.makedirs(target_dir, exist_ok=True)
    boot = None
    if not os.path.exists(os.path.join(metadata_dir, "root.json")):
        with open(bootstrap, "rb") as f:
            boot = f.read()
    updater = Updater(metadata_dir, BASE, target_dir, BASE + "targets/", DirFetcher(repo), bootstrap=boot)
    updater.refresh()
    files = {}
    for name in names:
        info = updater.get_targetinfo(name)
        if info is None:
            raise SystemExit(f"target {name} not found")
        path = updater.download_target(info, os.path.join(target_dir, name.replace("/", "_")))
        with open(path, "rb") as f:
            files[name] = hashlib.sha256(f.read()).hexdigest()
    versions = {}
    for role in ("root", "timestamp", "snapshot", "targets"):
        versions[role] = Metadata.from_file(os.path.join(metadata_dir, f"{role}.json")).signed.version
    print(json.dumps({"versions": versions, "files": files}))


if __name__ == "__main__":
    main()
