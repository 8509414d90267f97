//! `sigil attest IMAGE`, `sigil verify-attestation IMAGE` and `sigil download attestation IMAGE`: in-toto
//! attestations about a container image, stored like cosign stores them.
//!
//! Attesting signs a statement (subject: the image repository and digest) as DSSE and attaches it either as a
//! bundle referrer (cosign 3's layout, the default) or as a layer of the `sha256-<hex>.att` manifest (the legacy
//! layout, Rekor v1, the envelope as the blob). Verifying checks each attestation through `sigil-verify` with the
//! image digest as the artifact (so an attestation about another image fails), keeps those whose *verified*
//! statement has the wanted predicate type, and applies the predicate policy to each of them.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sigil_oci::legacy::{self, LegacyAttestation, LegacyMaterial};
use sigil_oci::referrers;
use sigil_verify::Artifact;

use crate::image::{
    Attached, ImageCheckArgs, ImageSigning, ImageSigningArgs, ImageVerifier, Legacy, Outcome, RegistryArgs,
    attach_as_referrer, attached, outcome_json, sha256_of, sign_statement_about, signed_by, with_signer,
};
use crate::verify::Output;

/// Largest predicate file read (the attestation must still fit the 16 MiB envelope limit).
const MAX_PREDICATE_BYTES: usize = 8 << 20;

/// cosign's predicate type names and the URIs they stand for.
const PREDICATE_TYPES: [(&str, &str); 10] = [
    ("custom", "https://cosign.sigstore.dev/attestation/v1"),
    ("slsaprovenance", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance02", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
    ("spdx", "https://spdx.dev/Document"),
    ("spdxjson", "https://spdx.dev/Document"),
    ("cyclonedx", "https://cyclonedx.org/bom"),
    ("link", "https://in-toto.io/Link/v1"),
    ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
    ("openvex", "https://openvex.dev/ns"),
];

/// The predicate type URI for `--type`: one of cosign's names, or a URI as given.
fn predicate_type_uri(t: &str) -> Result<String, String> {
    if let Some((_, uri)) = PREDICATE_TYPES.iter().find(|(name, _)| *name == t) {
        return Ok((*uri).to_string());
    }
    match t.split_once(':') {
        Some((s, rest))
            if !s.is_empty()
                && !rest.is_empty()
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !t.chars().any(char::is_whitespace) =>
        {
            Ok(t.to_string())
        }
        _ => Err(format!(
            "--type {t:?} is neither a URI nor one of {}",
            PREDICATE_TYPES.map(|(n, _)| n).join(", ")
        )),
    }
}

#[derive(Debug, Args)]
pub struct AttestImageArgs {
    /// The predicate: a JSON file, or for `--type custom` any text (wrapped as `{"Data": …, "Timestamp": …}`,
    /// as cosign does).
    #[arg(long, value_name = "FILE")]
    predicate: PathBuf,
    /// The predicate type: slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx, link,
    /// vuln, openvex, custom, or a URI.
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    predicate_type: String,
    #[command(flatten)]
    signing: ImageSigningArgs,
}

/// The predicate as it goes into the statement.
fn predicate(path: &std::path::Path, type_uri: &str) -> Result<serde_json::Value, String> {
    let bytes = crate::sign::read_limited(path, MAX_PREDICATE_BYTES, "the predicate")?;
    let custom = type_uri == "https://cosign.sigstore.dev/attestation/v1";
    let parsed = serde_json::from_slice::<serde_json::Value>(&bytes);
    match parsed {
        Ok(v @ serde_json::Value::Object(_)) if !custom => Ok(v),
        // cosign wraps a custom predicate, and an SPDX tag-value document, as text.
        _ if custom || type_uri == "https://spdx.dev/Document" => {
            let text =
                String::from_utf8(bytes).map_err(|_| format!("the predicate {} is not UTF-8 text", path.display()))?;
            let now = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| e.to_string())?;
            Ok(if custom {
                serde_json::json!({"Data": text, "Timestamp": now})
            } else {
                serde_json::json!({"Data": text})
            })
        }
        _ => Err(format!(
            "the predicate {} must be a JSON object for type {type_uri}",
            path.display()
        )),
    }
}

