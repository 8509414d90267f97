#!/usr/bin/env python3
"""TEST DOUBLE -- NOT A CERTIFICATE AUTHORITY. Never use outside the interop tests.

A minimal stand-in for Fulcio's `POST /api/v2/signingCert`, so that the real sigstore-python and sigstore-js
clients can sign against sigil's transparency log before sigil has its own CA. It is deliberately unsafe:

- it does NOT verify the OIDC token's signature (it only reads the claims), so anyone can get any identity;
- its keys are generated in memory at start-up and its CA and CT "log" exist only for the test run.

What it does do (INTEROP.md §0.2-§0.4, PROTOCOL.md §3): accepts both request shapes (sigstore-python's CSR,
sigstore-js's publicKey + proofOfPossession, which it checks), and issues an ECDSA P-256 leaf valid for 10
minutes with KU digitalSignature (critical), EKU codeSigning, SAN email (critical, empty subject), AKI/SKI,
the OIDC issuer as extensions 1.3.6.1.4.1.57264.1.1 (raw) and .1.8 (UTF8String), and exactly one embedded
precert-form SCT (RFC 6962 §3.2: issuer key hash + TBS without the SCT extension) from a test CT key. The
answer is `signedCertificateEmbeddedSct.chain.certificates` = [leaf PEM, CA PEM].

Usage: test_fulcio.py --out DIR [--listen 127.0.0.1:0] [--issuer URL] [--email ADDR]
Writes DIR/ca.pem (the CA certificate), DIR/ctlog.der (DER SPKI of the CT key), DIR/trust.json (the
`certificateAuthority` and `ctlog` entries for a trusted_root.json) and DIR/token.jwt (a test identity token:
sub == email, email_verified, aud "sigstore"; its signature is meaningless), then prints its base URL as the
first stdout line and serves until killed.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

OID_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OID_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
OID_SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_octet_string(data: bytes) -> bytes:
    return b"\x04" + der_len(len(data)) + data


def der_utf8_string(s: str) -> bytes:
    data = s.encode()
    return b"\x0c" + der_len(len(data)) + data


def spki_der(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class TestCA:
    """The CA key and certificate, and the CT key that signs the embedded SCTs."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.ct_spki = spki_der(self.ct_key)
        self.ct_log_id = hashlib.sha256(self.ct_spki).digest()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigil-test"),
                x509.NameAttribute(NameOID.COMMON_NAME, "sigil-test-fulcio (TEST DOUBLE)"),
            ]
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.issuer_key_hash = hashlib.sha256(spki_der(self.key)).digest()

    def _sct_list(self, timestamp_ms: int, precert_tbs: bytes) -> bytes:
        """A TLS-encoded SignedCertificateTimestampList holding one v1 precert SCT (RFC 6962 §3.2-3.3)."""
        extensions = b""
        signed = (
            bytes([0, 0])  # sct_version v1, signature_type certificate_timestamp
            + struct.pack(">Q", timestamp_ms)
            + struct.pack(">H", 1)  # entry_type precert_entry
            + self.issuer_key_hash
            + len(precert_tbs).to_bytes(3, "big")
            + precert_tbs
            + struct.pack(">H", len(extensions))
            + extensions
        )
        sig = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            bytes([0])
            + self.ct_log_id
            + struct.pack(">Q", timestamp_ms)
            + struct.pack(">H", len(extensions))
            + extensions
            + bytes([4, 3])  # SHA-256, ECDSA
            + struct.pack(">H", len(sig))
            + sig
        )
        item = struct.pack(">H", len(sct)) + sct
        return struct.pack(">H", len(item)) + item

    def issue(self, public_key, email: str, issuer: str) -> x509.Certificate:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        serial = x509.random_serial_number()

        def build(sct_list: bytes) -> x509.Certificate:
            return (
                x509.CertificateBuilder()
                .subject_name(x509.Name([]))
                .issuer_name(self.cert.subject)
                .public_key(public_key)
                .serial_number(serial)
                .not_valid_before(now)
                .not_valid_after(now + dt.timedelta(minutes=10))
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        content_commitment=False,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=False,
                        crl_sign=False,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                    critical=False,
                )
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=True)
                .add_extension(x509.UnrecognizedExtension(OID_ISSUER_V1, issuer.encode()), critical=False)
                .add_extension(
                    x509.UnrecognizedExtension(OID_ISSUER_V2, der_utf8_string(issuer)), critical=False
                )
                # Last, so that removing it leaves exactly the precertificate TBS.
                .add_extension(
                    x509.UnrecognizedExtension(OID_SCT_LIST, der_octet_string(sct_list)), critical=False
                )
                .sign(self.key, hashes.SHA256())
            )

        # The precert TBS is the final TBS minus the SCT extension, so it does not depend on the SCT itself:
        # build once with a placeholder, take that TBS, sign the SCT over it, then build the real certificate.
        placeholder = build(self._sct_list(0, b""))
        precert_tbs = placeholder.tbs_precertificate_bytes
        cert = build(self._sct_list(int(time.time() * 1000), precert_tbs))
        assert cert.tbs_precertificate_bytes == precert_tbs
        return cert


