#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The distribution client against a real registry (Debian's docker-registry 2.8): push blobs and a manifest,
//! resolve a tag, read back by digest, and refuse what does not match its digest or exceeds a bound.

mod common;

use common::{LOGIN, TestRegistry, client, push_image};
use sigil_client::{ClientOptions, HttpClient};
use sigil_oci::{Credentials, Digest, Error, Reference, Registry, RegistryOptions};

#[test]
fn push_resolve_and_read_back_by_digest() {
    let registry = TestRegistry::start();
    let reg = client();
    let r: Reference = format!("{}/team/app:v1", registry.host).parse().unwrap();
    let digest = push_image(&reg, &r, b"layer one", "v1");

    assert_eq!(reg.resolve(&r).unwrap(), digest);
    let by_digest = r.with_digest(digest.clone());
    let m = reg.manifest(&by_digest).unwrap().unwrap();
    assert_eq!(m.digest, digest);
    assert!(digest.matches(&m.bytes));
    assert_eq!(m.media_type, "application/vnd.oci.image.manifest.v1+json");
    let layer_digest: Digest = serde_json::from_slice::<serde_json::Value>(&m.bytes).unwrap()["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(reg.blob(&r, &layer_digest, 1024).unwrap(), b"layer one");
    // Pushing a blob the repository already has is a no-op that still returns its digest.
    assert_eq!(reg.push_blob(&r, b"layer one").unwrap(), layer_digest);

    // Moving the tag changes what it resolves to; the digest reference still names the first image.
    let second = push_image(&reg, &r, b"layer two", "v1");
    assert_ne!(second, digest);
    assert_eq!(reg.resolve(&r).unwrap(), second);
    assert_eq!(reg.manifest(&by_digest).unwrap().unwrap().digest, digest);

    // Absent things.
    assert!(reg.manifest(&r.with_tag("nope").unwrap()).unwrap().is_none());
    assert!(matches!(
        reg.resolve(&r.with_tag("nope").unwrap()),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        reg.blob(&r, &Digest::sha256_of(b"never pushed"), 1024),
        Err(Error::NotFound(_))
    ));
    // distribution 2.8 has no referrers API.
    assert_eq!(reg.referrers(&r, &digest).unwrap(), None);
    // Bounded reads.
    assert!(matches!(reg.blob(&r, &layer_digest, 4), Err(Error::TooLarge(_))));
}

#[test]
fn content_that_does_not_match_its_digest_is_refused() {
    let registry = TestRegistry::start();
    let reg = client();
    let r: Reference = format!("{}/team/app:v1", registry.host).parse().unwrap();
    let digest = push_image(&reg, &r, b"original layer", "v1");
    let layer = Digest::sha256_of(b"original layer");
    // The registry's storage is altered behind its back: it serves the bytes without checking them.
    std::fs::write(registry.blob_path(layer.hex()), b"tampered layer").unwrap();
    assert!(matches!(reg.blob(&r, &layer, 1024), Err(Error::DigestMismatch(_))));
    // A manifest changed by one character (still a valid manifest, same length, so the registry serves it).
    let path = registry.blob_path(digest.hex());
    let original = std::fs::read_to_string(&path).unwrap();
    let changed = original.replacen(&layer.hex()[..8], "00000000", 1);
    assert_ne!(changed, original);
    std::fs::write(&path, changed).unwrap();
    let got = reg.manifest(&r.with_digest(digest));
    assert!(matches!(got, Err(Error::DigestMismatch(_))), "{got:?}");
}

#[test]
fn a_registry_with_a_login() {
    let registry = TestRegistry::start_with_login();
    let r: Reference = format!("{}/team/app:v1", registry.host).parse().unwrap();
    let with = |user: &str, password: &str| {
        let mut options = RegistryOptions::default();
        options.credentials.insert(
            registry.host.clone(),
            Credentials {
                username: user.into(),
                password: password.into(),
            },
        );
        Registry::new(&HttpClient::new(ClientOptions::default()).unwrap(), options)
    };
    // No login configured: refused with the reason, not a bare 401.
    let err = client().push_blob(&r, b"x").unwrap_err();
    assert!(
        matches!(&err, Error::Auth(m) if m.contains("none is configured")),
        "{err}"
    );
    let err = with(LOGIN.0, "wrong").push_blob(&r, b"x").unwrap_err();
    assert!(
        matches!(&err, Error::Auth(m) if m.contains("refused the credentials")),
        "{err}"
    );
    let reg = with(LOGIN.0, LOGIN.1);
    let digest = push_image(&reg, &r, b"behind a login", "v1");
    assert_eq!(reg.resolve(&r).unwrap(), digest);
    assert!(matches!(client().manifest(&r), Err(Error::Auth(_))));
}