fn attest(a: &AttestImageArgs) -> Result<crate::image::Attachment, String> {
    let type_uri = predicate_type_uri(&a.predicate_type)?;
    if type_uri == referrers::SIGN_PREDICATE_TYPE {
        return Err(format!("{type_uri} is the type of image signatures: use `sigil sign`"));
    }
    let pred = predicate(&a.predicate, &type_uri)?;
    with_signer(&a.signing, |s: ImageSigning<'_>| {
        let signed = sign_statement_about(&s, &type_uri, pred)?;
        if s.new_bundle_format {
            return attach_as_referrer(&s, &signed, &type_uri);
        }
        let envelope = signed
            .bundle
            .dsse_envelope
            .clone()
            .ok_or("the signing flow returned no DSSE envelope")?;
        let att = LegacyAttestation {
            envelope,
            predicate_type: Some(type_uri.clone()),
            material: LegacyMaterial::from_bundle(&signed.bundle).map_err(|e| e.to_string())?,
        };
        let digest = s.target.digest().ok_or("no digest")?;
        legacy::attach_attestation(&s.reg, &s.target, &att).map_err(|e| format!("attaching the attestation: {e}"))?;
        Ok(crate::image::Attachment {
            target: s.target.clone(),
            signer: signed.signer.to_string(),
            layout: "legacy",
            location: legacy::attestation_tag(digest),
        })
    })
}

