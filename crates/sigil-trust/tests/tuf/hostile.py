#!/usr/bin/env python3
"""Hostile (and benign control) TUF repositories for sigil's TUF client tests.

The repositories are built with python-tuf (an implementation independent of sigil) so that sigil's
client is tested against metadata it did not write itself. See README.md next to this file for the
on-disk format and the meaning of each scenario.

    python hostile.py OUTDIR           write OUTDIR/<scenario>/... and OUTDIR/index.json
    python hostile.py --check OUTDIR   same, then drive python-tuf's ngclient through every scenario
                                       and assert it reaches the expected outcome

Needs python-tuf 7.x and securesystemslib 1.x (the venv made by scripts/install-interop-clients.sh).
No network: --check serves the files to python-tuf through a fetcher that reads the step directory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, Signer, SSlibKey
from tuf.api import exceptions as tuf_exc
from tuf.api.metadata import DelegatedRole, Delegations, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization import DeserializationError
from tuf.ngclient import FetcherInterface, Updater

# The keytype "ecdsa-sha2-nistp256" (used on purpose in U-03) is deprecated in securesystemslib.
warnings.simplefilter("ignore", DeprecationWarning)

NOW = datetime.now(timezone.utc).replace(microsecond=0)
FUTURE = NOW + timedelta(days=365)
PAST = NOW - timedelta(days=1)
TOP_LEVEL = ("root", "timestamp", "snapshot", "targets")
MIB = 1 << 20

# Stand-ins for the two files Sigstore distributes over TUF; only their bytes/sha256 matter here.
TRUSTED_ROOT = (
    json.dumps(
        {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [],
            "certificateAuthorities": [],
            "ctlogs": [],
            "timestampAuthorities": [],
        },
        indent=2,
    )
    + "\n"
).encode()
SIGNING_CONFIG = (
    json.dumps(
        {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [],
            "oidcUrls": [],
            "rekorTlogUrls": [],
            "tsaUrls": [],
        },
        indent=2,
    )
    + "\n"
).encode()


# ---------------------------------------------------------------------------------------------------
# Signing and serialisation helpers


def ed25519() -> CryptoSigner:
    return CryptoSigner.generate_ed25519()


def ecdsa() -> CryptoSigner:
    return CryptoSigner.generate_ecdsa()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(obj: object) -> bytes:
    return encode_canonical(obj).encode("utf-8")


def keyid_of(key_dict: dict) -> str:
    # The TUF convention (sha256 of the canonical key); python-tuf itself no longer checks it.
    return sha256(canonical(key_dict))


def ids(*signers: Signer) -> list[tuple[str, Signer]]:
    return [(s.public_key.keyid, s) for s in signers]


def envelope(signed: dict, signers: list[tuple[str, Signer]]) -> dict:
    """Sign the canonical form of `signed`; (keyid, signer) pairs let a key sign under a foreign key ID."""
    payload = canonical(signed)
    return {"signatures": [{"keyid": kid, "sig": s.sign(payload).signature} for kid, s in signers], "signed": signed}


def dump(doc: object) -> bytes:
    # Same layout as python-tuf's non-compact JSONSerializer; hashes/lengths are taken from these bytes.
    return (json.dumps(doc, indent=1, sort_keys=True, separators=(",", ": ")) + "\n").encode()


def role_file(role: str, version: int) -> str:
    # Role names are percent-encoded like python-tuf does (matters only for the hostile "../evil").
    return f"{version}.{quote(role, safe='')}.json"


def blob_file(name: str, data: bytes) -> str:
    """Consistent-snapshot target path: the hash prefixes the last path component."""
    dirname, sep, base = name.rpartition("/")
    return f"targets/{dirname}{sep}{sha256(data)}.{base}"


# ---------------------------------------------------------------------------------------------------
# A small in-memory repository


class Repo:
    """Current state of a repository; `publish()` renders it as a mirror (relative path -> bytes).

    Scenarios mutate the state between publishes (bump versions, rotate keys) and edit the rendered
    dicts for hostile variants, so that every hostile file is otherwise a valid, signed repository.
    """

    def __init__(self, root_keys: list[Signer] | None = None, root_threshold: int = 1):
        self.signers: dict[str, Signer] = {}
        self.root = Root(expires=FUTURE, consistent_snapshot=True)
        # Sigstore's real roots use ECDSA P-256 root keys; the other roles use ed25519 by default.
        self.set_keys("root", root_keys or [ecdsa()], root_threshold)
        for role in ("timestamp", "snapshot", "targets"):
            self.set_keys(role, [ed25519()])
        self.timestamp = Timestamp(expires=FUTURE)
        self.snapshot = Snapshot(expires=FUTURE)
        self.roles: dict[str, Targets] = {"targets": Targets(expires=FUTURE)}
        self.parent: dict[str, str] = {}
        self.blobs: dict[str, bytes] = {}
        self.roots: list[bytes] = []
        self._released_root_keyids: list[str] = []
        # Which of length/hashes the timestamp records for snapshot.json, and snapshot for targets roles
        # (the version is always recorded). Scenarios override these where a check depends on them.
        self.timestamp_meta: set[str] = {"length", "hashes"}
        self.snapshot_meta: set[str] = set()

    # keys and roles

    def set_keys(self, role: str, signers: list[Signer], threshold: int = 1) -> None:
        for kid in list(self.root.roles[role].keyids):
            self.root.revoke_key(kid, role)
        for s in signers:
            self.add_root_key(role, s.public_key, s)
        self.root.roles[role].threshold = threshold

    def add_root_key(self, role: str, key: SSlibKey, signer: Signer) -> None:
        self.signers[key.keyid] = signer
        self.root.add_key(key, role)

    def delegate(
        self,
        parent: str,
        name: str,
        paths: list[str] | None = None,
        terminating: bool = False,
        signers: list[Signer] | None = None,
    ) -> None:
        delegator = self.roles[parent]
        if delegator.delegations is None:
            delegator.delegations = Delegations(keys={}, roles={})
        delegator.delegations.roles[name] = DelegatedRole(name, [], 1, terminating, paths or ["*"])
        for s in signers or [ed25519()]:
            self.signers[s.public_key.keyid] = s
            delegator.add_key(s.public_key, name)
        self.roles[name] = Targets(expires=FUTURE)
        self.parent[name] = parent

    def drop_delegation(self, name: str) -> None:
        delegator = self.roles[self.parent.pop(name)]
        assert delegator.delegations is not None
        del delegator.delegations.roles[name]
        if not delegator.delegations.roles:
            delegator.delegations = None
        del self.roles[name]

    def add_target(self, name: str, data: bytes, role: str = "targets") -> None:
        self.roles[role].targets[name] = TargetFile.from_data(name, data, ["sha256"])
        self.blobs[blob_file(name, data)] = data

    def role_signers(self, role: str) -> list[tuple[str, Signer]]:
        if role in TOP_LEVEL:
            keyids = self.root.roles[role].keyids
        else:
            delegations = self.roles[self.parent[role]].delegations
            assert delegations is not None and delegations.roles is not None
            keyids = delegations.roles[role].keyids
        return [(kid, self.signers[kid]) for kid in keyids]

    def signed(self, role: str) -> Root | Timestamp | Snapshot | Targets:
        return {"root": self.root, "timestamp": self.timestamp, "snapshot": self.snapshot}.get(role) or self.roles[role]

    # versions

    def bump(self, *roles: str) -> None:
        for role in roles:
            self.signed(role).version += 1

    def bump_all(self) -> None:
        self.bump("timestamp", "snapshot", *self.roles)

    # rendering

    def root_bytes(self, signers: list[tuple[str, Signer]] | None = None) -> bytes:
        """Root at its current version, signed (by default) by the last released and the new root keys."""
        if signers is None:
            kids = self._released_root_keyids + [
                k for k in self.root.roles["root"].keyids if k not in self._released_root_keyids
            ]
            signers = [(k, self.signers[k]) for k in kids]
        return dump(envelope(self.root.to_dict(), signers))

    def release_root(self) -> bytes:
        self.root.version = len(self.roots) + 1
        data = self.root_bytes()
        self.roots.append(data)
        self._released_root_keyids = list(self.root.roles["root"].keyids)
        return data

    def sign(self, role: str, signers: list[tuple[str, Signer]] | None = None) -> bytes:
        return dump(envelope(self.signed(role).to_dict(), signers or self.role_signers(role)))

    def variant(self, role: str, mutate: Callable[[dict], object]) -> bytes:
        """The role's current metadata with `mutate` applied to its signed dict, validly re-signed."""
        signed = self.signed(role).to_dict()
        mutate(signed)
        return dump(envelope(signed, self.role_signers(role)))

    @staticmethod
    def metafile(version: int, data: bytes, fields: set[str]) -> MetaFile:
        return MetaFile(
            version,
            len(data) if "length" in fields else None,
            {"sha256": sha256(data)} if "hashes" in fields else None,
        )

    def sign_timestamp_for(self, snapshot_data: bytes) -> bytes:
        version = json.loads(snapshot_data)["signed"]["version"]
        self.timestamp.snapshot_meta = self.metafile(version, snapshot_data, self.timestamp_meta)
        return self.sign("timestamp")

    def publish(self) -> dict[str, bytes]:
        files = {f"{v}.root.json": data for v, data in enumerate(self.roots, start=1)}
        self.snapshot.meta = {}
        for name, targets in self.roles.items():
            data = self.sign(name)
            files[role_file(name, targets.version)] = data
            self.snapshot.meta[f"{name}.json"] = self.metafile(targets.version, data, self.snapshot_meta)
        snapshot = self.sign("snapshot")
        files[f"{self.snapshot.version}.snapshot.json"] = snapshot
        files["timestamp.json"] = self.sign_timestamp_for(snapshot)
        files.update(self.blobs)
        return files


