//! Signed notes, checkpoints, cosignatures and verifier keys with freshly generated keys (SECURITY.md L-10).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use sigil_crypto::VerifyingKey;
use sigil_crypto::der::{encode, tag};
use sigil_tlog::{
    Checkpoint, CosignatureVerifier, Error, MAX_NOTE_SIZE, MAX_SIGNATURES, Note, NoteSignature, NoteVerifier,
    SignedCheckpoint, VerifierKey, cosignature_message, ed25519_spki, hash_leaf, key_id, parse_verifier_key,
};

const ORIGIN: &str = "log.example/tlog";

struct Ed {
    pair: Ed25519KeyPair,
}

impl Ed {
    fn new() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self {
            pair: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap(),
        }
    }
    fn raw(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }
    fn key(&self) -> VerifyingKey {
        VerifyingKey::from_spki_der(&ed25519_spki(&self.raw()).unwrap()).unwrap()
    }
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }
    fn verifier(&self, name: &str) -> NoteVerifier {
        NoteVerifier::ed25519(name, self.key()).unwrap()
    }
}

struct Ec {
    pair: EcdsaKeyPair,
}

impl Ec {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        Self {
            pair: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap(),
        }
    }
    fn spki(&self) -> Vec<u8> {
        let alg = encode(
            tag::SEQUENCE,
            &[
                encode(tag::OID, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                encode(tag::OID, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
            ]
            .concat(),
        );
        let mut bits = vec![0];
        bits.extend_from_slice(self.pair.public_key().as_ref());
        encode(tag::SEQUENCE, &[alg, encode(tag::BIT_STRING, &bits)].concat())
    }
    fn key(&self) -> VerifyingKey {
        VerifyingKey::from_spki_der(&self.spki()).unwrap()
    }
    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(&SystemRandom::new(), msg).unwrap().as_ref().to_vec()
    }
}

fn checkpoint(size: u64) -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root_hash: hash_leaf(&size.to_be_bytes()),
        extensions: vec![],
    }
}

fn signed_by(ed: &Ed, name: &str) -> SignedCheckpoint {
    let v = ed.verifier(name);
    SignedCheckpoint::sign(checkpoint(42), name, v.key_hint(), |m| ed.sign(m)).unwrap()
}

/// A well-formed signature line from an unrelated key.
fn foreign_line(name: &str) -> String {
    NoteSignature {
        name: name.into(),
        key_hint: [9, 9, 9, 9],
        signature: vec![7; 64],
    }
    .to_line()
}

// ----- round trips -----

#[test]
fn ed25519_checkpoint_sign_parse_verify() {
    let ed = Ed::new();
    let signed = signed_by(&ed, ORIGIN);
    let text = signed.to_text();
    assert!(text.starts_with("log.example/tlog\n42\n"));
    assert!(text.contains("\n\n\u{2014} log.example/tlog "));
    let opened = SignedCheckpoint::open(&text, &ed.verifier(ORIGIN), ORIGIN).unwrap();
    assert_eq!(opened, signed);
    assert_eq!(opened.checkpoint, checkpoint(42));
}

#[test]
fn ecdsa_checkpoint_sign_parse_verify() {
    let ec = Ec::new();
    let v = NoteVerifier::ecdsa("rekor.example", ec.key()).unwrap();
    assert_eq!(v.key_hint().to_vec(), sigil_crypto::sha256(&ec.spki())[..4].to_vec());
    let cp = Checkpoint {
        origin: "rekor.example - 1234".into(),
        extensions: vec!["Timestamp: 1689177396617352539".into()],
        ..checkpoint(7)
    };
    let signed = SignedCheckpoint::sign(cp, "rekor.example", v.key_hint(), |m| ec.sign(m)).unwrap();
    let parsed = SignedCheckpoint::parse(&signed.to_text()).unwrap();
    parsed.verify(&v).unwrap();
    parsed.checkpoint.check_rekor_v1_host("rekor.example").unwrap();
    assert_eq!(parsed.checkpoint.rekor_v1_origin(), Some(("rekor.example", 1234)));
    // An Ed25519 verifier under the same name does not match the ECDSA line (different hint).
    assert_eq!(
        parsed.verify(&Ed::new().verifier("rekor.example")),
        Err(Error::NoMatchingSignature)
    );
}