pub fn attest_image(a: AttestImageArgs) -> ExitCode {
    match attest(&a) {
        Ok(attachment) => {
            attachment.report("Attested", a.signing.output);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyAttestationArgs {
    /// Only attestations whose verified statement has this predicate type count (names as for `attest`).
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    predicate_type: String,
    /// A predicate policy (JSON; docs/attestation-policy.md) every verified attestation of the type must pass.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    #[command(flatten)]
    check: ImageCheckArgs,
}

/// An attestation to verify: its name, layout and location, and its bundle JSON (or why there is none).
struct Candidate {
    name: String,
    layout: &'static str,
    location: String,
    json: Result<Vec<u8>, String>,
}

/// Verifies the attestations of the image. An attestation that fails verification is reported and ignored (it
/// proves nothing); one that verifies, has the wanted type and fails the policy fails the command, as in cosign.
fn verify_attestation(a: &VerifyAttestationArgs) -> Result<String, String> {
    let type_uri = predicate_type_uri(&a.predicate_type)?;
    let policy = match &a.policy {
        Some(path) => {
            let bytes = crate::sign::read_limited(path, sigil_policy::predicate::MAX_POLICY_BYTES, "the policy")?;
            Some(
                sigil_policy::predicate::PredicatePolicy::from_json(&bytes)
                    .map_err(|e| format!("the policy {}: {e}", path.display()))?,
            )
        }
        None => None,
    };
    let iv = ImageVerifier::new(&a.check)?;
    let Attached {
        reg,
        target,
        digest,
        attestations,
        bundles,
        ..
    } = attached(&a.check.image, &a.check.registry, Legacy::Attestations)?;
    let artifact = Artifact::Digest {
        algorithm: sigil_crypto::HashAlgorithm::Sha2_256,
        digest: sha256_of(&digest)?.to_vec(),
    };
    let mut candidates = Vec::new();
    for (i, att) in attestations.iter().enumerate() {
        let json = att
            .to_bundle()
            .and_then(|b| b.to_json().map_err(|e| sigil_oci::Error::Signature(e.to_string())))
            .map(String::into_bytes)
            .map_err(|e| e.to_string());
        let location = format!("{}#{}", legacy::attestation_tag(&digest), i + 1);
        candidates.push(Candidate {
            name: format!("attestation {}", i + 1),
            layout: "legacy",
            location,
            json,
        });
    }
    for referrer in &bundles {
        // Signatures are not attestations; the annotation only saves fetching them (the verified statement's
        // type decides below).
        if referrer
            .annotations
            .get(referrers::PREDICATE_TYPE_ANNOTATION)
            .map(String::as_str)
            == Some(referrers::SIGN_PREDICATE_TYPE)
        {
            continue;
        }
        let json = referrers::fetch_bundle(&reg, &target, referrer, referrers::MAX_ATTESTATION_BUNDLE_BYTES)
            .map_err(|e| e.to_string());
        candidates.push(Candidate {
            name: format!("bundle {}", referrer.digest),
            layout: "referrer",
            location: referrer.digest.clone(),
            json,
        });
    }
    let mut outcomes = Vec::new();
    let mut statements = Vec::new();
    let mut policy_failures = Vec::new();
    for Candidate {
        name,
        layout,
        location,
        json,
    } in candidates
    {
        let verified = json.and_then(|json| iv.verify_json_with_bundle(&json, &artifact));
        let result = match verified {
            Err(e) => Err(e),
            Ok((v, bundle)) => {
                let (Some(statement), Some(envelope)) = (v.statement.as_ref(), bundle.dsse_envelope.as_ref()) else {
                    continue; // not DSSE: nothing to attest
                };
                if statement.predicate_type != type_uri {
                    continue; // another type of attestation
                }
                // The verified payload itself (every field, as signed), for the policy and the output.
                let payload: serde_json::Value =
                    serde_json::from_slice(&envelope.payload.0).map_err(|e| format!("the statement: {e}"))?;
                let by = signed_by(&v);
                if let Some(p) = &policy
                    && let Err(e) = p.evaluate(&payload)
                {
                    policy_failures.push(format!("  {name}: signed by {by}, but the policy failed: {e}"));
                }
                statements.push(serde_json::json!({"source": name, "signer": by, "statement": payload}));
                Ok(format!("signed by {by}"))
            }
        };
        outcomes.push(Outcome {
            json: outcome_json(layout, &location, &result),
            name,
            result,
        });
    }
    if !policy_failures.is_empty() {
        return Err(format!(
            "{} attestation(s) of type {type_uri} failed the policy:\n{}",
            policy_failures.len(),
            policy_failures.join("\n")
        ));
    }
    if a.check.output == Output::Json {
        let verified = statements.len();
        let v = serde_json::json!({
            "image": target.to_string(),
            "predicateType": type_uri,
            "verified": verified,
            "attestations": statements,
            "results": outcomes.iter().map(|o| &o.json).collect::<Vec<_>>(),
        });
        return if verified == 0 {
            Err(v.to_string())
        } else {
            Ok(v.to_string())
        };
    }
    if statements.is_empty() {
        let tried: Vec<String> = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().err().map(|e| format!("\n  {}: {e}", o.name)))
            .collect();
        return Err(format!(
            "no verified attestation of type {type_uri} for {target}{}",
            tried.concat()
        ));
    }
    let mut text = crate::image::report(&target, "attestation", &outcomes, Output::Text)?;
    if policy.is_some() {
        text.push_str("\n  every verified attestation passed the policy");
    }
    Ok(text)
}

pub fn verify_attestation_image(a: VerifyAttestationArgs) -> ExitCode {
    crate::image::finish_verify(verify_attestation(&a), a.check.output)
}

#[derive(Debug, Args)]
pub struct DownloadAttestationArgs {
    /// The image, by digest or by tag.
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Only attestations that claim this predicate type (names as for `attest`; unverified).
    #[arg(long, value_name = "TYPE")]
    predicate_type: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// `sigil download attestation IMAGE`: one JSON object per line, the DSSE envelope of each legacy attestation
/// (as cosign prints it) and the bundle of each attestation referrer. Nothing is verified.
fn download_attestations(a: &DownloadAttestationArgs) -> Result<Vec<String>, String> {
    let wanted = a.predicate_type.as_deref().map(predicate_type_uri).transpose()?;
    let Attached {
        reg,
        target,
        attestations,
        bundles,
        ..
    } = attached(&a.image, &a.registry, Legacy::Attestations)?;
    let claims = |t: Option<&str>| wanted.is_none() || wanted.as_deref() == t;
    let mut lines = Vec::new();
    for att in attestations {
        if claims(crate::image::claimed_predicate_type(&att.envelope).as_deref()) {
            lines.push(serde_json::to_string(&att.envelope).map_err(|e| e.to_string())?);
        }
    }
    for referrer in bundles {
        let claimed = referrer
            .annotations
            .get(referrers::PREDICATE_TYPE_ANNOTATION)
            .map(String::as_str);
        if claimed == Some(referrers::SIGN_PREDICATE_TYPE) || !claims(claimed) {
            continue;
        }
        lines.push(crate::image::referrer_bundle_line(
            &reg,
            &target,
            &referrer,
            referrers::MAX_ATTESTATION_BUNDLE_BYTES,
        )?);
    }
    Ok(lines)
}

pub fn download_attestation(a: DownloadAttestationArgs) -> ExitCode {
    crate::image::print_lines(download_attestations(&a))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn predicate_types_are_cosign_names_or_uris() {
        assert_eq!(
            predicate_type_uri("slsaprovenance1").unwrap(),
            "https://slsa.dev/provenance/v1"
        );
        assert_eq!(
            predicate_type_uri("custom").unwrap(),
            "https://cosign.sigstore.dev/attestation/v1"
        );
        assert_eq!(
            predicate_type_uri("https://example.com/p/v1").unwrap(),
            "https://example.com/p/v1"
        );
        for bad in ["", "slsa", "no scheme", ":x", "https:", "a b:c"] {
            assert!(predicate_type_uri(bad).is_err(), "{bad:?}");
        }
    }
}