# ---------------------------------------------------------------------------------------------------
# Scenario model


@dataclass
class Deviation:
    """Where python-tuf 7.0.1 does not do what sigil must do; --check asserts this instead.

    outcome None means: run python-tuf and report what it did, but assert nothing about the outcome
    except that it got at least to `min_stage` (so the repository is known to be valid up to there).
    """

    why: str
    outcome: str | None = None
    error: str | None = None
    trusted: dict[str, int | None] | None = None
    min_stage: str | None = None


@dataclass
class Step:
    files: dict[str, bytes]
    outcome: str = "ok"
    error: str | None = None
    target: str | None = None
    target_data: bytes | None = None
    trusted: dict[str, int | None] | None = None
    pytuf: Deviation | None = None

    def expect(self) -> dict:
        out: dict = {"outcome": self.outcome}
        if self.error is not None:
            out["error"] = self.error
        if self.target is not None:
            out["target"] = self.target
            if self.outcome == "ok":
                assert self.target_data is not None
                out["target_sha256"] = sha256(self.target_data)
        if self.trusted is not None:
            out["trusted_versions"] = self.trusted
        return out


@dataclass
class Scenario:
    name: str
    id: str
    title: str
    bootstrap: bytes
    steps: list[Step]
    notes: str = ""


SCENARIOS: list[Callable[[], Scenario | list[Scenario]]] = []


def scenario(fn: Callable[[], Scenario | list[Scenario]]) -> Callable[[], Scenario | list[Scenario]]:
    SCENARIOS.append(fn)
    return fn


def trusted(root: int, timestamp: int | None, snapshot: int | None, targets: int | None) -> dict[str, int | None]:
    return {"root": root, "timestamp": timestamp, "snapshot": snapshot, "targets": targets}


# Nothing but the root may be trusted (the step failed while updating root or timestamp).
ONLY_ROOT_1 = trusted(1, None, None, None)


def simple_repo(name: str = "t.txt", data: bytes = b"target\n") -> Repo:
    repo = Repo()
    repo.add_target(name, data)
    return repo


# ---------------------------------------------------------------------------------------------------
# Benign controls


@scenario
def good() -> Scenario:
    a, b, c = ecdsa(), ed25519(), ed25519()
    repo = Repo(root_keys=[a, b, c], root_threshold=2)
    repo.add_target("trusted_root.json", TRUSTED_ROOT)
    repo.delegate("targets", "sigstore-config", paths=["signing_config*"])
    repo.add_target("signing_config.v0.2.json", SIGNING_CONFIG, role="sigstore-config")
    bootstrap = repo.release_root()
    d = ed25519()
    repo.set_keys("root", [a, b, d], 2)
    repo.set_keys("timestamp", [ed25519()])
    repo.release_root()
    repo.set_keys("root", [ecdsa(), b, d], 2)
    repo.set_keys("snapshot", [ed25519()])
    repo.set_keys("targets", [ed25519()])
    repo.release_root()
    repo.snapshot_meta = {"length", "hashes"}
    mirror = repo.publish()
    return Scenario(
        "good",
        "control",
        "root rotation 1->2->3 with key changes, a delegated role, two Sigstore-like targets",
        bootstrap,
        [
            Step(mirror, target="trusted_root.json", target_data=TRUSTED_ROOT, trusted=trusted(3, 1, 1, 1)),
            Step(
                mirror,
                target="signing_config.v0.2.json",
                target_data=SIGNING_CONFIG,
                trusted=trusted(3, 1, 1, 1),
            ),
        ],
        "Root threshold 2 of 3 (one ECDSA P-256 key, two ed25519). v2 replaces a root key and the timestamp "
        "key; v3 replaces the ECDSA root key and the snapshot and targets keys. signing_config.v0.2.json "
        "lives in the delegated role 'sigstore-config' (paths ['signing_config*']). Step 2 serves the same "
        "mirror again: an unchanged repository must refresh cleanly from the cache.",
    )


@scenario
def good_rotation() -> Scenario:
    repo = simple_repo("trusted_root.json", TRUSTED_ROOT)
    bootstrap = repo.release_root()
    step1 = repo.publish()
    repo.set_keys("timestamp", [ed25519()])
    repo.release_root()
    repo.set_keys("snapshot", [ed25519()])
    repo.release_root()
    repo.bump("timestamp", "snapshot")
    step2 = repo.publish()
    return Scenario(
        "good_rotation",
        "control",
        "root 1 -> 3 one version at a time while the timestamp and snapshot keys rotate",
        bootstrap,
        [
            Step(step1, target="trusted_root.json", target_data=TRUSTED_ROOT, trusted=trusted(1, 1, 1, 1)),
            Step(step2, target="trusted_root.json", target_data=TRUSTED_ROOT, trusted=trusted(3, 2, 2, 1)),
        ],
        "Step 2 adds 2.root.json (new timestamp key) and 3.root.json (new snapshot key); timestamp and "
        "snapshot v2 are signed by the new keys, targets stays v1.",
    )