#[test]
fn with_hint_and_constructor_checks() {
    let ed = Ed::new();
    let ec = Ec::new();
    assert!(NoteVerifier::ed25519(ORIGIN, ec.key()).is_err());
    assert!(NoteVerifier::ecdsa(ORIGIN, ed.key()).is_err());
    assert!(NoteVerifier::ed25519("has space", ed.key()).is_err());
    assert!(NoteVerifier::ed25519("has+plus", ed.key()).is_err());
    assert!(NoteVerifier::ed25519("", ed.key()).is_err());
    let v = NoteVerifier::with_hint(ORIGIN, [1, 2, 3, 4], ed.key()).unwrap();
    let signed = SignedCheckpoint::sign(checkpoint(1), ORIGIN, [1, 2, 3, 4], |m| ed.sign(m)).unwrap();
    signed.verify(&v).unwrap();
    assert_eq!(signed.verify(&ed.verifier(ORIGIN)), Err(Error::NoMatchingSignature));
}

// ----- L-10: verification semantics -----

#[test]
fn wrong_origin_is_rejected() {
    let ed = Ed::new();
    let text = signed_by(&ed, ORIGIN).to_text();
    let v = ed.verifier(ORIGIN);
    for wrong in [
        "log.example",
        "log.example/tlog2",
        "log.example/tlo",
        "LOG.EXAMPLE/tlog",
        "log.example/.*",
        "*",
        "",
    ] {
        assert!(
            matches!(
                SignedCheckpoint::open(&text, &v, wrong),
                Err(Error::OriginMismatch { .. })
            ),
            "{wrong:?}"
        );
    }
}

#[test]
fn key_name_is_compared_literally() {
    let ed = Ed::new();
    // Lines whose names merely contain, prefix or pattern-match the trusted name are other keys.
    for name in [
        "log.example/tlog2",
        "xlog.example/tlog",
        "log.example",
        "log.example/tlog.evil",
        "LOG.example/tlog",
    ] {
        let hint = ed.verifier(ORIGIN).key_hint();
        let signed = SignedCheckpoint::sign(checkpoint(5), name, hint, |m| ed.sign(m)).unwrap();
        assert_eq!(
            signed.verify(&ed.verifier(ORIGIN)),
            Err(Error::NoMatchingSignature),
            "{name}"
        );
    }
}

#[test]
fn key_hint_collision_with_a_different_name_is_ignored() {
    let log = Ed::new();
    let v = log.verifier(ORIGIN);
    let good = signed_by(&log, ORIGIN);
    // An attacker line with the log's hint but another name (and a bogus signature), placed first.
    let mut note = good.note.clone();
    note.signatures.insert(
        0,
        NoteSignature {
            name: "attacker.example".into(),
            key_hint: v.key_hint(),
            signature: vec![0; 64],
        },
    );
    let parsed = Note::parse(&note.to_text()).unwrap();
    assert_eq!(parsed.verify(&v).unwrap().name, ORIGIN);
    // Alone, it is simply not a signature by the log.
    let alone = Note {
        body: note.body.clone(),
        signatures: vec![note.signatures[0].clone()],
    };
    assert_eq!(
        Note::parse(&alone.to_text()).unwrap().verify(&v),
        Err(Error::NoMatchingSignature)
    );
}

#[test]
fn colliding_name_and_hint_from_another_key_fails_unless_the_real_one_verifies() {
    let log = Ed::new();
    let impostor = Ed::new();
    let v = log.verifier(ORIGIN);
    // The impostor signs under the log's name *and* hint (a 32-bit hint is cheap to collide).
    let forged = SignedCheckpoint::sign(checkpoint(42), ORIGIN, v.key_hint(), |m| impostor.sign(m)).unwrap();
    assert_eq!(forged.verify(&v), Err(Error::SignatureInvalid));
    // Forged line first, genuine line second: every matching line is tried.
    let mut note = forged.note.clone();
    note.signatures.extend(signed_by(&log, ORIGIN).note.signatures);
    assert_eq!(
        Note::parse(&note.to_text()).unwrap().verify(&v).unwrap().signature,
        note.signatures[1].signature
    );
}

