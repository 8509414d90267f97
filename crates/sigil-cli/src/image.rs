//! `sigil sign IMAGE` and `sigil verify IMAGE`: signatures of container images in their registry, keyless or
//! with a key, in cosign 3's layout (a bundle as an OCI referrer, the default) or cosign's legacy layout
//! (`sha256-<hex>.sig`, `--new-bundle-format=false`).
//!
//! New layout: an in-toto statement about the image digest (predicate type `https://sigstore.dev/cosign/sign/v1`)
//! signed as DSSE through the `attest` flow, the bundle attached as a referrer. Legacy layout: cosign's
//! simple-signing payload signed through the `sign-blob` flow on Rekor v1 (the layout stores the signed entry
//! timestamp), attached with the certificate when keyless. Verifying reads both layouts and checks each
//! signature with `sigil-verify`: a bundle against the image digest, a legacy signature (turned into a bundle)
//! against its payload after checking that the payload names this image's digest.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use sigil_client::HttpClient;
use sigil_oci::legacy::{self, LegacySignature, RekorAnnotation};
use sigil_oci::referrers;
use sigil_oci::{Digest, Reference, Registry, RegistryOptions};
use sigil_sign::{RekorVersion, SignWith, SigningContext};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, Verifier};

use crate::sign::{InstanceArgs, LoginArgs};
use crate::unix_now;
use crate::verify::{ExpectedSigner, IdentityArgs, IdentityFlags, TrustArgs};

/// How to reach the image's registry. Logins come from these flags, else from the Docker config
/// (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, `auths` entries; credential helpers are not run).
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Allow plain HTTP to a registry that is not on this machine (one on localhost always may).
    #[arg(long)]
    allow_http_registry: bool,
    /// Registry login name (with --registry-password).
    #[arg(long, requires = "registry_password")]
    registry_username: Option<String>,
    /// Registry password or token (with --registry-username).
    #[arg(long, requires = "registry_username")]
    registry_password: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignImageArgs {
    /// The image, by digest (`registry/repository@sha256:…`), or by tag with `--allow-tag`.
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Sign with this private key file (cosign's encrypted format, or a PKCS#8 PEM) instead of keylessly.
    #[arg(long, value_name = "FILE", conflicts_with = "identity_token")]
    key: Option<PathBuf>,
    /// Keyless: the OIDC identity token (or a file holding it); else `SIGSTORE_ID_TOKEN`, GitHub Actions, or an
    /// interactive login.
    #[arg(long, value_name = "TOKEN")]
    identity_token: Option<String>,
    /// With --key, `false`: record nothing in the transparency log (air-gapped); verify then needs
    /// `--insecure-ignore-tlog`.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, requires = "key")]
    tlog_upload: bool,
    /// `false`: cosign's legacy layout (`sha256-<digest>.sig`, Rekor v1) instead of a bundle attached as an OCI
    /// referrer (cosign 3's default).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    new_bundle_format: bool,
    /// Sign the digest that the tag in IMAGE points to now. Without it a tag is refused: a tag can move, and
    /// what is signed is always a digest.
    #[arg(long)]
    allow_tag: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    instance: InstanceArgs,
    #[command(flatten)]
    login: LoginArgs,
}

#[derive(Debug, Args)]
pub struct VerifyImageArgs {
    /// The image, by digest or by tag (a tag is resolved to the digest it points to now, and that is verified).
    #[arg(value_name = "IMAGE")]
    image: String,
    /// The public key (PEM) the signature must verify with, instead of a certificate identity.
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    #[command(flatten)]
    identity: IdentityFlags,
    /// With --key: accept signatures without a transparency-log entry (`--tlog-upload=false`).
    #[arg(long, requires = "key")]
    insecure_ignore_tlog: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    trust: TrustArgs,
}

fn docker_config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")),
    }
}

