//! SCT building: an SCT signed with a `SigningKey` over a precertificate, embedded in the final certificate the
//! way a CA does it, verifies with `verify_embedded_scts`; any changed byte does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use common::*;
use sigil_crypto::der::{encode, tag};
use sigil_crypto::{KeyAlgorithm, Signer, SigningKey};
use sigil_x509::{
    Certificate, CtLog, Error, SignedSct, encode_sct_list, precert_merkle_leaf, precert_signed_data, sign_precert_sct,
    tbs_without_poison, tbs_without_sct, verify_embedded_scts,
};

const T0: i64 = 1_750_000_000;
const TS: u64 = 1_750_000_000_123;

struct Pki {
    int_key: Key,
    leaf_key: Key,
    int: Certificate,
    leaf: Spec,
}

fn poison() -> Vec<u8> {
    ext(oids::POISON, true, &encode(tag::NULL, &[]))
}

impl Pki {
    fn new() -> Self {
        let root_key = Key::new();
        let int_key = Key::new();
        let int = Spec::new("root", "intermediate", T0 - 86_400, T0 + 86_400)
            .ext(bc(true, Some(0)))
            .ext(ku(KU_KEY_CERT_SIGN));
        let int = Certificate::from_der(&int.build(&int_key.spki, &root_key)).unwrap();
        let leaf = Spec::new("intermediate", "", T0 - 300, T0 + 300)
            .ext(ku(KU_DIGITAL_SIGNATURE))
            .ext(eku(&[oids::CODE_SIGNING]))
            .ext(san(true, &[gn_email("alice@example.test")]));
        Self {
            int_key,
            leaf_key: Key::new(),
            int,
            leaf,
        }
    }

    /// The precertificate: the leaf with the poison extension at `pos`.
    fn precert(&self, pos: usize) -> Certificate {
        let mut spec = self.leaf.clone();
        spec.extensions.insert(pos, poison());
        Certificate::from_der(&spec.build(&self.leaf_key.spki, &self.int_key)).unwrap()
    }

    /// The final certificate: the poison at `pos` replaced by the SCT list extension with `list` as its value.
    fn final_cert(&self, pos: usize, list: &[u8]) -> Certificate {
        let mut spec = self.leaf.clone();
        spec.extensions.insert(pos, ext(oids::SCT, false, list));
        Certificate::from_der(&spec.build(&self.leaf_key.spki, &self.int_key)).unwrap()
    }

    fn issuer_key_hash(&self) -> [u8; 32] {
        self.int.public_key().sha256_key_id()
    }
}

fn log_key() -> SigningKey {
    SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap()
}

#[test]
fn signed_sct_embeds_and_verifies() {
    let p = Pki::new();
    let log = log_key();
    let logs = [CtLog::new(log.public_key().clone())];
    for pos in [0, 1, 3] {
        let pre = p.precert(pos);
        assert!(pre.is_precertificate());
        let sct = sign_precert_sct(&log, TS, &p.issuer_key_hash(), pre.tbs_der()).unwrap();
        assert_eq!(sct.log_id, log.public_key().sha256_key_id());
        assert_eq!((sct.hash_alg, sct.sig_alg, sct.timestamp_ms), (4, 3, TS));
        assert!(sct.extensions.is_empty());
        let list = encode_sct_list(std::slice::from_ref(&sct)).unwrap();
        let leaf = p.final_cert(pos, &list);
        let got = verify_embedded_scts(&leaf, &p.int, &logs).unwrap_or_else(|e| panic!("poison at {pos}: {e}"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].timestamp_ms, TS);
        assert_eq!(got[0].log_id, sct.log_id);
        // The log's view (precert without poison) equals the verifier's (final cert without SCT list).
        assert_eq!(
            tbs_without_poison(pre.tbs_der()).unwrap(),
            tbs_without_sct(leaf.tbs_der()).unwrap()
        );
    }
}