@scenario
def good_ff_recovery() -> Scenario:
    repo = simple_repo("trusted_root.json", TRUSTED_ROOT)
    bootstrap = repo.release_root()
    repo.timestamp.version, repo.snapshot.version, repo.roles["targets"].version = 3, 3, 2
    step1 = repo.publish()
    repo.set_keys("timestamp", [ed25519()])
    repo.set_keys("snapshot", [ed25519()])
    repo.release_root()
    repo.timestamp.version = 1
    repo.snapshot.version = 1
    step2 = repo.publish()
    return Scenario(
        "good_ff_recovery",
        "control",
        "fast-forward recovery: after the timestamp and snapshot keys rotate, lower versions are accepted",
        bootstrap,
        [
            Step(step1, target="trusted_root.json", target_data=TRUSTED_ROOT, trusted=trusted(1, 3, 3, 2)),
            Step(step2, target="trusted_root.json", target_data=TRUSTED_ROOT, trusted=trusted(2, 1, 1, 2)),
        ],
        "Benign counterpart of U-05. TUF spec 5.3.11: when root rotates the timestamp and/or snapshot keys "
        "the client deletes its trusted timestamp and snapshot, so timestamp v1/snapshot v1 signed by the "
        "new keys replace v3/v3. targets stays v2 (its key did not change).",
    )


# ---------------------------------------------------------------------------------------------------
# U-01 root versions must be sequential


