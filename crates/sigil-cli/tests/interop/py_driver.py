#!/usr/bin/env python3
"""Drives sigstore-python 4.5.1's own client code (including internal modules) against sigil's log, for the
parts its CLI cannot reach yet. Run with the interop venv's Python (.venv/bin/python). Prints one JSON
object on stdout; exits non-zero with the client's own error on failure.

  py_driver.py rekor-v2 TRUST_CONFIG TOKEN_FILE ARTIFACT
      Rekor v2 through sigstore-python's RekorV2Client (chosen by its own signing-config selection):
      - the full `Signer.sign_artifact` flow, which must fail only because Python 4.5.1 will not build a
        Rekor v2 bundle without an RFC 3161 timestamp (no TSA yet), after our log accepted the entry;
      - hashedrekord and DSSE (as hashedrekord 0.0.2) entries: the strict pydantic model parses our 201,
        Python's Merkle inclusion proof and signed checkpoint checks pass against the trust config's
        keyring, and its strict body-consistency checks pass;
      - an identical resubmission is refused (HTTP 409), surfaced as RekorClientError.
  py_driver.py rekor-v1-conflict TRUST_CONFIG BUNDLE
      Resubmits the hashedrekord entry of a sigstore-python Rekor v1 bundle: HTTP 409 surfaces as
      RekorClientError (Python has no fetch-on-conflict), and the Location's entry, read back with
      Python's RekorClient, parses and verifies and equals the bundle's entry.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from sigstore import dsse
from sigstore._internal.rekor import RekorClientError
from sigstore._internal.rekor.client import RekorClient
from sigstore._internal.rekor.client_v2 import RekorV2Client
from sigstore._internal.trust import KeyringPurpose
from sigstore._utils import sha256_digest
from sigstore.models import Bundle, ClientTrustConfig, InvalidBundle
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import verifier as py_verifier


def fail(msg: str) -> None:
    print(f"py_driver: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check_v2_entry(entry, keyring) -> dict:
    inner = entry._inner
    # _verify = Merkle inclusion proof (leaf hash of canonicalizedBody) + signed checkpoint (+ SET if any).
    entry._verify(keyring)
    return {
        "logIndex": int(inner.log_index),
        "kind": inner.kind_version.kind,
        "version": inner.kind_version.version,
        "treeSize": int(inner.inclusion_proof.tree_size),
        "integratedTime": inner.integrated_time,
        "inclusionPromise": inner.inclusion_promise is not None,
    }


def rekor_v2(trust_config: str, token_file: str, artifact: str) -> dict:
    config = ClientTrustConfig.from_json(Path(trust_config).read_text())
    ctx = SigningContext.from_trust_config(config)
    if not isinstance(ctx._rekor, RekorV2Client):
        fail(f"the signing config did not select Rekor v2 ({type(ctx._rekor).__name__})")
    keyring = config.trusted_root.rekor_keyring(KeyringPurpose.VERIFY)
    token = IdentityToken(Path(token_file).read_text().strip())
    data = Path(artifact).read_bytes()
    out: dict = {"client": f"sigstore-python {__import__('sigstore').__version__}"}

    with ctx.signer(token) as signer:
        cert = signer._signing_cert()

        # 1. The whole signing flow: the log accepts the entry; then Python refuses the TSA-less v2 bundle.
        try:
            signer.sign_artifact(data)
            fail("sign_artifact built a Rekor v2 bundle without a timestamp (expected Python to refuse)")
        except InvalidBundle as e:
            if "inclusion promise or signed timestamp" not in str(e):
                raise
            out["full_sign_flow"] = f"refused after the log accepted the entry: {e}"

        # 2. hashedrekord 0.0.2.
        hashed = sha256_digest(data)
        signature = signer._private_key.sign(hashed.digest, ec.ECDSA(hashed._as_prehashed()))
        request = ctx._rekor._build_hashed_rekord_request(
            hashed_input=hashed, signature=signature, certificate=cert
        )
        entry = ctx._rekor.create_entry(request)
        out["hashedrekord"] = check_v2_entry(entry, keyring)
        fake = SimpleNamespace(
            log_entry=entry,
            signing_certificate=cert,
            _inner=SimpleNamespace(message_signature=SimpleNamespace(signature=signature)),
        )
        py_verifier._validate_hashedrekord_v002_entry_body(fake, hashed)

        # 3. An identical resubmission.
        try:
            ctx._rekor.create_entry(request)
            fail("an identical Rekor v2 resubmission was accepted again")
        except RekorClientError as e:
            out["resubmission"] = str(e)

        # 4. DSSE, which Python 4.5.1 submits to Rekor v2 as hashedrekord 0.0.2 over the PAE.
        statement = dsse.Statement(
            json.dumps(
                {
                    "_type": "https://in-toto.io/Statement/v1",
                    "subject": [{"name": Path(artifact).name, "digest": {"sha256": hashed.digest.hex()}}],
                    "predicateType": "https://sigil.test/predicate/v1",
                    "predicate": {},
                }
            ).encode()
        )
        envelope = dsse._sign(signer._private_key, statement)
        entry = ctx._rekor.create_entry(ctx._rekor._build_dsse_request(envelope=envelope, certificate=cert))
        out["dsse"] = check_v2_entry(entry, keyring)
        fake = SimpleNamespace(log_entry=entry, signing_certificate=cert, _dsse_envelope=envelope)
        py_verifier._validate_hashedrekord_v002_dsse_entry_body(fake)
    return out


def rekor_v1_conflict(trust_config: str, bundle_file: str) -> dict:
    config = ClientTrustConfig.from_json(Path(trust_config).read_text())
    keyring = config.trusted_root.rekor_keyring(KeyringPurpose.VERIFY)
    bundle = Bundle.from_json(Path(bundle_file).read_bytes())
    original = bundle.log_entry
    url = next(s.url for s in config.signing_config._inner.rekor_tlog_urls if s.major_api_version == 1)
    client = RekorClient(url)
    body = json.loads(original._inner.canonicalized_body)
    try:
        client.create_entry(body)
        fail("an identical Rekor v1 resubmission was accepted again")
    except RekorClientError as e:
        message = str(e)
    if not message.startswith("409: "):
        fail(f"expected a 409 RekorClientError, got {message!r}")
    # Python does not fetch on conflict; read the original back the way Python reads entries.
    resp = requests.post(f"{url}/api/v1/log/entries", json=body, timeout=10)
    location = resp.headers.get("Location", "")
    uuid = location.rsplit("/", 1)[-1]
    fetched = client.log.entries.get(uuid=uuid)
    fetched._verify(keyring)
    if int(fetched._inner.log_index) != int(original._inner.log_index):
        fail("the entry read back from the 409's Location is not the original")
    if fetched._inner.canonicalized_body != original._inner.canonicalized_body:
        fail("the entry read back from the 409's Location has a different body")
    return {"status": resp.status_code, "error": message, "location": location, "logIndex": int(fetched._inner.log_index)}


def main() -> None:
    if len(sys.argv) < 2:
        fail(__doc__ or "")
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "rekor-v2" and len(args) == 3:
        out = rekor_v2(*args)
    elif cmd == "rekor-v1-conflict" and len(args) == 2:
        out = rekor_v1_conflict(*args)
    else:
        fail(f"bad arguments: {sys.argv[1:]}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