#[test]
fn encoding_round_trips_and_matches_the_test_builder() {
    let p = Pki::new();
    let log = log_key();
    let pre = p.precert(1);
    let sct = sign_precert_sct(&log, TS, &p.issuer_key_hash(), pre.tbs_der()).unwrap();
    let bytes = sct.encode().unwrap();
    assert_eq!(SignedSct::decode(&bytes).unwrap(), sct);
    assert_eq!(bytes.len(), 1 + 32 + 8 + 2 + 2 + 2 + sct.signature.len());
    assert_eq!(&sct.digitally_signed().unwrap()[..], &bytes[43..]);
    // The list extension value is byte-identical to what the independent test helper builds.
    let list = encode_sct_list(std::slice::from_ref(&sct)).unwrap();
    assert_eq!(ext(oids::SCT, false, &list), sct_list_ext(std::slice::from_ref(&bytes)));
    assert!(encode_sct_list(&[]).is_err());
    // Signed data = MerkleTreeLeaf's TimestampedEntry with the SCT's two-byte prefix.
    let tbs = tbs_without_poison(pre.tbs_der()).unwrap();
    let signed = precert_signed_data(TS, &p.issuer_key_hash(), &tbs, b"").unwrap();
    let leaf = precert_merkle_leaf(TS, &p.issuer_key_hash(), &tbs, b"").unwrap();
    assert_eq!(signed[2..], leaf[2..]);
    assert_eq!(signed.len(), 2 + 8 + 2 + 32 + 3 + tbs.len() + 2);
    log.public_key()
        .verify(sigil_crypto::SignatureScheme::EcdsaSha256, &signed, &sct.signature)
        .unwrap();
}

#[test]
fn any_changed_byte_is_rejected() {
    let p = Pki::new();
    let log = log_key();
    let logs = [CtLog::new(log.public_key().clone())];
    let pre = p.precert(2);
    let sct = sign_precert_sct(&log, TS, &p.issuer_key_hash(), pre.tbs_der()).unwrap();
    let good = sct.encode().unwrap();
    let list_for = |bytes: &[u8]| {
        let mut l = ((bytes.len() + 2) as u16).to_be_bytes().to_vec();
        l.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        l.extend_from_slice(bytes);
        encode(tag::OCTET_STRING, &l)
    };
    verify_embedded_scts(&p.final_cert(2, &list_for(&good)), &p.int, &logs).unwrap();
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        let leaf = p.final_cert(2, &list_for(&bad));
        assert!(
            verify_embedded_scts(&leaf, &p.int, &logs).is_err(),
            "flipped SCT byte {i} still verifies"
        );
    }
    // The certificate itself changed (another SAN): the SCT no longer covers it.
    let mut other = p.leaf.clone();
    other.extensions[2] = san(true, &[gn_email("mallory@example.test")]);
    other.extensions.insert(2, ext(oids::SCT, false, &list_for(&good)));
    let leaf = Certificate::from_der(&other.build(&p.leaf_key.spki, &p.int_key)).unwrap();
    assert!(matches!(
        verify_embedded_scts(&leaf, &p.int, &logs),
        Err(Error::SctInvalid { .. })
    ));
    // Signed for another issuer.
    let wrong = sign_precert_sct(&log, TS, &[9u8; 32], pre.tbs_der()).unwrap();
    let leaf = p.final_cert(2, &encode_sct_list(&[wrong]).unwrap());
    assert!(matches!(
        verify_embedded_scts(&leaf, &p.int, &logs),
        Err(Error::SctInvalid { .. })
    ));
}

#[test]
fn only_rfc6962_algorithms_sign() {
    let p = Pki::new();
    let ed = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let p384 = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
    let pre = p.precert(0);
    for k in [&ed as &dyn Signer, &p384] {
        assert!(matches!(
            sign_precert_sct(k, TS, &p.issuer_key_hash(), pre.tbs_der()),
            Err(Error::UnsupportedAlgorithm(_))
        ));
    }
    assert!(sign_precert_sct(&log_key(), TS, &p.issuer_key_hash(), b"\x30\x00trailing").is_err());
}