#[test]
fn unknown_witness_signature_first_still_verifies() {
    let log = Ed::new();
    let good = signed_by(&log, ORIGIN).to_text();
    let (body, sigs) = good.split_once("\n\n").unwrap();
    let text = format!(
        "{body}\n\n{}\n{}\n{sigs}",
        foreign_line("witness.example/w1"),
        foreign_line("witness2.example")
    );
    let parsed = SignedCheckpoint::parse(&text).unwrap();
    assert_eq!(parsed.note.signatures.len(), 3);
    assert_eq!(parsed.verify(&log.verifier(ORIGIN)).unwrap().name, ORIGIN);
}

#[test]
fn signature_line_limits() {
    let log = Ed::new();
    let good = signed_by(&log, ORIGIN).to_text();
    let (body, sigs) = good.split_once("\n\n").unwrap();
    let with_foreign = |n: usize| {
        let mut t = format!("{body}\n\n");
        for i in 0..n {
            t.push_str(&foreign_line(&format!("w{i}.example")));
            t.push('\n');
        }
        t.push_str(sigs);
        t
    };
    // The spec's minimum (16) and our maximum (64 lines in total) are accepted.
    for n in [15, MAX_SIGNATURES - 1] {
        SignedCheckpoint::parse(&with_foreign(n))
            .unwrap()
            .verify(&log.verifier(ORIGIN))
            .unwrap();
    }
    for n in [MAX_SIGNATURES, 999] {
        assert_eq!(
            Note::parse(&with_foreign(n)),
            Err(Error::TooManySignatures { max: MAX_SIGNATURES }),
            "{n} foreign lines"
        );
    }
    // 1000 lines that are not even well-formed are rejected on the count, before decoding.
    let junk = format!("{body}\n\n{}", "\u{2014} x !!!\n".repeat(1000));
    assert_eq!(
        Note::parse(&junk),
        Err(Error::TooManySignatures { max: MAX_SIGNATURES })
    );
    // Overall size.
    let big = format!("{}\n\n{sigs}", "a".repeat(MAX_NOTE_SIZE));
    assert_eq!(Note::parse(&big), Err(Error::NoteTooLarge { max: MAX_NOTE_SIZE }));
    assert_eq!(
        Note::from_bytes(big.as_bytes()),
        Err(Error::NoteTooLarge { max: MAX_NOTE_SIZE })
    );
}

// ----- L-10: parser rejections -----

fn sig_part() -> String {
    let good = signed_by(&Ed::new(), ORIGIN).to_text();
    good.split_once("\n\n").unwrap().1.to_string()
}

#[test]
fn checkpoint_body_rejections() {
    let sigs = sig_part();
    let root = B64.encode([1u8; 32]);
    for (body, what) in [
        (format!("{ORIGIN}\n042\n{root}\n"), "size with leading zeros"),
        (format!("{ORIGIN}\n00\n{root}\n"), "size 00"),
        (format!("{ORIGIN}\n42\n"), "missing root-hash line"),
        (format!("{ORIGIN}\n{root}\n"), "missing size line"),
        (format!("42\n{root}\n"), "missing origin line"),
        (format!("{ORIGIN}\n42\n{}\n", B64.encode([1u8; 31])), "31-byte root"),
        (format!("{ORIGIN}\n42\n{}\n", B64.encode([1u8; 33])), "33-byte root"),
        (
            format!("{ORIGIN}\n42\n{}\n", root.trim_end_matches('=')),
            "unpadded root",
        ),
        (format!("{ORIGIN}\n42\n{}\n", hex::encode([1u8; 32])), "hex root"),
        (format!("{ORIGIN}\n4 2\n{root}\n"), "space in size"),
        (format!("{ORIGIN}\n0x2a\n{root}\n"), "hex size"),
    ] {
        let text = format!("{body}\n{sigs}");
        assert!(SignedCheckpoint::parse(&text).is_err(), "{what}");
    }
}

