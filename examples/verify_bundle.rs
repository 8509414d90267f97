//! Embedding sigil: verify one bundle with the library API.
//!
//! `cargo run -p sigil-examples --example verify_bundle -- BUNDLE ARTIFACT IDENTITY ISSUER`

use sigil_policy::{Matcher, Policy};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, SignerCheck, Verifier, VerifierOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bundle, artifact, identity, issuer] = args.as_slice() else {
        return Err("usage: verify_bundle BUNDLE ARTIFACT IDENTITY ISSUER".into());
    };
    let verifier = Verifier::new(TrustedMaterial::production()?, VerifierOptions::default());
    let bundle = verifier.parse_bundle(&std::fs::read(bundle)?)?;
    let artifact = std::fs::read(artifact)?;
    let policy = Policy::identity(Matcher::exact(identity.as_str()), Matcher::exact(issuer.as_str()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let verified = verifier.verify(
        &bundle,
        &Artifact::Bytes(&artifact),
        SignerCheck::Identity(&policy),
        now,
    )?;
    println!(
        "signed by {:?} ({:?}) at {:?}",
        verified.san(),
        verified.issuer(),
        verified.earliest_time()
    );
    Ok(())
}
