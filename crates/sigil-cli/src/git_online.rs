//! gitsign's online mode: the signature carries no log entry; instead the commit's (or tag's) object ID, as hex
//! text, was signed with the same certificate and logged as a `hashedrekord`. Verification looks the entry up
//! by that hash and accepts only an entry whose hash is this object's and whose certificate is this
//! signature's (SECURITY.md G-04: never "any entry for this certificate"); the entry is then verified through
//! the one verification path, with keys only from the trusted root (G-05).

use sigil_bundle::rekor::RekorBody;
use sigil_verify::{Artifact, Code, SignerCheck, VerificationError, VerifiedBundle, Verifier};

/// Most candidate entries looked at.
const MAX_CANDIDATES: usize = 64;

/// The git object ID (SHA-1, hex) of `object` of `kind`.
pub fn object_id(kind: sigil_git::object::Kind, object: &[u8]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(format!("{} {}\0", kind.name(), object.len()).as_bytes());
    ctx.update(object);
    hex::encode(ctx.finish().as_ref())
}

fn fail(code: Code, m: String) -> VerificationError {
    VerificationError::new(code, m)
}

/// Finds and verifies the log entry of `object_id` signed with `certificate_der`.
pub fn verify(
    object_id: &str,
    certificate_der: &[u8],
    verifier: &Verifier,
    signer: SignerCheck<'_>,
    http: &sigil_client::HttpClient,
    now: i64,
) -> Result<VerifiedBundle, VerificationError> {
    let digest = sigil_crypto::sha256(object_id.as_bytes());
    let wanted_hash = hex::encode(digest);
    let mut bases: Vec<&str> = verifier
        .trusted_material()
        .tlogs
        .iter()
        .map(|t| t.base_url.trim_end_matches('/'))
        .collect();
    bases.dedup();
    let mut last = fail(
        Code::TlogEntryMissing,
        format!("no transparency log entry for object {object_id} signed with this certificate"),
    );
    for base in bases {
        let Ok(uuids) = http.rekor_search_hash(base, &wanted_hash, MAX_CANDIDATES) else {
            continue;
        };
        for uuid in uuids {
            let Ok(entry) = http.rekor_v1_entry(base, &uuid) else {
                continue;
            };
            // Bound to this object and this certificate, or not a candidate.
            let Some(signature) = entry
                .canonicalized_body
                .as_ref()
                .and_then(|b| matching_signature(&b.0, &wanted_hash, certificate_der))
            else {
                continue;
            };
            let bundle =
                sigil_git::cms::message_bundle(certificate_der.to_vec(), vec![entry], Vec::new(), digest, signature);
            // Through JSON, so the verifier's parse limits and structure checks apply as to any bundle.
            let json = bundle.to_json().map_err(|e| fail(Code::BundleFormat, e.to_string()))?;
            let parsed = verifier.parse_bundle(json.as_bytes())?;
            match verifier.verify(&parsed, &Artifact::Bytes(object_id.as_bytes()), signer, now) {
                Ok(v) => return Ok(v),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

/// The signature of a `hashedrekord` body whose hash is `wanted_hash` and whose certificate is `certificate_der`.
fn matching_signature(body: &[u8], wanted_hash: &str, certificate_der: &[u8]) -> Option<Vec<u8>> {
    let RekorBody::HashedRekordV001(h) = RekorBody::from_json(body).ok()? else {
        return None;
    };
    let hash = h.data.hash.as_ref()?;
    if hash.algorithm != "sha256" || hash.value != wanted_hash {
        return None;
    }
    let pem = &h.signature.public_key.as_ref()?.content.as_ref()?.0;
    let der = sigil_crypto::pem_decode_one(std::str::from_utf8(pem).ok()?, "CERTIFICATE").ok()?;
    if der != certificate_der {
        return None;
    }
    Some(h.signature.content.as_ref()?.0.clone())
}