#[test]
fn note_structure_rejections() {
    let sigs = sig_part();
    let line = sigs.trim_end_matches('\n');
    let body = format!("{ORIGIN}\n42\n{}\n", B64.encode([1u8; 32]));
    let cases: Vec<(String, Error)> = vec![
        (format!("{body}\n\n{sigs}"), Error::NoteSeparator { found: 2 }),
        (format!("{body}{sigs}"), Error::NoteSeparator { found: 0 }),
        (format!("{ORIGIN}\n\n42\n\n{sigs}"), Error::NoteSeparator { found: 2 }),
        (format!("{body}\n{line}\n\n{line}\n"), Error::NoteSeparator { found: 2 }),
        (format!("{body}\n{sigs}\n"), Error::NoteSeparator { found: 2 }),
        (format!("\n\n{sigs}"), Error::NoteEmptyBody),
        (format!("{body}\n"), Error::NoteNoSignatures),
        (
            format!("{body}\n{line}"),
            Error::MalformedSignatureLine {
                line: 1,
                reason: "does not end in a newline",
            },
        ),
        (format!("{body}\r\n{sigs}"), Error::NoteControlCharacter { byte: b'\r' }),
        (
            format!("{ORIGIN}\t\n42\n\n{sigs}"),
            Error::NoteControlCharacter { byte: b'\t' },
        ),
        (
            format!("{ORIGIN}\0\n42\n\n{sigs}"),
            Error::NoteControlCharacter { byte: 0 },
        ),
        (
            format!("{ORIGIN}\x1b[31m\n42\n\n{sigs}"),
            Error::NoteControlCharacter { byte: 0x1b },
        ),
        (
            format!("{ORIGIN}\x7f\n42\n\n{sigs}"),
            Error::NoteControlCharacter { byte: 0x7f },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Note::parse(&text), Err(want), "{text:?}");
    }
    // Not UTF-8.
    let mut bytes = format!("{body}\n{sigs}").into_bytes();
    bytes[3] = 0xff;
    assert_eq!(Note::from_bytes(&bytes), Err(Error::NoteNotUtf8));
    let mut bytes = format!("{body}\n{sigs}").into_bytes();
    let dash = bytes.iter().position(|b| *b == 0xe2).unwrap();
    bytes.truncate(dash + 1); // a cut-off em dash
    bytes.push(b'\n');
    assert_eq!(Note::from_bytes(&bytes), Err(Error::NoteNotUtf8));
}

#[test]
fn signature_line_rejections() {
    let body = format!("{ORIGIN}\n42\n{}\n", B64.encode([1u8; 32]));
    // Bytes chosen so the base64 contains both '+' and '/', which the URL-safe alphabet spells differently.
    // 68 bytes, so the encoding ends in one '=' of padding.
    let sig = B64.encode(&[0xfb, 0xff, 0xbf].repeat(23)[..68]);
    assert!(sig.ends_with('=') && !sig.ends_with("=="));
    assert!(sig.contains('+') && sig.contains('/'));
    for line in [
        format!("- {ORIGIN} {sig}"),
        format!("\u{2013} {ORIGIN} {sig}"),
        format!("\u{2014}{ORIGIN} {sig}"),
        format!(" \u{2014} {ORIGIN} {sig}"),
        format!("\u{2014}  {ORIGIN} {sig}"),
        format!("\u{2014} {ORIGIN}  {sig}"),
        format!("\u{2014} {ORIGIN} {sig} "),
        format!("\u{2014} {ORIGIN}"),
        format!("\u{2014} {ORIGIN} "),
        format!("\u{2014} a+b {sig}"),
        format!("\u{2014} a\u{a0}b {sig}"),
        format!("\u{2014} a\u{2003}b {sig}"),
        format!("\u{2014} {ORIGIN} {}", sig.trim_end_matches('=')),
        format!("\u{2014} {ORIGIN} {}=", sig),
        format!("\u{2014} {ORIGIN} {}", sig.replace('+', "-").replace('/', "_")),
        format!("\u{2014} {ORIGIN} AQIDBA=="),
        format!("\u{2014} {ORIGIN} AQID"),
        format!("\u{2014} {ORIGIN} !!!!"),
        "\u{2014} ".to_string(),
        String::new(),
    ] {
        let text = format!("{body}\n{line}\n");
        assert!(
            matches!(
                Note::parse(&text),
                Err(Error::MalformedSignatureLine { .. } | Error::NoteSeparator { .. })
            ),
            "{line:?}: {:?}",
            Note::parse(&text)
        );
    }
    // Base64 with non-zero trailing bits (non-canonical) is rejected: bytes 1..=7 encode as "AQIDBAUGBw==", and
    // "AQIDBAUGBx==" decodes to the same bytes in lenient decoders.
    assert_eq!(B64.encode([1u8, 2, 3, 4, 5, 6, 7]), "AQIDBAUGBw==");
    assert!(Note::parse(&format!("{body}\n\u{2014} n AQIDBAUGBw==\n")).is_ok());
    assert!(matches!(
        Note::parse(&format!("{body}\n\u{2014} n AQIDBAUGBx==\n")),
        Err(Error::MalformedSignatureLine { .. })
    ));
}

