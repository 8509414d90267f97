//! Property: flipping any bit of any signed or vouched-for part of a real bundle makes verification
//! fail (and never panic). The parts: signature, certificate, SET, body, proof hashes, root hash,
//! checkpoint text, message digest, log ID.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;
use sigil_policy::{Matcher, Policy};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, SignerCheck, Verifier, VerifierOptions};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/conformance/bundle-verify")
}

/// JSON pointers of base64 fields in a bundle that verification depends on.
const B64_FIELDS: &[&str] = &[
    "/messageSignature/signature",
    "/messageSignature/messageDigest/digest",
    "/verificationMaterial/certificate/rawBytes",
    "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
    "/verificationMaterial/tlogEntries/0/canonicalizedBody",
    "/verificationMaterial/tlogEntries/0/inclusionProof/rootHash",
    "/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0",
    "/verificationMaterial/tlogEntries/0/inclusionProof/hashes/5",
    "/verificationMaterial/tlogEntries/0/logId/keyId",
];
// The RFC 3161 response is left out: its embedded certificate bag is unsigned and never trusted, so
// flips there rightly change nothing. sigil-tsa's `any_flipped_bit_in_signed_content_is_rejected`
// covers its signed content.

struct Case {
    verifier: Verifier,
    bundle: Value,
}

fn case(name: &str) -> Case {
    let d = dir().join(name);
    let trust = if d.join("trusted_root.json").exists() {
        TrustedMaterial::from_file(&d.join("trusted_root.json")).unwrap()
    } else {
        TrustedMaterial::production().unwrap()
    };
    Case {
        verifier: Verifier::new(trust, VerifierOptions::default()),
        bundle: serde_json::from_slice(&std::fs::read(d.join("bundle.sigstore.json")).unwrap()).unwrap(),
    }
}

fn verify(c: &Case, b: &Value) -> bool {
    let artifact = std::fs::read(dir().join("a.txt")).unwrap();
    let policy = Policy::identity(Matcher::exact(IDENTITY), Matcher::exact(ISSUER));
    c.verifier
        .parse_bundle(b.to_string().as_bytes())
        .and_then(|parsed| {
            c.verifier.verify(
                &parsed,
                &Artifact::Bytes(&artifact),
                SignerCheck::Identity(&policy),
                1_900_000_000,
            )
        })
        .is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn any_flipped_bit_is_rejected(case_idx in 0usize..2, field in 0usize..B64_FIELDS.len(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let name = ["happy-path-v0.3", "rekor2-happy-path"][case_idx];
        let c = case(name);
        prop_assume!(verify(&c, &c.bundle));
        let mut b = c.bundle.clone();
        let Some(slot) = b.pointer_mut(B64_FIELDS[field]) else { return Ok(()) };
        let mut bytes = sigil_bundle::encoding::decode_base64(slot.as_str().unwrap()).unwrap();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        *slot = Value::String(sigil_bundle::encoding::encode_base64(&bytes));
        prop_assert!(!verify(&c, &b), "{name}: flipping bit {bit} of byte {i} of {} was accepted", B64_FIELDS[field]);
    }

    #[test]
    fn any_changed_checkpoint_byte_is_rejected(case_idx in 0usize..2, pos in any::<prop::sample::Index>(), replacement in any::<char>()) {
        let name = ["happy-path-v0.3", "rekor2-happy-path"][case_idx];
        let c = case(name);
        let mut b = c.bundle.clone();
        let slot = b.pointer_mut("/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope").unwrap();
        let text: Vec<char> = slot.as_str().unwrap().chars().collect();
        let i = pos.index(text.len());
        prop_assume!(text[i] != replacement);
        let mut changed = text.clone();
        changed[i] = replacement;
        *slot = Value::String(changed.into_iter().collect());
        prop_assert!(!verify(&c, &b), "{name}: checkpoint char {i} -> {replacement:?} was accepted");
    }
}