pub(crate) fn registry(http: &HttpClient, a: &RegistryArgs, image: &Reference) -> Result<Registry, String> {
    let mut credentials = match docker_config_path() {
        Some(path) => sigil_oci::docker_config_credentials(&path).map_err(|e| e.to_string())?,
        None => Default::default(),
    };
    if let (Some(username), Some(password)) = (&a.registry_username, &a.registry_password) {
        credentials.insert(
            image.registry().to_string(),
            sigil_oci::Credentials {
                username: username.clone(),
                password: password.clone(),
            },
        );
    }
    Ok(Registry::new(
        http,
        RegistryOptions {
            plain_http: a.allow_http_registry,
            credentials,
        },
    ))
}

fn parse(image: &str) -> Result<Reference, String> {
    image.parse().map_err(|e: sigil_oci::Error| e.to_string())
}

/// The digest to sign: the one IMAGE names, or with `allow_tag` the one its tag points to now.
fn digest_to_sign(reg: &Registry, image: &Reference, allow_tag: bool) -> Result<Digest, String> {
    if let Some(d) = image.digest() {
        return Ok(d.clone());
    }
    if !allow_tag {
        return Err(format!(
            "{image} is a tag, and a tag can be moved to another image; sign {}@sha256:… or pass --allow-tag",
            image.name()
        ));
    }
    let d = reg.resolve(image).map_err(|e| format!("resolving {image}: {e}"))?;
    eprintln!("{image} points to {d}: signing that digest");
    Ok(d)
}

fn sign(a: &SignImageArgs) -> Result<String, String> {
    let image = parse(&a.image)?;
    let http = crate::sign::http_client(&a.instance)?;
    let reg = registry(&http, &a.registry, &image)?;
    let digest = digest_to_sign(&reg, &image, a.allow_tag)?;
    let target = image.with_digest(digest.clone());
    // The image must exist: signing a digest the registry does not have would attach to nothing.
    let manifest = reg
        .manifest(&target)
        .map_err(|e| format!("reading {target}: {e}"))?
        .ok_or_else(|| format!("{target} is not in the registry"))?;

    let (root, config) = crate::sign::instance(&a.instance)?;
    let trust = TrustedMaterial::from_trusted_root(&root).map_err(|e| format!("loading the trust material: {e}"))?;
    // The legacy layout stores a Rekor v1 entry with its signed entry timestamp; a bundle holds either.
    let rekor = if a.new_bundle_format {
        RekorVersion::Auto
    } else {
        RekorVersion::V1
    };
    let services = sigil_sign::select_services(&config, unix_now(), rekor).map_err(|e| e.to_string())?;
    let key;
    let token;
    let with = match &a.key {
        Some(path) => {
            key = crate::sign::signing_key(path)?;
            SignWith::Key {
                key: &key,
                tlog: a.tlog_upload,
            }
        }
        None => {
            let oidc = services.oidc.as_ref().map(|s| s.url.clone());
            token = crate::sign::identity_token(a.identity_token.as_deref(), Some(&a.login), oidc.as_deref(), &http)?;
            SignWith::Identity(&token)
        }
    };
    let ctx = SigningContext::new(trust, services, &http, &http, &http).map_err(|e| e.to_string())?;
    if a.new_bundle_format {
        attach_bundle(&ctx, with, &reg, &target, &manifest)
    } else {
        attach_legacy(&ctx, with, &reg, &target)
    }
}

/// cosign 3's layout: a DSSE statement about the image digest, its bundle attached as a referrer.
fn attach_bundle(
    ctx: &SigningContext<'_>,
    with: SignWith<'_>,
    reg: &Registry,
    target: &Reference,
    manifest: &sigil_oci::Manifest,
) -> Result<String, String> {
    let digest = target.digest().ok_or("no digest")?;
    let sha256: [u8; 32] = hex::decode(digest.hex())
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or("only sha256 image digests can be signed")?;
    let statement = sigil_sign::flow::statement_for(
        &target.name(),
        &sha256,
        referrers::SIGN_PREDICATE_TYPE,
        serde_json::json!({}),
    )
    .map_err(|e| e.to_string())?;
    let signed = ctx
        .sign_statement(with, &statement, &unix_now)
        .map_err(|e| e.to_string())?;
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?;
    let referrer = referrers::attach_bundle(
        reg,
        target,
        manifest,
        signed.json.as_bytes(),
        referrers::BundleContent::Dsse {
            predicate_type: referrers::SIGN_PREDICATE_TYPE,
        },
        &created,
    )
    .map_err(|e| format!("attaching the bundle: {e}"))?;
    Ok(format!(
        "Signed {target} ({}); the bundle is attached as referrer {referrer}",
        signed.signer
    ))
}