// ----- Witness cosignatures -----

fn cosign(witness: &Ed, name: &str, ts: u64, body: &str) -> NoteSignature {
    let sig = witness.sign(&cosignature_message(ts, body));
    let mut bytes = ts.to_be_bytes().to_vec();
    bytes.extend_from_slice(&sig);
    NoteSignature {
        name: name.into(),
        key_hint: key_id(name, 0x04, &witness.raw()),
        signature: bytes,
    }
}

#[test]
fn cosignatures_verify_and_return_the_timestamp() {
    let log = Ed::new();
    let witness = Ed::new();
    let mut signed = signed_by(&log, ORIGIN);
    let ts = 1_755_639_614;
    signed
        .note
        .signatures
        .insert(0, cosign(&witness, "witness.example/w1", ts, &signed.note.body));
    let parsed = SignedCheckpoint::parse(&signed.to_text()).unwrap();
    let wv = CosignatureVerifier::ed25519("witness.example/w1", witness.key()).unwrap();
    assert_eq!(wv.verify(&parsed.note), Ok(ts));
    // The log signature still verifies; the cosignature is not a plain Ed25519 note signature (other hint).
    parsed.verify(&log.verifier(ORIGIN)).unwrap();
    assert_eq!(
        parsed.note.verify(&witness.verifier("witness.example/w1")),
        Err(Error::NoMatchingSignature)
    );
    // Another witness name or key: no match.
    assert_eq!(
        CosignatureVerifier::ed25519("witness.example/w2", witness.key())
            .unwrap()
            .verify(&parsed.note),
        Err(Error::NoMatchingSignature)
    );
    assert_eq!(
        CosignatureVerifier::ed25519("witness.example/w1", Ed::new().key())
            .unwrap()
            .verify(&parsed.note),
        Err(Error::NoMatchingSignature)
    );
    // Tampered timestamp or body.
    let mut t = parsed.note.clone();
    t.signatures[0].signature[7] ^= 1;
    assert_eq!(wv.verify(&t), Err(Error::SignatureInvalid));
    let mut t = parsed.note.clone();
    t.body = t.body.replacen("\n42\n", "\n43\n", 1);
    assert_eq!(wv.verify(&t), Err(Error::SignatureInvalid));
    // Wrong length, timestamp above 2^63 - 1.
    let mut t = parsed.note.clone();
    t.signatures[0].signature.pop();
    assert!(matches!(wv.verify(&t), Err(Error::MalformedCosignature(_))));
    let mut t = parsed.note.clone();
    t.signatures[0] = cosign(&witness, "witness.example/w1", 1 << 63, &t.body);
    assert!(matches!(wv.verify(&t), Err(Error::MalformedCosignature(_))));
    // A cosignature key must be Ed25519.
    assert!(CosignatureVerifier::ed25519("w", Ec::new().key()).is_err());
    // Message layout.
    assert_eq!(
        cosignature_message(5, "o\n1\nr\n"),
        b"cosignature/v1\ntime 5\no\n1\nr\n".to_vec()
    );
}

#[test]
fn fixture_cosignature_lines_have_the_timestamped_layout() {
    // From rekor2-checkpoint-cosigned: the witness key is not published, so only the layout can be checked.
    let line = "\u{2014} witness.example O8PH5AAAAABopO8+4O9uzScQrNEnGdKLYXSPoUjH1Se4n92W+wT/j5Kel/4J2XWE4bEe9bpIVUD6EGOeUDFkSWz/rbDhvVcJ/2OrDw==";
    let note = Note::parse(&format!("o\n1\n{}\n\n{line}\n", B64.encode([0u8; 32]))).unwrap();
    let sig = &note.signatures[0];
    assert_eq!(sig.signature.len(), 8 + 64);
    let ts = u64::from_be_bytes(sig.signature[..8].try_into().unwrap());
    assert!((1_700_000_000..1_900_000_000).contains(&ts), "{ts}");
}