@scenario
def u01() -> list[Scenario]:
    k1, k2, k3 = ecdsa(), ecdsa(), ecdsa()
    repo = simple_repo()
    repo.set_keys("root", [k1])
    bootstrap = repo.release_root()
    repo.set_keys("root", [k2])
    repo.release_root()
    repo.set_keys("root", [k3])
    for role in ("timestamp", "snapshot", "targets"):
        repo.set_keys(role, [ed25519()])
    repo.root.version = 3
    v3 = repo.root_bytes(ids(k1, k2, k3))
    gap = repo.publish()
    gap.pop("2.root.json")
    gap["3.root.json"] = v3

    repo2 = simple_repo()
    j1, j3 = ecdsa(), ecdsa()
    repo2.set_keys("root", [j1])
    bootstrap2 = repo2.release_root()
    repo2.set_keys("root", [j3])
    repo2.root.version = 3
    mislabelled = repo2.publish()
    mislabelled["2.root.json"] = repo2.root_bytes(ids(j1, j3))
    return [
        Scenario(
            "u01_root_gap",
            "U-01",
            "trusted root 1, server has 1.root.json and 3.root.json but no 2.root.json",
            bootstrap,
            [Step(gap, "reject", "threshold", trusted=ONLY_ROOT_1)],
            "3.root.json is signed by the v1, v2 and v3 root keys; timestamp/snapshot/targets are signed by "
            "v3's keys, which v1 does not know. The client must end the root update at the 404 for "
            "2.root.json (never jump to 3) and then fail the timestamp signature threshold under root v1.",
        ),
        Scenario(
            "u01_root_version_in_wrong_file",
            "U-01",
            "2.root.json contains root version 3",
            bootstrap2,
            [Step(mislabelled, "reject", "root_version", trusted=ONLY_ROOT_1)],
            "The file served as 2.root.json is a version-3 root signed by both the old and the new root "
            "keys; the version inside must be exactly trusted+1.",
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# U-02 new root must be signed by a threshold of the old and of the new root keys


def _u02(name: str, signed_by: str) -> Scenario:
    old, new = ecdsa(), ecdsa()
    repo = simple_repo()
    repo.set_keys("root", [old])
    bootstrap = repo.release_root()
    repo.set_keys("root", [new])
    repo.root.version = 2
    bad = repo.root_bytes(ids(new if signed_by == "new" else old))
    repo.release_root()
    good_mirror = repo.publish()
    hostile = {**good_mirror, "2.root.json": bad}
    missing = "old" if signed_by == "new" else "new"
    return Scenario(
        name,
        "U-02",
        f"2.root.json signed only by the {signed_by} root key, then a correct 2.root.json",
        bootstrap,
        [
            Step(hostile, "reject", "threshold", trusted=ONLY_ROOT_1),
            Step(good_mirror, target="t.txt", target_data=b"target\n", trusted=trusted(2, 1, 1, 1)),
        ],
        f"Root v2 replaces the root key. Step 1 lacks the {missing} key's signature; step 2 serves the "
        "same root v2 correctly signed by both. Step 2 succeeding shows the rejected root was not persisted "
        "(a client that cached it would fail or keep a root it must not trust).",
    )


@scenario
def u02() -> list[Scenario]:
    return [_u02("u02_root_not_signed_by_old", "new"), _u02("u02_root_not_signed_by_new", "old")]


# ---------------------------------------------------------------------------------------------------
# U-03 a threshold counts distinct keys


def _u03_repo(keys: list[tuple[SSlibKey, Signer]]) -> Repo:
    repo = simple_repo()
    repo.set_keys("timestamp", [])
    for key, signer in keys:
        repo.add_root_key("timestamp", key, signer)
    repo.root.roles["timestamp"].threshold = 2
    return repo


@scenario
def u03() -> list[Scenario]:
    # (a) one key, its signature listed twice
    k1, k2 = ed25519(), ed25519()
    repo = _u03_repo([(k1.public_key, k1), (k2.public_key, k2)])
    boot_a = repo.release_root()
    dup = repo.publish()
    dup["timestamp.json"] = dump(envelope(repo.timestamp.to_dict(), ids(k1, k1)))

    # (b) one ed25519 public key under two key IDs
    k = ed25519()
    alias = SSlibKey(sha256(b"alias:" + k.public_key.keyid.encode()), "ed25519", "ed25519", dict(k.public_key.keyval))
    repo = _u03_repo([(k.public_key, k), (alias, k)])
    boot_b = repo.release_root()
    two_ids = repo.publish()

    # (c) one ECDSA key in its current ("ecdsa") and legacy ("ecdsa-sha2-nistp256") keytype encodings
    e = ecdsa()
    legacy = dict(e.public_key.to_dict(), keytype="ecdsa-sha2-nistp256")
    legacy_key = SSlibKey.from_dict(keyid_of(legacy), dict(legacy))
    repo = _u03_repo([(e.public_key, e), (legacy_key, e)])
    boot_c = repo.release_root()
    two_enc = repo.publish()

    counts_ids = (
        "python-tuf 7.0.1 counts distinct key IDs, not distinct keys, so it accepts this timestamp. "
        "sigil must count the key once and fail the threshold."
    )
    pytuf_accepts = Deviation(counts_ids, "ok", None, trusted(1, 1, 1, 1))
    return [
        Scenario(
            "u03_duplicate_signature",
            "U-03",
            "timestamp threshold 2: the same key's signature listed twice",
            boot_a,
            [
                Step(
                    dup,
                    "reject",
                    "threshold",
                    trusted=ONLY_ROOT_1,
                    pytuf=Deviation(
                        "python-tuf refuses the file while parsing ('Multiple signatures found for keyid')",
                        "reject",
                        "bad_metadata",
                    ),
                )
            ],
            "Root v1 lists two timestamp keys with threshold 2; timestamp.json carries two identical "
            "signature entries from one of them. Must count as one signature. python-tuf rejects it earlier, "
            "as malformed (duplicate key ID in signatures); a client doing the same is also safe but the "
            "harness expects 'threshold'.",
        ),
        Scenario(
            "u03_same_key_two_keyids",
            "U-03",
            "timestamp threshold 2: one ed25519 key listed in root under two key IDs",
            boot_b,
            [Step(two_ids, "reject", "threshold", trusted=ONLY_ROOT_1, pytuf=pytuf_accepts)],
            "root.keys maps two key IDs (the usual sha256 key ID and an arbitrary one) to the same public "
            "key; both are the timestamp role's keys, threshold 2, and timestamp.json has a (valid) signature "
            "under each ID. " + counts_ids,
        ),
        Scenario(
            "u03_same_key_two_encodings",
            "U-03",
            "timestamp threshold 2: one ECDSA key listed as keytype 'ecdsa' and as 'ecdsa-sha2-nistp256'",
            boot_c,
            [Step(two_enc, "reject", "threshold", trusted=ONLY_ROOT_1, pytuf=pytuf_accepts)],
            "Both entries carry the same PEM public key (scheme ecdsa-sha2-nistp256) and have different key "
            "IDs because the keytype differs; timestamp.json has two distinct valid ECDSA signatures, one "
            "under each ID. " + counts_ids,
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# U-04 thresholds below 1


def _u04_delegation(name: str, threshold: int) -> Scenario:
    repo = Repo()
    repo.delegate("targets", "A")
    repo.add_target("x", b"x\n", role="A")
    bootstrap = repo.release_root()
    mirror = repo.publish()

    def set_threshold(signed: dict) -> None:
        signed["delegations"]["roles"][0]["threshold"] = threshold

    mirror[role_file("targets", 1)] = repo.variant("targets", set_threshold)
    return Scenario(
        name,
        "U-04",
        f"targets.json delegates role A with threshold {threshold}",
        bootstrap,
        [Step(mirror, "reject", "bad_metadata", target="x", trusted={"root": 1, "targets": None})],
        "targets.json is validly signed; only the delegation's threshold is invalid (python-tuf cannot "
        "even build it, so the JSON was edited and re-signed). A threshold below 1 would let unsigned "
        "role A metadata through; the whole targets.json must be refused.",
    )


@scenario
def u04() -> list[Scenario]:
    repo = simple_repo()
    bootstrap = repo.release_root()
    repo.root.version = 2
    root2 = repo.root.to_dict()
    root2["roles"]["timestamp"]["threshold"] = 0
    mirror = repo.publish()
    mirror["2.root.json"] = dump(envelope(root2, repo.role_signers("root")))
    return [
        _u04_delegation("u04_delegation_threshold_zero", 0),
        _u04_delegation("u04_delegation_threshold_negative", -1),
        Scenario(
            "u04_root_role_threshold_zero",
            "U-04",
            "2.root.json gives the timestamp role threshold 0",
            bootstrap,
            [Step(mirror, "reject", "bad_metadata", trusted=ONLY_ROOT_1)],
            "2.root.json is signed by the (unchanged) root key; its timestamp role has threshold 0.",
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# U-05 rollback (and the helpers U-07 shares)


def _two_versions() -> tuple[Repo, bytes, dict[str, bytes], dict[str, bytes]]:
    """A repository at version 1 everywhere and the same at version 2 (the trusted state of step 1)."""
    repo = simple_repo()
    bootstrap = repo.release_root()
    v1 = repo.publish()
    repo.bump_all()
    v2 = repo.publish()
    return repo, bootstrap, v1, v2


def _good_v2(mirror: dict[str, bytes]) -> Step:
    return Step(mirror, target="t.txt", target_data=b"target\n", trusted=trusted(1, 2, 2, 2))


@scenario
def u05() -> list[Scenario]:
    _, boot_ts, v1_ts, v2_ts = _two_versions()

    repo, boot_snap, v1, v2 = _two_versions()
    old_snapshot = v1["1.snapshot.json"]
    snap_rollback = {**v2, "1.snapshot.json": old_snapshot, "1.targets.json": v1["1.targets.json"]}
    repo.timestamp.version = 3
    snap_rollback["timestamp.json"] = repo.sign_timestamp_for(old_snapshot)

    repo, boot_tgt, v1t, v2t = _two_versions()
    tgt_rollback = {**v2t, "1.targets.json": v1t["1.targets.json"]}
    repo.snapshot.version = 3
    repo.snapshot.meta["targets.json"] = MetaFile(1)
    snapshot3 = repo.sign("snapshot")
    repo.timestamp.version = 3
    tgt_rollback["3.snapshot.json"] = snapshot3
    tgt_rollback["timestamp.json"] = repo.sign_timestamp_for(snapshot3)

    # Only the timestamp moves (v1 -> v2, both naming snapshot v1), so nothing but the timestamp's own
    # version can show the rollback.
    repo = simple_repo()
    boot_tsv = repo.release_root()
    ts_v1 = repo.publish()
    repo.timestamp.version = 2
    ts_v2 = {**ts_v1, "timestamp.json": repo.sign_timestamp_for(ts_v1["1.snapshot.json"])}

    return [
        Scenario(
            "u05_timestamp_rollback_same_snapshot",
            "U-05",
            "trusted timestamp v2, server serves timestamp v1 naming the same snapshot",
            boot_tsv,
            [
                Step(ts_v2, target="t.txt", target_data=b"target\n", trusted=trusted(1, 2, 1, 1)),
                Step(ts_v1, "reject", "rollback", trusted=trusted(1, 2, 1, 1)),
            ],
            "Both timestamps name snapshot v1, so the snapshot-version check cannot see the rollback; only "
            "the timestamp version comparison (TUF 5.4.3.1) refuses it.",
        ),
        Scenario(
            "u05_timestamp_rollback",
            "U-05",
            "trusted timestamp v2, server serves timestamp v1",
            boot_ts,
            [_good_v2(v2_ts), Step(v1_ts, "reject", "rollback", trusted=trusted(1, 2, 2, 2))],
            "Step 2 is the complete, validly signed version-1 repository.",
        ),
        Scenario(
            "u05_snapshot_rollback",
            "U-05",
            "trusted snapshot v2, a new timestamp v3 names snapshot v1",
            boot_snap,
            [_good_v2(v2), Step(snap_rollback, "reject", "rollback", trusted=trusted(1, 2, 2, 2))],
            "Timestamp v3 is validly signed and points at the old 1.snapshot.json (length and hash match). "
            "TUF 5.4.3.2: the timestamp itself is refused because its snapshot version went down, so the "
            "trusted timestamp stays v2.",
        ),
        Scenario(
            "u05_targets_rollback",
            "U-05",
            "trusted targets v2, a new snapshot v3 lists targets.json version 1",
            boot_tgt,
            [_good_v2(v2t), Step(tgt_rollback, "reject", "rollback", trusted={"root": 1, "snapshot": 2, "targets": 2})],
            "Timestamp v3 -> snapshot v3 (valid) whose meta lowers targets.json from 2 to 1; the old "
            "1.targets.json is served. The rollback shows in the snapshot (TUF 5.5.5), so snapshot v3 is "
            "refused. Timestamp v3 itself is valid: whether it is kept is not checked.",
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# U-06 snapshot must keep every role it listed, at no lower version


@scenario
def u06() -> list[Scenario]:
    data = b"delegated\n"
    repo = Repo()
    repo.delegate("targets", "A", paths=["a/*"])
    repo.add_target("a/x.txt", data, role="A")
    boot_drop = repo.release_root()
    drop1 = repo.publish()
    repo.bump("timestamp", "snapshot", "targets")
    repo.drop_delegation("A")
    drop2 = repo.publish()

    repo = Repo()
    repo.delegate("targets", "A", paths=["a/*"])
    repo.add_target("a/x.txt", data, role="A")
    boot_lower = repo.release_root()
    repo.publish()
    repo.bump_all()
    lower2 = repo.publish()
    repo.bump("timestamp", "snapshot", "targets")
    repo.roles["A"].version = 1
    lower3 = repo.publish()

    return [
        Scenario(
            "u06_snapshot_drops_role",
            "U-06",
            "new snapshot no longer lists the delegated role A.json",
            boot_drop,
            [
                Step(drop1, target="a/x.txt", target_data=data, trusted=trusted(1, 1, 1, 1)),
                Step(drop2, "reject", "delegation_dropped", trusted={"root": 1, "snapshot": 1, "targets": 1}),
            ],
            "Step 2: timestamp v2 -> snapshot v2 without A.json; targets v2 no longer delegates to A. TUF 5.5.5 "
            "forbids a snapshot that removes a file the trusted snapshot lists.",
        ),
        Scenario(
            "u06_snapshot_lowers_role",
            "U-06",
            "new snapshot lists the delegated role A.json at a lower version",
            boot_lower,
            [
                Step(lower2, target="a/x.txt", target_data=data, trusted=trusted(1, 2, 2, 2)),
                Step(lower3, "reject", "delegation_dropped", trusted={"root": 1, "snapshot": 2, "targets": 2}),
            ],
            "Step 2: timestamp v3 -> snapshot v3 listing A.json version 1 (was 2); 1.A.json is served. "
            "Category 'delegation_dropped' covers a delegated role's entry lowered (targets.json lowered is "
            "'rollback', see u05_targets_rollback).",
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# U-07 no cache poisoning by rejected metadata


@scenario
def u07() -> Scenario:
    repo, bootstrap, v1, v2 = _two_versions()
    repo.bump_all()
    v3 = repo.publish()
    return Scenario(
        "u07_recover_after_rollback",
        "U-07",
        "rejected rolled-back timestamp followed by a valid timestamp v3",
        bootstrap,
        [
            _good_v2(v2),
            Step(v1, "reject", "rollback", trusted=trusted(1, 2, 2, 2)),
            Step(v3, target="t.txt", target_data=b"target\n", trusted=trusted(1, 3, 3, 3)),
        ],
        "Step 2 must leave no trace: step 3's timestamp v3 is checked against v2, not v1.",
    )


# ---------------------------------------------------------------------------------------------------
# U-08 freeze / expiry


@scenario
def u08() -> list[Scenario]:
    repo = simple_repo()
    boot_freeze = repo.release_root()
    fresh = repo.publish()
    repo.bump("timestamp")
    repo.timestamp.expires = PAST
    frozen = repo.publish()

    def expired(role: str) -> tuple[bytes, dict[str, bytes]]:
        repo = simple_repo()
        bootstrap = repo.release_root()
        if role == "root":
            repo.root.expires = PAST
            repo.release_root()
        else:
            repo.signed(role).expires = PAST
        return bootstrap, repo.publish()

    boot_ts, ts = expired("timestamp")
    boot_snap, snap = expired("snapshot")
    boot_tgt, tgt = expired("targets")
    boot_root, root = expired("root")
    frozen_trust = trusted(1, 1, 1, 1)
    return [
        Scenario(
            "u08_freeze_timestamp",
            "U-08",
            "after a good refresh the server keeps serving an expired timestamp",
            boot_freeze,
            [
                Step(fresh, target="t.txt", target_data=b"target\n", trusted=frozen_trust),
                Step(frozen, "reject", "expired", trusted=frozen_trust),
                Step(frozen, "reject", "expired", trusted=frozen_trust),
            ],
            "Steps 2 and 3 serve timestamp v2 (validly signed, expired yesterday). Both must fail with an "
            "expiry error, not a panic, and the expired timestamp must not replace v1 in the cache.",
        ),
        Scenario(
            "u08_expired_timestamp",
            "U-08",
            "fresh client, timestamp expired",
            boot_ts,
            [Step(ts, "reject", "expired", trusted=ONLY_ROOT_1)],
            "timestamp.json is validly signed and expired yesterday; it must not be cached.",
        ),
        Scenario(
            "u08_expired_snapshot",
            "U-08",
            "fresh client, snapshot expired",
            boot_snap,
            [Step(snap, "reject", "expired", trusted={"root": 1, "snapshot": None, "targets": None})],
            "1.snapshot.json is validly signed and expired yesterday; it must not be cached.",
        ),
        Scenario(
            "u08_expired_targets",
            "U-08",
            "fresh client, targets expired",
            boot_tgt,
            [Step(tgt, "reject", "expired", trusted={"root": 1, "targets": None})],
            "1.targets.json is validly signed and expired yesterday; it must not be cached.",
        ),
        Scenario(
            "u08_expired_root",
            "U-08",
            "the newest root (2.root.json) is expired",
            boot_root,
            [Step(root, "reject", "expired", trusted={"timestamp": None, "snapshot": None, "targets": None})],
            "Intermediate roots may be expired; the final one may not (TUF 5.3.10). Root v2 itself verified, "
            "so whether it is kept is not checked.",
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# U-09 mix-and-match: files must match the meta that vouches for them


@scenario
def u09() -> list[Scenario]:
    out = []

    # targets.json hash differs from snapshot meta (same version, same length)
    repo = simple_repo("trusted_root.json", TRUSTED_ROOT)
    repo.snapshot_meta = {"length", "hashes"}
    bootstrap = repo.release_root()
    mirror = repo.publish()
    evil_hash = sha256(b"attacker's trusted root")

    def swap_hash(signed: dict) -> None:
        signed["targets"]["trusted_root.json"]["hashes"]["sha256"] = evil_hash

    hostile = repo.variant("targets", swap_hash)
    assert len(hostile) == len(mirror["1.targets.json"])
    mirror["1.targets.json"] = hostile
    out.append(
        Scenario(
            "u09_targets_hash_mismatch",
            "U-09",
            "targets.json differs from the hash in snapshot meta",
            bootstrap,
            [Step(mirror, "reject", "hash_mismatch", target="trusted_root.json", trusted={"root": 1, "targets": None})],
            "Snapshot meta records length and sha256 of targets.json. The served 1.targets.json is validly "
            "signed by the targets key, has the same version and length, but names another hash for "
            "trusted_root.json (a targets-key holder mixing in a file the snapshot never vouched for).",
        )
    )

    # targets.json longer than snapshot meta length
    repo = simple_repo()
    repo.snapshot_meta = {"length"}
    bootstrap = repo.release_root()
    mirror = repo.publish()
    mirror["1.targets.json"] = repo.variant("targets", lambda s: s.update({"x-extra": "y" * 100}))
    out.append(
        Scenario(
            "u09_targets_length_mismatch",
            "U-09",
            "targets.json longer than the length in snapshot meta",
            bootstrap,
            [Step(mirror, "reject", "length_mismatch", target="t.txt", trusted={"root": 1, "targets": None})],
            "Snapshot meta records only the length (no hash) so the length check alone decides. The served "
            "file is validly signed and ~110 bytes longer; a client must stop reading at the recorded length.",
        )
    )

    # snapshot.json hash differs from timestamp meta
    repo = simple_repo()
    bootstrap = repo.release_root()
    mirror = repo.publish()

    def other_targets_version(signed: dict) -> None:
        signed["meta"]["targets.json"]["version"] = 2

    hostile = repo.variant("snapshot", other_targets_version)
    assert len(hostile) == len(mirror["1.snapshot.json"])
    mirror["1.snapshot.json"] = hostile
    out.append(
        Scenario(
            "u09_snapshot_hash_mismatch",
            "U-09",
            "snapshot.json differs from the hash in timestamp meta",
            bootstrap,
            [Step(mirror, "reject", "hash_mismatch", trusted={"root": 1, "snapshot": None, "targets": None})],
            "Timestamp meta records length and sha256 of snapshot.json. The served 1.snapshot.json is validly "
            "signed by the snapshot key, same version and length, but lists targets.json version 2.",
        )
    )

    # snapshot.json longer than timestamp meta length
    repo = simple_repo()
    repo.timestamp_meta = {"length"}
    bootstrap = repo.release_root()
    mirror = repo.publish()
    mirror["1.snapshot.json"] = repo.variant("snapshot", lambda s: s.update({"x-extra": "y" * 100}))
    out.append(
        Scenario(
            "u09_snapshot_length_mismatch",
            "U-09",
            "snapshot.json longer than the length in timestamp meta",
            bootstrap,
            [Step(mirror, "reject", "length_mismatch", trusted={"root": 1, "snapshot": None, "targets": None})],
            "Timestamp meta records only the length; the served snapshot is validly signed and longer.",
        )
    )

    # targets.json version differs from snapshot meta version
    repo = simple_repo()
    bootstrap = repo.release_root()
    mirror = repo.publish()
    mirror["1.targets.json"] = repo.variant("targets", lambda s: s.update({"version": 2}))
    out.append(
        Scenario(
            "u09_targets_version_mismatch",
            "U-09",
            "1.targets.json contains targets version 2, snapshot meta says 1",
            bootstrap,
            [Step(mirror, "reject", "version_mismatch", target="t.txt", trusted={"root": 1, "targets": None})],
            "Snapshot meta records only the version, so no hash check catches it first.",
        )
    )

    # snapshot.json version differs from timestamp meta version
    repo = simple_repo()
    repo.timestamp_meta = set()
    bootstrap = repo.release_root()
    mirror = repo.publish()
    mirror["1.snapshot.json"] = repo.variant("snapshot", lambda s: s.update({"version": 2}))
    out.append(
        Scenario(
            "u09_snapshot_version_mismatch",
            "U-09",
            "1.snapshot.json contains snapshot version 2, timestamp meta says 1",
            bootstrap,
            [Step(mirror, "reject", "version_mismatch", trusted={"root": 1, "snapshot": None, "targets": None})],
            "Timestamp meta records only the version, so no hash check catches it first.",
        )
    )
    return out


# ---------------------------------------------------------------------------------------------------
# U-10 oversized data


@scenario
def u10() -> list[Scenario]:
    repo = simple_repo()
    bootstrap_ts = repo.release_root()
    repo.timestamp.unrecognized_fields["x-padding"] = "0" * MIB
    big_ts = repo.publish()

    repo = simple_repo()
    bootstrap_root = repo.release_root()
    repo.root.unrecognized_fields["x-padding"] = "0" * MIB
    repo.release_root()
    big_root = repo.publish()

    data = b"signed content\n"
    repo = simple_repo("t.txt", data)
    bootstrap_tgt = repo.release_root()
    long_target = repo.publish()
    long_target[blob_file("t.txt", data)] = data + b"\0" * 4096

    return [
        Scenario(
            "u10_timestamp_oversized",
            "U-10",
            "timestamp.json of 1 MiB (validly signed, padded with an unknown field)",
            bootstrap_ts,
            [Step(big_ts, "reject", "length_mismatch", trusted=ONLY_ROOT_1)],
            "A timestamp has no signed length; the client's own cap must stop the download (python-tuf: "
            "16 KiB). Assumes sigil's timestamp cap is below 1 MiB. Endless streams are tested in Rust.",
        ),
        Scenario(
            "u10_root_oversized",
            "U-10",
            "2.root.json of 1 MiB (validly signed, padded with an unknown field)",
            bootstrap_root,
            [Step(big_root, "reject", "length_mismatch", trusted=ONLY_ROOT_1)],
            "python-tuf's root cap is 512000 bytes. Assumes sigil's root cap is below 1 MiB.",
        ),
        Scenario(
            "u10_target_longer_than_signed",
            "U-10",
            "target file served with 4096 bytes more than its signed length",
            bootstrap_tgt,
            [Step(long_target, "reject", "length_mismatch", target="t.txt", trusted=trusted(1, 1, 1, 1))],
            "The metadata is fine. The served file starts with the signed content; the client must stop at "
            "the signed length instead of hashing whatever the server sends.",
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# U-11 unsafe target and role names

UNSAFE_TARGETS = {
    "dotdot": "../../escape.txt",
    "absolute": "/etc/passwd",
    "percent_dotdot": "%2e%2e/x",
    "nul": "x\x00.txt",
    "drive": "C:\\x",
    "backslash_dotdot": "..\\..\\escape.txt",
    "dotdot_only": "..",
    "dot_only": ".",
}

U11_WHY = (
    "python-tuf 7.0.1 does not check target names: it stores the file as target_dir/<name percent-encoded>, "
    "inside target_dir ('.' and '..' are left as they are and fail with IsADirectoryError), and requests the raw "
    "name from the mirror."
)


@scenario
def u11() -> list[Scenario]:
    out = []
    data = b"hostile name\n"
    for slug, name in UNSAFE_TARGETS.items():
        repo = simple_repo(name, data)
        bootstrap = repo.release_root()
        out.append(
            Scenario(
                f"u11_target_{slug}",
                "U-11",
                f"target named {name!r}",
                bootstrap,
                [
                    Step(
                        repo.publish(),
                        "reject",
                        "target_name",
                        target=name,
                        trusted={"root": 1},
                        pytuf=Deviation(U11_WHY, min_stage="lookup"),
                    )
                ],
                "targets.json (validly signed, correct hash and length) lists this name. Fetching it must be "
                "refused, or the file stored under an escaped name inside the cache; the harness expects "
                "'target_name' and that nothing is written outside the cache. " + U11_WHY,
            )
        )

    repo = Repo()
    repo.delegate("targets", "../evil")
    repo.add_target("x.txt", data, role="../evil")
    bootstrap = repo.release_root()
    why = (
        "python-tuf 7.0.1 accepts the role name: it fetches 1.<percent-encoded name>.json and caches it as "
        "..%2Fevil.json inside its metadata directory, then returns the target."
    )
    out.append(
        Scenario(
            "u11_role_dotdot",
            "U-11",
            "delegated role named '../evil'",
            bootstrap,
            [
                Step(
                    repo.publish(),
                    "reject",
                    "target_name",
                    target="x.txt",
                    trusted={"root": 1},
                    pytuf=Deviation(why, min_stage="lookup"),
                )
            ],
            "targets.json delegates paths ['*'] to role '../evil', whose metadata is served as "
            "'1...%2Fevil.json' (role file names are percent-encoded). Looking up x.txt must refuse the role "
            "name rather than build a cache path from it. " + why,
        )
    )
    return out


# ---------------------------------------------------------------------------------------------------
# U-12 delegation search order


@scenario
def u12() -> list[Scenario]:
    def two_roles(terminating: bool) -> tuple[bytes, dict[str, bytes]]:
        repo = Repo()
        repo.delegate("targets", "A", paths=["*"], terminating=terminating)
        repo.delegate("targets", "B", paths=["*"])
        repo.add_target("y", b"y from A\n", role="A")
        repo.add_target("x", b"x from B\n", role="B")
        return repo.release_root(), repo.publish()

    boot_term, term = two_roles(True)
    boot_cont, cont = two_roles(False)

    repo = Repo()
    repo.delegate("targets", "A", paths=["*"])
    repo.delegate("targets", "B", paths=["*"])
    repo.delegate("A", "A1", paths=["*"])
    repo.add_target("x", b"X1 from A1\n", role="A1")
    repo.add_target("x", b"X2 from B\n", role="B")
    boot_pre = repo.release_root()
    pre = repo.publish()

    return [
        Scenario(
            "u12_terminating_stops",
            "U-12",
            "terminating delegation A lacks x; B (delegated after A) has it",
            boot_term,
            [Step(term, "reject", "target_not_found", target="x", trusted=trusted(1, 1, 1, 1))],
            "targets delegates, in order, A (terminating, paths ['*'], has only 'y') and B (paths ['*'], has "
            "'x'). The search must stop at A.",
        ),
        Scenario(
            "u12_nonterminating_continues",
            "U-12",
            "non-terminating delegation A lacks x; B has it",
            boot_cont,
            [Step(cont, target="x", target_data=b"x from B\n", trusted=trusted(1, 1, 1, 1))],
            "Same as u12_terminating_stops with A not terminating: the search continues to B.",
        ),
        Scenario(
            "u12_preorder",
            "U-12",
            "pre-order depth-first search: A -> A1 has x before sibling B",
            boot_pre,
            [Step(pre, target="x", target_data=b"X1 from A1\n", trusted=trusted(1, 1, 1, 1))],
            "targets delegates A then B (both non-terminating, paths ['*']); A delegates A1. A1 and B both "
            "list x with different content; pre-order depth-first visits targets, A, A1 (found) before B. A "
            "breadth-first search would return B's content.",
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# U-13 malformed metadata


@scenario
def u13() -> list[Scenario]:
    def ts_case(name: str, title: str, make: Callable[[Repo], dict], notes: str) -> Scenario:
        repo = simple_repo()
        bootstrap = repo.release_root()
        mirror = repo.publish()
        mirror["timestamp.json"] = dump(make(repo))
        steps = [Step(mirror, "reject", "bad_metadata", trusted=ONLY_ROOT_1)]
        return Scenario(name, "U-13", title, bootstrap, steps, notes + " Must be a typed error, never a panic.")

    def without_signed(repo: Repo) -> dict:
        return {"signatures": envelope(repo.timestamp.to_dict(), repo.role_signers("timestamp"))["signatures"]}

    def type_number(repo: Repo) -> dict:
        return envelope(dict(repo.timestamp.to_dict(), _type=1), repo.role_signers("timestamp"))

    def wrong_type(repo: Repo) -> dict:
        return envelope(repo.snapshot.to_dict(), repo.role_signers("timestamp"))

    def signed_null(repo: Repo) -> dict:
        return dict(without_signed(repo), signed=None)

    out = [
        ts_case(
            "u13_timestamp_without_signed",
            "timestamp.json has signatures but no 'signed'",
            without_signed,
            "The signature list is the one of the valid timestamp.",
        ),
        ts_case(
            "u13_type_not_string",
            "timestamp.json with '_type': 1 (validly signed)",
            type_number,
            "The canonical form with the number was signed by the timestamp key.",
        ),
        ts_case(
            "u13_wrong_type",
            "timestamp.json holds a snapshot document signed by the timestamp key",
            wrong_type,
            "Valid signature by a key the timestamp role trusts, but '_type' is 'snapshot'.",
        ),
        ts_case(
            "u13_signed_null",
            "timestamp.json with 'signed': null",
            signed_null,
            "The signature list is the one of the valid timestamp.",
        ),
    ]

    # 2.root.json whose new root key is a 31-byte ed25519 key
    old, new = ecdsa(), ecdsa()
    repo = simple_repo()
    repo.set_keys("root", [old])
    bootstrap = repo.release_root()
    short = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "ab" * 31}}
    short_id = keyid_of(short)
    repo.set_keys("root", [new])
    repo.root.add_key(SSlibKey.from_dict(short_id, dict(short)), "root")
    repo.root.version = 2
    root2 = repo.root.to_dict()
    doc = envelope(root2, ids(old, new))
    doc["signatures"].append({"keyid": short_id, "sig": "00" * 64})
    mirror = repo.publish()
    mirror["2.root.json"] = dump(doc)
    short_why = (
        "python-tuf 7.0.1 parses the key without checking its length; verifying with it raises "
        "securesystemslib's VerificationError, a subclass of UnverifiedSignatureError, so the key merely "
        "counts as not having signed and root v2 is accepted."
    )
    out.append(
        Scenario(
            "u13_root_ed25519_31_bytes",
            "U-13",
            "2.root.json lists a root key that is a 31-byte ed25519 public key",
            bootstrap,
            [
                Step(
                    mirror,
                    "reject",
                    "bad_metadata",
                    trusted=ONLY_ROOT_1,
                    pytuf=Deviation(short_why, "ok", None, trusted(2, 1, 1, 1)),
                )
            ],
            "Root v2's root role has keys [valid ECDSA key, 31-byte ed25519 key], threshold 1, and is signed "
            "by the old and new ECDSA keys plus a 64-byte junk signature under the short key's ID (so that a "
            "verifier actually reaches the key). sigil must refuse the root as malformed (typed error, never "
            "a panic) even though the threshold is met without that key. " + short_why,
        )
    )

    repo = simple_repo()
    bootstrap = repo.release_root()
    mirror = repo.publish()
    mirror["1.targets.json"] = repo.variant("targets", lambda s: s["targets"]["t.txt"].update({"hashes": {}}))
    out.append(
        Scenario(
            "u13_target_empty_hashes",
            "U-13",
            "targets.json lists t.txt with 'hashes': {} (validly signed)",
            bootstrap,
            [Step(mirror, "reject", "bad_metadata", target="t.txt", trusted={"root": 1, "targets": None})],
            "A target without any hash cannot be verified; the metadata is invalid.",
        )
    )
    return out


# ---------------------------------------------------------------------------------------------------
# Writing


def write_files(directory: str, files: dict[str, bytes]) -> None:
    base = os.path.realpath(directory)
    for rel, data in files.items():
        path = os.path.normpath(os.path.join(base, rel))
        # Hostile target names (U-11) must not place files outside the mirror; such targets are then
        # simply absent, which is fine because the client must not fetch them.
        if "\0" in rel or not path.startswith(base + os.sep):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def build() -> list[Scenario]:
    out: list[Scenario] = []
    for fn in SCENARIOS:
        made = fn()
        out.extend(made if isinstance(made, list) else [made])
    names = [s.name for s in out]
    assert len(names) == len(set(names)), "duplicate scenario names"
    return out


def generate(outdir: str) -> list[Scenario]:
    scenarios = build()
    os.makedirs(outdir, exist_ok=True)
    for s in scenarios:
        sdir = os.path.join(outdir, s.name)
        shutil.rmtree(sdir, ignore_errors=True)
        write_files(os.path.join(sdir, "bootstrap"), {"root.json": s.bootstrap})
        for i, step in enumerate(s.steps, start=1):
            write_files(os.path.join(sdir, "steps", str(i)), step.files)
        expect = {"id": s.id, "title": s.title, "steps": [st.expect() for st in s.steps], "notes": s.notes}
        with open(os.path.join(sdir, "expect.json"), "w") as f:
            json.dump(expect, f, indent=2)
            f.write("\n")
    with open(os.path.join(outdir, "index.json"), "w") as f:
        json.dump([{"name": s.name, "id": s.id} for s in scenarios], f, indent=2)
        f.write("\n")
    return scenarios


# ---------------------------------------------------------------------------------------------------
# --check: python-tuf's own client against every scenario

BASE_URL = "http://mirror.invalid/"
STAGES = ("init", "refresh", "lookup", "download", "done")


class DiskFetcher(FetcherInterface):
    """Serves one step directory; anything missing or outside it is an HTTP 404."""

    def __init__(self, root: str):
        self.root = os.path.realpath(root)

    def _fetch(self, url: str) -> Iterator[bytes]:
        rel = url[len(BASE_URL) :] if url.startswith(BASE_URL) else None
        path = os.path.normpath(os.path.join(self.root, rel)) if rel and "\0" not in rel else ""
        if not path.startswith(self.root + os.sep) or not os.path.isfile(path):
            raise tuf_exc.DownloadHTTPError(f"not found: {url!r}", 404)
        with open(path, "rb") as f:
            data = f.read()
        # Chunked so that python-tuf's length limits cut the download the way they would over HTTP.
        return iter([data[i : i + 16384] for i in range(0, len(data), 16384)])


def classify(e: BaseException) -> str:
    """Map python-tuf's exceptions onto the categories of expect.json."""
    msg = str(e)
    if isinstance(e, tuf_exc.ExpiredMetadataError):
        return "expired"
    if isinstance(e, tuf_exc.DownloadLengthMismatchError):
        return "length_mismatch"
    if isinstance(e, tuf_exc.LengthOrHashMismatchError):
        return "length_mismatch" if "length" in msg else "hash_mismatch"
    if isinstance(e, tuf_exc.UnsignedMetadataError):
        return "threshold"
    if isinstance(e, tuf_exc.BadVersionNumberError):
        # python-tuf raises this one type for four different checks; only its message tells them apart.
        if msg.startswith("Expected root version"):
            return "root_version"
        if "must be >=" in msg:
            return "rollback"
        if msg.startswith("Expected targets.json version"):
            return "rollback"
        if ".json version" in msg:
            return "delegation_dropped"
        return "version_mismatch"
    if isinstance(e, DeserializationError):
        return "bad_metadata"
    if isinstance(e, tuf_exc.RepositoryError):
        if "is missing info for" in msg:
            return "delegation_dropped"
        if msg.startswith("Expected '"):
            return "bad_metadata"
    if isinstance(e, tuf_exc.DownloadHTTPError):
        return f"http_{e.status_code}"
    if isinstance(e, OSError):
        return "os_error"
    return f"unexpected {type(e).__name__}"


@dataclass
class Result:
    outcome: str
    error: str | None = None
    sha: str | None = None
    stage: str = "init"
    detail: str = ""
    trusted: dict[str, int | None] = field(default_factory=dict)
    escaped: str | None = None  # where python-tuf wrote a target outside its target directory, if it did


def cached_versions(metadata_dir: str) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for role in TOP_LEVEL:
        path = os.path.join(metadata_dir, f"{role}.json")
        if os.path.exists(path):
            with open(path, "rb") as f:
                out[role] = json.load(f)["signed"]["version"]
        else:
            out[role] = None
    return out


def run_step(step_dir: str, cache: str, bootstrap: bytes | None, target: str | None) -> Result:
    metadata_dir = os.path.join(cache, "metadata")
    target_dir = os.path.join(cache, "targets")
    os.makedirs(metadata_dir, exist_ok=True)
    os.makedirs(target_dir, exist_ok=True)
    res = Result("reject")
    try:
        updater = Updater(
            metadata_dir, BASE_URL, target_dir, BASE_URL + "targets/", DiskFetcher(step_dir), bootstrap=bootstrap
        )
        res.stage = "refresh"
        updater.refresh()
        res.stage = "lookup"
        if target is None:
            res.outcome, res.stage, res.detail = "ok", "done", "refresh succeeded"
        else:
            info = updater.get_targetinfo(target)
            if info is None:
                res.error, res.detail = "target_not_found", "get_targetinfo returned None"
            else:
                res.stage = "download"
                path = updater.download_target(info)
                real = os.path.realpath(path)
                if not real.startswith(os.path.realpath(target_dir) + os.sep):
                    res.escaped = real
                with open(path, "rb") as f:
                    res.sha = sha256(f.read())
                res.outcome, res.stage, res.detail = "ok", "done", f"stored as {os.path.relpath(real, cache)}"
    except Exception as e:  # noqa: BLE001 - every failure is a result to compare
        res.error = classify(e)
        res.detail = f"{type(e).__name__}: {e}"
        if e.__cause__ is not None:
            res.detail += f" <- {type(e.__cause__).__name__}: {e.__cause__}"
    res.trusted = cached_versions(metadata_dir)
    return res


def compare(res: Result, outcome: str, error: str | None, sha: str | None, want: dict | None) -> list[str]:
    problems = []
    if (res.outcome, res.error) != (outcome, error):
        problems.append(f"python-tuf {res.outcome}/{res.error} ({res.detail}), expected {outcome}/{error}")
    if outcome == "ok" and sha is not None and res.sha != sha:
        problems.append(f"target sha256 {res.sha}, expected {sha}")
    for role, version in (want or {}).items():
        if res.trusted.get(role) != version:
            problems.append(f"python-tuf trusts {role} v{res.trusted.get(role)}, expected {version}")
    return problems


def judge(res: Result, want: dict, dev: Deviation | None) -> tuple[str, list[str]]:
    """Status of one step (ok, DEVIATION, SKIP or FAIL) and the lines explaining it."""
    if res.escaped is not None:
        return "FAIL", [f"python-tuf wrote the target outside its target directory: {res.escaped}"]
    if dev is None:
        problems = compare(
            res, want["outcome"], want.get("error"), want.get("target_sha256"), want.get("trusted_versions")
        )
        return ("FAIL", problems) if problems else ("ok", [])
    observed = f"python-tuf: {res.outcome}/{res.error} at {res.stage} ({res.detail})"
    if dev.outcome is None:
        if STAGES.index(res.stage) < STAGES.index(dev.min_stage or "init"):
            return "FAIL", [f"{observed}; it must get at least to {dev.min_stage}"]
        return "SKIP", [observed, f"why: {dev.why}"]
    trusted_want = dev.trusted if dev.trusted is not None else want.get("trusted_versions")
    problems = compare(res, dev.outcome, dev.error, want.get("target_sha256"), trusted_want)
    return ("FAIL", [*problems, f"documented deviation: {dev.why}"]) if problems else (
        "DEVIATION",
        [observed, f"why: {dev.why}"],
    )


def check(outdir: str, scenarios: list[Scenario]) -> bool:
    """Run python-tuf on the files as written (expect.json included), not on the in-memory model."""
    with open(os.path.join(outdir, "index.json")) as f:
        index = json.load(f)
    by_name = {s.name: s for s in scenarios}
    counts = {"ok": 0, "DEVIATION": 0, "SKIP": 0, "FAIL": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for entry in index:
            name = entry["name"]
            sdir = os.path.join(outdir, name)
            with open(os.path.join(sdir, "expect.json")) as f:
                expect = json.load(f)
            with open(os.path.join(sdir, "bootstrap", "root.json"), "rb") as f:
                bootstrap = f.read()
            print(f"{name} [{expect['id']}]")
            for i, want in enumerate(expect["steps"], start=1):
                # Later steps start from the cache, as a client reusing its cache directory would.
                res = run_step(
                    os.path.join(sdir, "steps", str(i)),
                    os.path.join(tmp, name),
                    bootstrap if i == 1 else None,
                    want.get("target"),
                )
                status, lines = judge(res, want, by_name[name].steps[i - 1].pytuf)
                counts[status] += 1
                label = want["outcome"] + (f"/{want['error']}" if "error" in want else "")
                print(f"    {status:9} step {i}: {label}")
                for line in lines:
                    print(f"              {line}")
    print(
        f"\n{len(index)} scenarios: {counts['ok']} steps as expected, {counts['DEVIATION']} documented python-tuf "
        f"deviations, {counts['SKIP']} not asserted (U-11), {counts['FAIL']} failing"
    )
    return counts["FAIL"] == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--check", action="store_true", help="also run python-tuf's client on every scenario")
    args = parser.parse_args()
    scenarios = generate(args.outdir)
    if not args.check:
        print(f"wrote {len(scenarios)} scenarios to {args.outdir}")
        return 0
    try:
        return 0 if check(args.outdir, scenarios) else 1
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