def mint_token(issuer: str, email: str) -> str:
    """An identity token with the claims the clients read. Its signature is junk: nobody here checks it."""
    now = int(time.time())
    header = {"alg": "ES256", "typ": "JWT", "kid": "sigil-test"}
    claims = {
        "iss": issuer,
        "sub": email,
        "email": email,
        "email_verified": True,
        "aud": "sigstore",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3600,
    }
    key = ec.generate_private_key(ec.SECP256R1())
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))}"


def token_claims(token: str) -> dict:
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("identity token is not a JWT")
    claims = json.loads(b64url_decode(parts[1]))
    for claim in ("iss", "sub", "email"):
        if not isinstance(claims.get(claim), str):
            raise ValueError(f"identity token lacks {claim!r}")
    aud = claims.get("aud")
    if aud != "sigstore" and not (isinstance(aud, list) and "sigstore" in aud):
        raise ValueError("identity token audience is not sigstore")
    if not claims.get("email_verified"):
        raise ValueError("identity token email is not verified")
    if claims.get("exp", 0) < time.time():
        raise ValueError("identity token expired")
    return claims


class Handler(BaseHTTPRequestHandler):
    ca: TestCA

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/api/v2/signingCert":
            self._send(404, {"code": 404, "message": "not found"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            cert = self._issue(body)
        except Exception as e:  # noqa: BLE001 - a test double reports every failure the same way
            self._send(400, {"code": 400, "message": f"test fulcio: {e}"})
            return
        chain = [
            cert.public_bytes(serialization.Encoding.PEM).decode(),
            self.ca.cert.public_bytes(serialization.Encoding.PEM).decode(),
        ]
        self._send(201, {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}})

    def _issue(self, body: dict) -> x509.Certificate:
        if "certificateSigningRequest" in body:
            # sigstore-python: token in the Authorization header, CSR (self-signed: the proof of possession).
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                raise ValueError("missing bearer token")
            claims = token_claims(auth.removeprefix("Bearer "))
            csr = x509.load_pem_x509_csr(base64.b64decode(body["certificateSigningRequest"]))
            if not csr.is_signature_valid:
                raise ValueError("CSR signature is invalid")
            public_key = csr.public_key()
        else:
            # sigstore-js: token in the body, public key + signature over the email (or sub).
            claims = token_claims(body["credentials"]["oidcIdentityToken"])
            request = body["publicKeyRequest"]
            public_key = serialization.load_pem_public_key(request["publicKey"]["content"].encode())
            proof = base64.b64decode(request["proofOfPossession"])
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                raise ValueError("only ECDSA keys are supported")
            try:
                public_key.verify(proof, claims["email"].encode(), ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                public_key.verify(proof, claims["sub"].encode(), ec.ECDSA(hashes.SHA256()))
        return self.ca.issue(public_key, claims["email"], claims["iss"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--issuer", default="https://issuer.sigil.test")
    p.add_argument("--email", default="alice@example.test")
    args = p.parse_args()

    ca = TestCA()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ca.pem"), "wb") as f:
        f.write(ca.cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(args.out, "ctlog.der"), "wb") as f:
        f.write(ca.ct_spki)
    with open(os.path.join(args.out, "token.jwt"), "w") as f:
        f.write(mint_token(args.issuer, args.email))
    host, port = args.listen.rsplit(":", 1)
    Handler.ca = ca
    server = ThreadingHTTPServer((host, int(port)), Handler)
    url = f"http://{host}:{server.server_address[1]}"
    # The trusted-root pieces for this CA and its CT key, in trusted_root.json form.
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    since = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    trust = {
        "certificateAuthority": {
            "subject": {"organization": "sigil-test", "commonName": "sigil-test-fulcio"},
            "uri": url,
            "certChain": {"certificates": [{"rawBytes": b64(ca.cert.public_bytes(serialization.Encoding.DER))}]},
            "validFor": {"start": since(ca.cert.not_valid_before_utc)},
        },
        "ctlog": {
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(ca.ct_spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": since(ca.cert.not_valid_before_utc)},
            },
            "logId": {"keyId": b64(ca.ct_log_id)},
        },
    }
    with open(os.path.join(args.out, "trust.json"), "w") as f:
        json.dump(trust, f, indent=2)

    print(url, flush=True)

    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