/// cosign's legacy layout: the simple-signing payload's signature as a layer of the `.sig` manifest.
fn attach_legacy(
    ctx: &SigningContext<'_>,
    with: SignWith<'_>,
    reg: &Registry,
    target: &Reference,
) -> Result<String, String> {
    let digest = target.digest().ok_or("no digest")?;
    let payload = legacy::simple_signing_payload(target, digest);
    let signed = ctx
        .sign_artifact(with, payload.as_slice(), &unix_now)
        .map_err(|e| e.to_string())?;
    let signature = signed
        .bundle
        .message_signature
        .as_ref()
        .map(|m| m.signature.0.clone())
        .ok_or("the signing flow returned no message signature")?;
    let rekor = signed
        .bundle
        .verification_material
        .tlog_entries
        .first()
        .map(RekorAnnotation::from_entry)
        .transpose()
        .map_err(|e| e.to_string())?;
    let certificate_pem = signed
        .bundle
        .verification_material
        .certificate
        .as_ref()
        .map(|c| sigil_crypto::pem_encode("CERTIFICATE", &c.raw_bytes.0));
    let sig = LegacySignature {
        payload,
        signature,
        certificate_pem,
        chain_pem: None,
        rekor,
    };
    legacy::attach(reg, target, &sig).map_err(|e| format!("attaching the signature: {e}"))?;
    Ok(format!(
        "Signed {target} ({}); the signature is attached at {}:{}",
        signed.signer,
        target.name(),
        legacy::signature_tag(digest)
    ))
}