// ----- Verifier keys -----

#[test]
fn verifier_keys_roundtrip() {
    let ed = Ed::new();
    let hint = key_id("example.com/log", 0x01, &ed.raw());
    let vkey = VerifierKey {
        name: "example.com/log".into(),
        key_hint: hint,
        key_type: 0x01,
        key: ed.raw(),
    };
    let text = vkey.to_string();
    assert!(text.starts_with(&format!("example.com/log+{}+", hex::encode(hint))));
    let parsed = parse_verifier_key(&text).unwrap();
    assert_eq!(parsed, vkey);
    let v = parsed.to_note_verifier().unwrap();
    assert_eq!(v, ed.verifier("example.com/log"));
    let signed = SignedCheckpoint::sign(checkpoint(3), "example.com/log", v.key_hint(), |m| ed.sign(m)).unwrap();
    signed.verify(&v).unwrap();

    // Wrong stated ID, wrong case, missing parts, bad base64, unsupported type.
    let wrong_id = VerifierKey {
        key_hint: [0; 4],
        ..vkey.clone()
    };
    assert!(matches!(
        wrong_id.to_note_verifier(),
        Err(Error::MalformedVerifierKey(_))
    ));
    // Key IDs are lowercase hex, as Go writes them.
    assert!(parse_verifier_key("name+0123abcd+AQI=").is_ok());
    assert!(parse_verifier_key("name+0123ABCD+AQI=").is_err());
    for bad in [
        "",
        "name",
        "name+01234567",
        "name+0123456+AQ==",
        "name+012345678+AQ==",
        "+01234567+AQ==",
        "a b+01234567+AQ==",
        "name+01234567+",
        "name+01234567+AQ",
        "name+01234567+AQ==",
    ] {
        assert!(parse_verifier_key(bad).is_err(), "{bad:?}");
    }
    let other = VerifierKey {
        key_type: 0x03,
        ..vkey.clone()
    };
    assert!(
        parse_verifier_key(&other.to_string())
            .unwrap()
            .to_note_verifier()
            .is_err()
    );

    // ECDSA (type 0x02, SPKI key material, hint = SHA256(SPKI)[:4]).
    let ec = Ec::new();
    let ev = VerifierKey {
        name: "rekor.example".into(),
        key_hint: sigil_crypto::sha256(&ec.spki())[..4].try_into().unwrap(),
        key_type: 0x02,
        key: ec.spki(),
    };
    assert_eq!(
        parse_verifier_key(&ev.to_string()).unwrap().to_note_verifier().unwrap(),
        NoteVerifier::ecdsa("rekor.example", ec.key()).unwrap()
    );

    // Cosignature keys (type 0x04).
    let cv = VerifierKey {
        name: "witness.example".into(),
        key_hint: key_id("witness.example", 0x04, &ed.raw()),
        key_type: 0x04,
        key: ed.raw(),
    };
    let parsed = parse_verifier_key(&cv.to_string()).unwrap();
    assert!(parsed.to_note_verifier().is_err());
    assert_eq!(
        parsed.to_cosignature_verifier().unwrap(),
        CosignatureVerifier::ed25519("witness.example", ed.key()).unwrap()
    );
    assert!(vkey.to_cosignature_verifier().is_err());
}

/// The Go checksum database's published verifier key and one of its signed tree heads: an Ed25519 note made by an
/// independent implementation (Go's `golang.org/x/mod/sumdb/note`). Public data, quoted here because it is tiny.
const GO_VKEY: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const GO_NOTE: &str = "go.sum database tree\n65664258\nWVVNVD2qx+fTq31zkj6UAqxT5X6HvGphGM+o8Thnbsg=\n\n\u{2014} sum.golang.org Az3grligJmgX7KGyGPKybykNTh3VgsbLvUuvOwrM5zLVlulmFp2wdvbxOw74/gcNxURShXEpb7RXcs3+BYflYN+w0gQ=\n";

