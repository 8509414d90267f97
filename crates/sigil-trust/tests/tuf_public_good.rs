//! The real public-good and staging TUF roots (as sigstore-python 4.5.1 embeds them) load: every key parses,
//! key IDs are used as written (tough recomputed them and refused this data), and the root threshold is met
//! by distinct keys. A tampered copy does not load.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use sigil_trust::tuf::metadata::{Envelope, Root};
use sigil_trust::tuf::trusted::TrustedSet;
use sigil_trust::tuf::{ExpiryPolicy, TufError};
use sigil_trust::{PRODUCTION_TUF_ROOT, STAGING_TUF_ROOT};

fn check(root: &str, version: u64, keys: usize, threshold: u32) {
    let env = Envelope::parse(root.as_bytes(), "root").unwrap();
    let parsed = Root::parse(&env.signed).unwrap();
    assert_eq!(parsed.common.version, version);
    assert_eq!(parsed.keys.len(), keys);
    assert!(parsed.consistent_snapshot);
    assert_eq!(parsed.roles["root"].threshold, threshold);
    env.verify("root", &parsed).unwrap();
    // Loads as a pinned root whatever the date (expiry is checked only after a refresh's root updates).
    let set = TrustedSet::new(root.as_bytes(), i64::MAX / 2, ExpiryPolicy::Enforce).unwrap();
    assert!(matches!(set.check_root(), Err(TufError::Expired { .. })));
}

#[test]
fn production_and_staging_roots_load() {
    check(PRODUCTION_TUF_ROOT, 15, 6, 3);
    check(STAGING_TUF_ROOT, 14, 5, 2);
}

#[test]
fn the_embedded_roots_are_the_shared_fixtures() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/tuf");
    for (dir, embedded) in [("production", PRODUCTION_TUF_ROOT), ("staging", STAGING_TUF_ROOT)] {
        let fixture = std::fs::read_to_string(shared.join(dir).join("root.json")).unwrap();
        assert_eq!(fixture, embedded, "{dir}");
    }
}

#[test]
fn a_changed_byte_in_signed_breaks_the_threshold() {
    let mut v: serde_json::Value = serde_json::from_str(PRODUCTION_TUF_ROOT).unwrap();
    v["signed"]["expires"] = "2099-01-01T00:00:00Z".into();
    let err = TrustedSet::new(v.to_string().as_bytes(), 0, ExpiryPolicy::Enforce).unwrap_err();
    assert!(
        matches!(err, TufError::Threshold { ref role, valid: 0, threshold: 3 } if role == "root"),
        "{err}"
    );
}

#[test]
fn duplicated_signatures_count_once() {
    // Keep one valid signature and repeat it: still one distinct key, below the threshold of 3.
    let mut v: serde_json::Value = serde_json::from_str(PRODUCTION_TUF_ROOT).unwrap();
    let first = v["signatures"][0].clone();
    v["signatures"] = serde_json::json!([first.clone(), first.clone(), first]);
    let err = TrustedSet::new(v.to_string().as_bytes(), 0, ExpiryPolicy::Enforce).unwrap_err();
    assert!(matches!(err, TufError::Threshold { valid: 1, .. }), "{err}");
}