pub fn sign_image(a: SignImageArgs) -> ExitCode {
    match sign(&a) {
        Ok(msg) => {
            eprintln!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An image resolved to its digest, and what is attached to it in both layouts (read, not verified).
struct Attached {
    reg: Registry,
    target: Reference,
    digest: Digest,
    legacy: Vec<LegacySignature>,
    bundles: Vec<referrers::Descriptor>,
}

fn attached(image: &str, a: &RegistryArgs) -> Result<Attached, String> {
    let image = parse(image)?;
    let http = HttpClient::new(sigil_client::ClientOptions::default()).map_err(|e| e.to_string())?;
    let reg = registry(&http, a, &image)?;
    let digest = reg.resolve(&image).map_err(|e| format!("resolving {image}: {e}"))?;
    let target = image.with_digest(digest.clone());
    let legacy = legacy::signatures(&reg, &target).map_err(|e| format!("reading the signatures of {target}: {e}"))?;
    let bundles =
        referrers::bundle_referrers(&reg, &target).map_err(|e| format!("reading the referrers of {target}: {e}"))?;
    Ok(Attached {
        reg,
        target,
        digest,
        legacy,
        bundles,
    })
}

/// Verifies every attached signature; `Ok` with the report when at least one verified.
fn verify(a: &VerifyImageArgs) -> Result<String, String> {
    let expected =
        ExpectedSigner::new(a.key.as_deref(), &IdentityArgs::from(&a.identity)).map_err(|e| e.to_string())?;
    let check = expected.check();
    let trust = crate::verify::load_trust(&a.trust).map_err(|e| e.to_string())?;
    let verifier = Verifier::new(trust, crate::verify::verifier_options(a.insecure_ignore_tlog));
    let Attached {
        reg,
        target,
        digest,
        legacy: sigs,
        bundles,
    } = attached(&a.image, &a.registry)?;
    if sigs.is_empty() && bundles.is_empty() {
        return Err(format!("no signatures are attached to {target}"));
    }
    let now = unix_now();
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    for (i, sig) in sigs.iter().enumerate() {
        let outcome = legacy::parse_payload(&sig.payload)
            .map_err(|e| e.to_string())
            .and_then(|p| {
                // Bound to this image: a signature copied from another image's `.sig` tag names that image.
                if p.manifest_digest == digest {
                    Ok(p)
                } else {
                    Err(format!(
                        "the payload is for {}, not for {digest} (signature of another image)",
                        p.manifest_digest
                    ))
                }
            })
            .and_then(|p| {
                let json = sig
                    .to_bundle()
                    .and_then(|b| b.to_json().map_err(|e| sigil_oci::Error::Signature(e.to_string())))
                    .map_err(|e| e.to_string())?;
                let bundle = verifier.parse_bundle(json.as_bytes()).map_err(|e| e.to_string())?;
                let v = verifier
                    .verify(&bundle, &Artifact::Bytes(&sig.payload), check, now)
                    .map_err(|e| e.to_string())?;
                let by = match (v.san(), v.issuer()) {
                    (Some(san), Some(issuer)) => format!("signed by {san} ({issuer})"),
                    _ => "signed with the key".to_string(),
                };
                Ok((p, by))
            });
        match outcome {
            Ok((p, by)) => verified.push(format!(
                "  signature {}: verified, {by}, for {}; {}",
                i + 1,
                p.docker_reference,
                if sig.rekor.is_some() { "logged" } else { "not logged" }
            )),
            Err(e) => failures.push(format!("  signature {}: {e}", i + 1)),
        }
    }
    // cosign 3's layout: bundles whose statement is a cosign signature of this digest.
    let sha256 = hex::decode(digest.hex()).map_err(|e| e.to_string())?;
    let mut signatures = sigs.len();
    for referrer in &bundles {
        let name = format!("bundle {}", referrer.digest);
        let outcome = referrers::fetch_bundle(&reg, &target, referrer)
            .map_err(|e| e.to_string())
            .and_then(|json| verifier.parse_bundle(&json).map_err(|e| e.to_string()))
            .and_then(|bundle| {
                let predicate_type = bundle
                    .dsse_envelope
                    .as_ref()
                    .and_then(|e| serde_json::from_slice::<serde_json::Value>(&e.payload.0).ok())
                    .and_then(|s| s.get("predicateType").and_then(|p| p.as_str()).map(str::to_string));
                if predicate_type.as_deref() != Some(referrers::SIGN_PREDICATE_TYPE) {
                    return Ok(None); // an attestation, not a signature
                }
                let artifact = Artifact::Digest {
                    algorithm: sigil_crypto::HashAlgorithm::Sha2_256,
                    digest: sha256.clone(),
                };
                let v = verifier
                    .verify(&bundle, &artifact, check, now)
                    .map_err(|e| e.to_string())?;
                Ok(Some(match (v.san(), v.issuer()) {
                    (Some(san), Some(issuer)) => format!("signed by {san} ({issuer})"),
                    _ => "signed with the key".to_string(),
                }))
            });
        match outcome {
            Ok(Some(by)) => {
                signatures += 1;
                verified.push(format!("  {name}: verified, {by}"));
            }
            Ok(None) => {}
            Err(e) => {
                signatures += 1;
                failures.push(format!("  {name}: {e}"));
            }
        }
    }
    let report = [verified.clone(), failures].concat().join("\n");
    if verified.is_empty() {
        return Err(format!("no signature of {target} verified:\n{report}"));
    }
    Ok(format!(
        "Verified {target}: {} of {signatures} signatures\n{report}",
        verified.len()
    ))
}

pub fn verify_image(a: VerifyImageArgs) -> ExitCode {
    match verify(&a) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Verification FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    /// The image, by digest or by tag.
    #[arg(value_name = "IMAGE")]
    image: String,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: crate::verify::Output,
}

/// What is attached to an image, in both layouts; nothing is verified.
fn tree(a: &TreeArgs) -> Result<String, String> {
    let Attached {
        target,
        digest,
        legacy: sigs,
        bundles,
        ..
    } = attached(&a.image, &a.registry)?;
    let legacy_json: Vec<serde_json::Value> = sigs
        .iter()
        .map(|s| {
            serde_json::json!({
                "payloadDigest": Digest::sha256_of(&s.payload).to_string(),
                "signer": if s.certificate_pem.is_some() { "certificate" } else { "key" },
                "logged": s.rekor.is_some(),
            })
        })
        .collect();
    let bundle_json: Vec<serde_json::Value> = bundles
        .iter()
        .map(|d| {
            serde_json::json!({
                "manifestDigest": d.digest,
                "content": d.annotations.get(referrers::CONTENT_ANNOTATION),
                "predicateType": d.annotations.get(referrers::PREDICATE_TYPE_ANNOTATION),
                "created": d.annotations.get(referrers::CREATED_ANNOTATION),
            })
        })
        .collect();
    if a.output == crate::verify::Output::Json {
        return Ok(serde_json::json!({
            "image": target.to_string(),
            "legacySignatures": {"tag": legacy::signature_tag(&digest), "signatures": legacy_json},
            "bundles": bundle_json,
        })
        .to_string());
    }
    let mut out = vec![format!("{target}")];
    out.push(format!(
        "  legacy signatures (tag {}): {}",
        legacy::signature_tag(&digest),
        sigs.len()
    ));
    for s in &legacy_json {
        out.push(format!(
            "    {} signed with a {}, {}",
            s["payloadDigest"].as_str().unwrap_or_default(),
            s["signer"].as_str().unwrap_or_default(),
            if s["logged"] == true { "logged" } else { "not logged" }
        ));
    }
    out.push(format!("  bundles attached as referrers: {}", bundles.len()));
    for b in &bundle_json {
        out.push(format!(
            "    {} {} ({})",
            b["manifestDigest"].as_str().unwrap_or_default(),
            b["predicateType"].as_str().unwrap_or("-"),
            b["content"].as_str().unwrap_or("?")
        ));
    }
    Ok(out.join("\n"))
}

pub fn tree_image(a: TreeArgs) -> ExitCode {
    match tree(&a) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Args)]
pub struct DownloadSignatureArgs {
    /// The image, by digest or by tag.
    #[arg(value_name = "IMAGE")]
    image: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// `sigil download signature IMAGE`: one JSON object per line and per signature. Legacy signatures use cosign's
/// field names (`Base64Signature`, `Payload` (base64), `Cert`, `Chain`, `Bundle`); bundles attached as referrers
/// are printed as the bundle JSON itself. Nothing is verified.
fn download_signatures(a: &DownloadSignatureArgs) -> Result<Vec<String>, String> {
    let Attached {
        reg,
        target,
        legacy: sigs,
        bundles,
        ..
    } = attached(&a.image, &a.registry)?;
    let mut lines = Vec::new();
    for s in sigs {
        let b64 = sigil_bundle::encoding::encode_base64;
        lines.push(
            serde_json::json!({
                "Base64Signature": b64(&s.signature),
                "Payload": b64(&s.payload),
                "Cert": s.certificate_pem,
                "Chain": s.chain_pem,
                "Bundle": s.rekor,
            })
            .to_string(),
        );
    }
    for referrer in bundles {
        let json = referrers::fetch_bundle(&reg, &target, &referrer).map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_slice(&json)
            .map_err(|e| format!("the bundle of referrer {} is not JSON: {e}", referrer.digest))?;
        lines.push(v.to_string());
    }
    Ok(lines)
}

pub fn download_signature(a: DownloadSignatureArgs) -> ExitCode {
    match download_signatures(&a) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