#[test]
fn go_sumdb_verifier_key_and_note() {
    let vkey = parse_verifier_key(GO_VKEY).unwrap();
    assert_eq!(vkey.name, "sum.golang.org");
    assert_eq!(vkey.key_hint, [0x03, 0x3d, 0xe0, 0xae]);
    assert_eq!(vkey.key_type, 0x01);
    assert_eq!(vkey.key.len(), 32);
    assert_eq!(vkey.to_string(), GO_VKEY);
    // The stated ID equals SHA-256(name || "\n" || 0x01 || key)[:4], as to_note_verifier checks.
    let v = vkey.to_note_verifier().unwrap();
    assert_eq!(v.key_hint(), key_id("sum.golang.org", 0x01, &vkey.key));

    let signed = SignedCheckpoint::parse(GO_NOTE).unwrap();
    assert_eq!(signed.checkpoint.origin, "go.sum database tree");
    assert_eq!(signed.checkpoint.size, 65664258);
    signed.verify(&v).unwrap();
    assert_eq!(signed.to_text(), GO_NOTE);
    // One changed character anywhere in the text breaks it.
    let bent = GO_NOTE.replacen("65664258", "65664259", 1);
    assert_eq!(
        SignedCheckpoint::parse(&bent).unwrap().verify(&v),
        Err(Error::SignatureInvalid)
    );
    let bent = GO_NOTE.replacen("WVVN", "WVVM", 1);
    assert_eq!(
        SignedCheckpoint::parse(&bent).unwrap().verify(&v),
        Err(Error::SignatureInvalid)
    );
    // The origin ("go.sum database tree") contains spaces: legal for an origin, never for a key name.
    assert!(signed.checkpoint.check_origin("go.sum database tree").is_ok());
    // A verifier key whose ID is not its key's is refused.
    let wrong = GO_VKEY.replace("033de0ae", "033de0af");
    assert!(matches!(
        parse_verifier_key(&wrong).unwrap().to_note_verifier(),
        Err(Error::MalformedVerifierKey(_))
    ));
}

// ----- Properties -----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any flipped bit in the signed text makes verification fail (or parsing, if the text becomes malformed).
    #[test]
    fn any_bit_flip_in_body_is_rejected(pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        static KEY: std::sync::OnceLock<(Vec<u8>, String)> = std::sync::OnceLock::new();
        let (pkcs8, text) = KEY.get_or_init(|| {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap().as_ref().to_vec();
            let ed = Ed { pair: Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap() };
            (pkcs8.clone(), signed_by(&ed, ORIGIN).to_text())
        });
        let ed = Ed { pair: Ed25519KeyPair::from_pkcs8(pkcs8).unwrap() };
        let body_len = text.find("\n\n").unwrap() + 1;
        let mut bytes = text.clone().into_bytes();
        bytes[pos.index(body_len)] ^= 1 << bit;
        let ok = Note::from_bytes(&bytes).and_then(|n| n.verify(&ed.verifier(ORIGIN)).map(|_| ())).is_ok();
        prop_assert!(!ok);
    }

    /// Arbitrary text never panics the parsers.
    #[test]
    fn parsers_do_not_panic(text in "(\\PC|\n|\u{2014} ){0,300}") {
        let _ = Note::parse(&text);
        let _ = Checkpoint::parse(&text);
        let _ = SignedCheckpoint::parse(&text);
        let _ = parse_verifier_key(&text);
        let _ = sigil_tlog::parse_tile_path(&text);
    }

    /// Notes that parse serialize back to the same text.
    #[test]
    fn parsed_notes_roundtrip(
        lines in prop::collection::vec("[a-z0-9./:-]{1,20}", 1..5),
        sigs in prop::collection::vec(("[a-z0-9./]{1,12}", any::<[u8; 4]>(), prop::collection::vec(any::<u8>(), 1..80)), 1..6),
    ) {
        let mut note = Note::new(lines.join("\n") + "\n").unwrap();
        for (name, hint, sig) in sigs {
            note.add_signature(&name, hint, sig).unwrap();
        }
        let text = note.to_text();
        let parsed = Note::parse(&text).unwrap();
        prop_assert_eq!(parsed.to_text(), text);
        prop_assert_eq!(parsed, note);
    }
}
