//! Property tests: proto3-JSON round-trips are lossless, and no input makes the parsers panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use proptest::prelude::*;
use sigil_bundle::bundle::*;
use sigil_bundle::{Bundle, Bytes, Int64, Limits};

fn arb_bytes() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes)
}

fn arb_entry() -> impl Strategy<Value = TransparencyLogEntry> {
    (
        0..i64::MAX as u64,
        arb_bytes(),
        0..i64::MAX as u64,
        proptest::option::of(arb_bytes()),
        proptest::collection::vec(arb_bytes(), 0..5),
        "[a-z ]{0,40}",
    )
        .prop_map(|(idx, key, t, promise, hashes, cp)| TransparencyLogEntry {
            log_index: Int64(idx),
            log_id: LogId { key_id: key.clone() },
            kind_version: KindVersion {
                kind: "hashedrekord".into(),
                version: "0.0.1".into(),
            },
            integrated_time: Int64(t),
            inclusion_promise: promise.map(|p| InclusionPromise {
                signed_entry_timestamp: p,
            }),
            inclusion_proof: Some(InclusionProof {
                log_index: Int64(idx),
                root_hash: key,
                tree_size: Int64(idx.saturating_add(1)),
                hashes,
                checkpoint: Some(Checkpoint { envelope: cp }),
            }),
            canonicalized_body: Some(Bytes(b"{}".to_vec())),
        })
}

proptest! {
    #[test]
    fn bundle_roundtrip(sig in arb_bytes(), digest in arb_bytes(), cert in arb_bytes(), entries in proptest::collection::vec(arb_entry(), 0..3)) {
        let b = Bundle {
            media_type: MEDIA_TYPE_V0_3.into(),
            verification_material: VerificationMaterial {
                public_key: None,
                x509_certificate_chain: None,
                certificate: Some(X509Certificate { raw_bytes: cert }),
                tlog_entries: entries,
                timestamp_verification_data: None,
            },
            message_signature: Some(MessageSignature {
                message_digest: Some(HashOutput { algorithm: "SHA2_256".into(), digest }),
                signature: sig,
            }),
            dsse_envelope: None,
        };
        let json = b.to_json().unwrap();
        let again = Bundle::from_json(json.as_bytes(), &Limits::default()).unwrap();
        prop_assert_eq!(b, again);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Bundle::from_json(&data, &Limits::default());
        let _ = sigil_bundle::RekorBody::from_json(&data);
        let _ = sigil_bundle::TrustedRoot::from_json(&data, &Limits::default());
    }
}
