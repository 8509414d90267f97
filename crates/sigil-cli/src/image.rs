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
use sigil_oci::legacy::{self, LegacyAttestation, LegacyMaterial, LegacySignature};
use sigil_oci::referrers;
use sigil_oci::{Digest, Reference, Registry, RegistryOptions};
use sigil_sign::{RekorVersion, SignWith, Signed, SigningContext};
use sigil_trust::TrustedMaterial;
use sigil_verify::{Artifact, VerifiedBundle, Verifier};

use crate::sign::{InstanceArgs, LoginArgs};
use crate::unix_now;
use crate::verify::{ExpectedSigner, IdentityArgs, IdentityFlags, TrustArgs};

/// How to reach the image's registry. Logins come from these flags, else from the Docker config
/// (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `auths` entries, else the credential helper it names).
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
    /// Trust the CA certificates in this PEM file for the registry's HTTPS, instead of the built-in Mozilla
    /// roots (without the flag, `SSL_CERT_FILE` when set).
    #[arg(long, value_name = "PEM")]
    registry_cacert: Option<PathBuf>,
}

/// What signing an image and attesting about it share: the image, how to sign, the layout, the registry and the
/// instance.
#[derive(Debug, Args)]
pub struct ImageSigningArgs {
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
    /// `false`: cosign's legacy layout (`sha256-<digest>.sig` / `.att`, Rekor v1) instead of a bundle attached
    /// as an OCI referrer (cosign 3's default).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    new_bundle_format: bool,
    /// Sign the digest that the tag in IMAGE points to now. Without it a tag is refused: a tag can move, and
    /// what is signed is always a digest.
    #[arg(long)]
    allow_tag: bool,
    /// Output format of the result (on standard output with `json`).
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) output: crate::verify::Output,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    instance: InstanceArgs,
    #[command(flatten)]
    login: LoginArgs,
}

#[derive(Debug, Args)]
pub struct SignImageArgs {
    #[command(flatten)]
    signing: ImageSigningArgs,
}

/// What verifying an image's signatures and its attestations share: the image, the expected signer, the
/// registry, the trusted root and the output.
#[derive(Debug, Args)]
pub struct ImageCheckArgs {
    /// The image, by digest or by tag (a tag is resolved to the digest it points to now, and that is verified).
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
    /// The public key (PEM) they must verify with, instead of a certificate identity.
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,
    #[command(flatten)]
    identity: IdentityFlags,
    /// With --key: accept signatures without a transparency-log entry (`--tlog-upload=false`).
    #[arg(long, requires = "key")]
    insecure_ignore_tlog: bool,
    /// Output format (the report on standard output).
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) output: crate::verify::Output,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    #[command(flatten)]
    trust: TrustArgs,
}

#[derive(Debug, Args)]
pub struct VerifyImageArgs {
    #[command(flatten)]
    check: ImageCheckArgs,
}

fn docker_config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")),
    }
}

/// The login the Docker config's credential helper (`credHelpers`, `credsStore`) holds for `host`, if any.
pub(crate) fn helper_login(host: &str) -> Result<Option<sigil_oci::Credentials>, String> {
    let Some(path) = docker_config_path() else {
        return Ok(None);
    };
    match sigil_oci::docker_config_helper(&path, host).map_err(|e| e.to_string())? {
        Some(name) => sigil_oci::credential_helper::get(&name, host).map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

/// The registry client for `image`: its own HTTPS trust (`--registry-cacert`), logins from the flags, else the
/// Docker config's `auths`, else its credential helper for the image's registry.
pub(crate) fn registry(a: &RegistryArgs, image: &Reference) -> Result<Registry, String> {
    let http = crate::sign::http_client_trusting(a.registry_cacert.as_deref())?;
    let mut credentials = match docker_config_path() {
        Some(path) => sigil_oci::docker_config_credentials(&path).map_err(|e| e.to_string())?,
        None => Default::default(),
    };
    let host = image.registry().to_string();
    if let (Some(username), Some(password)) = (&a.registry_username, &a.registry_password) {
        credentials.insert(
            host,
            sigil_oci::Credentials {
                username: username.clone(),
                password: password.clone(),
            },
        );
    } else if !credentials.contains_key(&host)
        && let Some(login) = helper_login(&host)?
    {
        credentials.insert(host, login);
    }
    Ok(Registry::new(
        &http,
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

/// The image to sign, in its registry, and how to sign it.
pub(crate) struct ImageSigning<'a> {
    pub ctx: SigningContext<'a>,
    pub with: SignWith<'a>,
    pub reg: Registry,
    /// The image by digest.
    pub target: Reference,
    pub manifest: sigil_oci::Manifest,
    /// The layout to write.
    pub new_bundle_format: bool,
}

/// Resolves the image, loads the instance and the key or identity token, then runs `f`.
pub(crate) fn with_signer<T>(
    a: &ImageSigningArgs,
    f: impl FnOnce(ImageSigning<'_>) -> Result<T, String>,
) -> Result<T, String> {
    let image = parse(&a.image)?;
    let http = crate::sign::http_client(&a.instance)?;
    let reg = registry(&a.registry, &image)?;
    let digest = digest_to_sign(&reg, &image, a.allow_tag)?;
    let target = image.with_digest(digest);
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
    f(ImageSigning {
        ctx,
        with,
        reg,
        target,
        manifest,
        new_bundle_format: a.new_bundle_format,
    })
}

/// The SHA-256 of an image digest (the subject of a statement about it).
pub(crate) fn sha256_of(digest: &Digest) -> Result<[u8; 32], String> {
    hex::decode(digest.hex())
        .ok()
        .filter(|_| digest.algorithm() == "sha256")
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| format!("only sha256 image digests can be signed, not {digest}"))
}

/// What was attached where, for the human line and `--output json`.
pub(crate) struct Attachment {
    pub target: Reference,
    pub signer: String,
    pub layout: &'static str,
    /// The referrer manifest's digest, or the legacy tag.
    pub location: String,
}

impl Attachment {
    pub(crate) fn report(&self, what: &str, output: crate::verify::Output) {
        if output == crate::verify::Output::Json {
            println!(
                "{}",
                serde_json::json!({
                    "image": self.target.to_string(),
                    "signer": self.signer,
                    "layout": self.layout,
                    "location": self.location,
                })
            );
        } else if self.layout == "referrer" {
            eprintln!(
                "{what} {} ({}); the bundle is attached as referrer {}",
                self.target, self.signer, self.location
            );
        } else {
            eprintln!(
                "{what} {} ({}); attached at {}:{}",
                self.target,
                self.signer,
                self.target.name(),
                self.location
            );
        }
    }
}

fn sign(s: ImageSigning<'_>) -> Result<Attachment, String> {
    if s.new_bundle_format {
        attach_bundle(&s)
    } else {
        attach_legacy(&s)
    }
}

/// An in-toto statement about the image (subject: its repository and digest), signed as DSSE.
pub(crate) fn sign_statement_about(
    s: &ImageSigning<'_>,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Result<Signed, String> {
    let digest = s.target.digest().ok_or("no digest")?;
    let statement = sigil_sign::flow::statement_for(&s.target.name(), &sha256_of(digest)?, predicate_type, predicate)
        .map_err(|e| e.to_string())?;
    let signed = s
        .ctx
        .sign_statement(s.with, &statement, &unix_now)
        .map_err(|e| e.to_string())?;
    for w in &signed.warnings {
        eprintln!("warning: {w}");
    }
    Ok(signed)
}

/// cosign 3's layout: the bundle attached to the image as an OCI 1.1 referrer.
pub(crate) fn attach_as_referrer(
    s: &ImageSigning<'_>,
    signed: &Signed,
    predicate_type: &str,
) -> Result<Attachment, String> {
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?;
    let referrer = referrers::attach_bundle(
        &s.reg,
        &s.target,
        &s.manifest,
        signed.json.as_bytes(),
        referrers::BundleContent::Dsse { predicate_type },
        &created,
    )
    .map_err(|e| format!("attaching the bundle: {e}"))?;
    Ok(Attachment {
        target: s.target.clone(),
        signer: signed.signer.to_string(),
        layout: "referrer",
        location: referrer.to_string(),
    })
}

/// cosign 3's layout: a statement with predicate type `https://sigstore.dev/cosign/sign/v1` about the digest.
fn attach_bundle(s: &ImageSigning<'_>) -> Result<Attachment, String> {
    let signed = sign_statement_about(s, referrers::SIGN_PREDICATE_TYPE, serde_json::json!({}))?;
    attach_as_referrer(s, &signed, referrers::SIGN_PREDICATE_TYPE)
}

/// cosign's legacy layout: the simple-signing payload's signature as a layer of the `.sig` manifest.
fn attach_legacy(s: &ImageSigning<'_>) -> Result<Attachment, String> {
    let target = &s.target;
    let digest = target.digest().ok_or("no digest")?;
    let payload = legacy::simple_signing_payload(target, digest);
    let signed = s
        .ctx
        .sign_artifact(s.with, payload.as_slice(), &unix_now)
        .map_err(|e| e.to_string())?;
    let signature = signed
        .bundle
        .message_signature
        .as_ref()
        .map(|m| m.signature.0.clone())
        .ok_or("the signing flow returned no message signature")?;
    let sig = LegacySignature {
        payload,
        signature,
        material: LegacyMaterial::from_bundle(&signed.bundle).map_err(|e| e.to_string())?,
    };
    legacy::attach(&s.reg, target, &sig).map_err(|e| format!("attaching the signature: {e}"))?;
    Ok(Attachment {
        target: target.clone(),
        signer: signed.signer.to_string(),
        layout: "legacy",
        location: legacy::signature_tag(digest),
    })
}

pub fn sign_image(a: SignImageArgs) -> ExitCode {
    let output = a.signing.output;
    match with_signer(&a.signing, sign) {
        Ok(attachment) => {
            attachment.report("Signed", output);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
/// An image resolved to its digest, and what is attached to it in both layouts (read, not verified).
pub(crate) struct Attached {
    pub reg: Registry,
    pub target: Reference,
    pub digest: Digest,
    pub legacy: Vec<LegacySignature>,
    pub attestations: Vec<LegacyAttestation>,
    pub bundles: Vec<referrers::Descriptor>,
}

/// Which legacy tags to read (the referrers are always read: signatures and attestations share them).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Legacy {
    Signatures,
    Attestations,
    Both,
}

pub(crate) fn attached(image: &str, a: &RegistryArgs, read: Legacy) -> Result<Attached, String> {
    let image = parse(image)?;
    let reg = registry(a, &image)?;
    // The manifest itself, not only the digest: fetched by digest it must hash to it, so an image whose
    // registry copy was altered is refused here, before any signature is looked at. A digest whose manifest
    // is not in this repository can still have signatures here (`copy --sig-only`): what they sign is the
    // digest.
    let digest = match (reg.manifest(&image), image.digest()) {
        (Ok(Some(m)), _) => m.digest,
        (Ok(None), Some(d)) => d.clone(),
        (Ok(None), None) => return Err(format!("{image} is not in the registry")),
        (Err(e), _) => return Err(format!("resolving {image}: {e}")),
    };
    let target = image.with_digest(digest.clone());
    let legacy = match read {
        Legacy::Attestations => Vec::new(),
        _ => legacy::signatures(&reg, &target).map_err(|e| format!("reading the signatures of {target}: {e}"))?,
    };
    let attestations = match read {
        Legacy::Signatures => Vec::new(),
        _ => legacy::attestations(&reg, &target).map_err(|e| format!("reading the attestations of {target}: {e}"))?,
    };
    let bundles =
        referrers::bundle_referrers(&reg, &target).map_err(|e| format!("reading the referrers of {target}: {e}"))?;
    Ok(Attached {
        reg,
        target,
        digest,
        legacy,
        attestations,
        bundles,
    })
}

/// Who signed a verified bundle, for reports.
pub(crate) fn signed_by(v: &VerifiedBundle) -> String {
    match (v.san(), v.issuer()) {
        (Some(san), Some(issuer)) => format!("{san} ({issuer})"),
        _ => "the key".to_string(),
    }
}

/// The predicate type the statement in a DSSE envelope claims, before anything is verified (to tell signatures
/// from attestations; only a verified statement is trusted).
pub(crate) fn claimed_predicate_type(envelope: &sigil_bundle::dsse::Envelope) -> Option<String> {
    let statement: serde_json::Value = serde_json::from_slice(&envelope.payload.0).ok()?;
    statement.get("predicateType")?.as_str().map(str::to_string)
}

/// The verifier and what a verify command needs to run it over an image's attachments.
pub(crate) struct ImageVerifier {
    pub verifier: Verifier,
    pub expected: ExpectedSigner,
    pub now: i64,
}

impl ImageVerifier {
    pub(crate) fn new(a: &ImageCheckArgs) -> Result<Self, String> {
        let expected =
            ExpectedSigner::new(a.key.as_deref(), &IdentityArgs::from(&a.identity)).map_err(|e| e.to_string())?;
        let trust = crate::trust::load_trust(&a.trust).map_err(|e| e.to_string())?;
        Ok(Self {
            verifier: Verifier::new(trust, crate::verify::verifier_options(a.insecure_ignore_tlog)),
            expected,
            now: unix_now(),
        })
    }

    /// Verifies `bundle` (parsed again from its JSON, with the verifier's limits) against `artifact`.
    pub(crate) fn verify(
        &self,
        bundle: &sigil_bundle::Bundle,
        artifact: &Artifact<'_>,
    ) -> Result<VerifiedBundle, String> {
        let json = bundle.to_json().map_err(|e| e.to_string())?;
        self.verify_json(json.as_bytes(), artifact)
    }

    pub(crate) fn verify_json(&self, json: &[u8], artifact: &Artifact<'_>) -> Result<VerifiedBundle, String> {
        self.verify_json_with_bundle(json, artifact).map(|(v, _)| v)
    }

    /// Like [`Self::verify_json`], also returning the bundle as parsed (whose content is now verified).
    pub(crate) fn verify_json_with_bundle(
        &self,
        json: &[u8],
        artifact: &Artifact<'_>,
    ) -> Result<(VerifiedBundle, sigil_bundle::Bundle), String> {
        let bundle = self.verifier.parse_bundle(json).map_err(|e| e.to_string())?;
        let v = self
            .verifier
            .verify(&bundle, artifact, self.expected.check(), self.now)
            .map_err(|e| e.to_string())?;
        Ok((v, bundle))
    }
}

/// One attachment's outcome: what it is, and who signed it or why it failed.
pub(crate) struct Outcome {
    pub name: String,
    pub result: Result<String, String>,
    pub json: serde_json::Value,
}

/// A verify command's report: `Ok` (text or JSON) when at least one attachment verified.
pub(crate) fn report(
    target: &Reference,
    what: &str,
    outcomes: &[Outcome],
    output: crate::verify::Output,
) -> Result<String, String> {
    let verified = outcomes.iter().filter(|o| o.result.is_ok()).count();
    if outcomes.is_empty() {
        return Err(format!("no {what}s are attached to {target}"));
    }
    if output == crate::verify::Output::Json {
        let list: Vec<&serde_json::Value> = outcomes.iter().map(|o| &o.json).collect();
        let v = serde_json::json!({"image": target.to_string(), "verified": verified, "results": list});
        return if verified == 0 {
            Err(v.to_string())
        } else {
            Ok(v.to_string())
        };
    }
    let lines: Vec<String> = outcomes
        .iter()
        .filter(|o| o.result.is_ok())
        .chain(outcomes.iter().filter(|o| o.result.is_err()))
        .map(|o| match &o.result {
            Ok(by) => format!("  {}: verified, {by}", o.name),
            Err(e) => format!("  {}: {e}", o.name),
        })
        .collect();
    let lines = lines.join("\n");
    if verified == 0 {
        return Err(format!("no {what} of {target} verified:\n{lines}"));
    }
    Ok(format!(
        "Verified {target}: {verified} of {} {what}s\n{lines}",
        outcomes.len()
    ))
}

/// Verifies every attached signature; `Ok` with the report when at least one verified.
fn verify(a: &ImageCheckArgs) -> Result<String, String> {
    let iv = ImageVerifier::new(a)?;
    let Attached {
        reg,
        target,
        digest,
        legacy: sigs,
        bundles,
        ..
    } = attached(&a.image, &a.registry, Legacy::Signatures)?;
    if sigs.is_empty() && bundles.is_empty() {
        return Err(format!("no signatures are attached to {target}"));
    }
    let mut outcomes = Vec::new();
    for (i, sig) in sigs.iter().enumerate() {
        let result = legacy::parse_payload(&sig.payload)
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
                let bundle = sig.to_bundle().map_err(|e| e.to_string())?;
                let v = iv.verify(&bundle, &Artifact::Bytes(&sig.payload))?;
                Ok(format!(
                    "signed by {} for {}; {}",
                    signed_by(&v),
                    p.docker_reference,
                    if sig.material.rekor.is_some() {
                        "logged"
                    } else {
                        "not logged"
                    }
                ))
            });
        outcomes.push(Outcome {
            name: format!("signature {}", i + 1),
            json: outcome_json(
                "legacy",
                &format!("{}#{}", legacy::signature_tag(&digest), i + 1),
                &result,
            ),
            result,
        });
    }
    // cosign 3's layout: bundles whose statement is a cosign signature of this digest.
    let artifact = Artifact::Digest {
        algorithm: sigil_crypto::HashAlgorithm::Sha2_256,
        digest: sha256_of(&digest)?.to_vec(),
    };
    for referrer in &bundles {
        let result = referrers::fetch_bundle(&reg, &target, referrer, referrers::MAX_BUNDLE_BYTES)
            .map_err(|e| e.to_string())
            .and_then(|json| {
                let bundle = iv.verifier.parse_bundle(&json).map_err(|e| e.to_string())?;
                if bundle
                    .dsse_envelope
                    .as_ref()
                    .and_then(claimed_predicate_type)
                    .as_deref()
                    != Some(referrers::SIGN_PREDICATE_TYPE)
                {
                    return Ok(None); // an attestation, not a signature
                }
                let v = iv.verify_json(&json, &artifact)?;
                Ok(Some(format!("signed by {}", signed_by(&v))))
            })
            .transpose();
        if let Some(result) = result {
            outcomes.push(Outcome {
                name: format!("bundle {}", referrer.digest),
                json: outcome_json("referrer", &referrer.digest, &result),
                result,
            });
        }
    }
    report(&target, "signature", &outcomes, a.output)
}

/// One result as JSON: where it is, and the signer or the failure.
pub(crate) fn outcome_json(layout: &str, location: &str, result: &Result<String, String>) -> serde_json::Value {
    match result {
        Ok(by) => serde_json::json!({"layout": layout, "location": location, "verified": true, "signer": by}),
        Err(e) => serde_json::json!({"layout": layout, "location": location, "verified": false, "error": e}),
    }
}

pub fn verify_image(a: VerifyImageArgs) -> ExitCode {
    finish_verify(verify(&a.check), a.check.output)
}

/// Prints a verify command's report (stdout) or failure (stderr; a JSON report of failures on stdout).
pub(crate) fn finish_verify(result: Result<String, String>, output: crate::verify::Output) -> ExitCode {
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) if output == crate::verify::Output::Json && e.starts_with('{') => {
            println!("{e}");
            eprintln!("Verification FAILED");
            ExitCode::FAILURE
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
        attestations,
        bundles,
        ..
    } = attached(&a.image, &a.registry, Legacy::Both)?;
    let legacy_json: Vec<serde_json::Value> = sigs
        .iter()
        .map(|s| {
            serde_json::json!({
                "payloadDigest": Digest::sha256_of(&s.payload).to_string(),
                "signer": if s.material.certificate_pem.is_some() { "certificate" } else { "key" },
                "logged": s.material.rekor.is_some(),
            })
        })
        .collect();
    let attestation_json: Vec<serde_json::Value> = attestations
        .iter()
        .map(|s| {
            serde_json::json!({
                "predicateType": s.predicate_type,
                "signer": if s.material.certificate_pem.is_some() { "certificate" } else { "key" },
                "logged": s.material.rekor.is_some(),
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
            "legacyAttestations": {"tag": legacy::attestation_tag(&digest), "attestations": attestation_json},
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
    out.push(format!(
        "  legacy attestations (tag {}): {}",
        legacy::attestation_tag(&digest),
        attestations.len()
    ));
    for s in &attestation_json {
        out.push(format!(
            "    {} signed with a {}, {}",
            s["predicateType"].as_str().unwrap_or("-"),
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
    } = attached(&a.image, &a.registry, Legacy::Signatures)?;
    let mut lines = Vec::new();
    for s in sigs {
        let b64 = sigil_bundle::encoding::encode_base64;
        lines.push(
            serde_json::json!({
                "Base64Signature": b64(&s.signature),
                "Payload": b64(&s.payload),
                "Cert": s.material.certificate_pem,
                "Chain": s.material.chain_pem,
                "Bundle": s.material.rekor,
            })
            .to_string(),
        );
    }
    for referrer in bundles {
        // Attestations are for `download attestation` (by the annotation; nothing is verified here).
        let claimed = referrer.annotations.get(referrers::PREDICATE_TYPE_ANNOTATION);
        if claimed.is_some_and(|t| t != referrers::SIGN_PREDICATE_TYPE) {
            continue;
        }
        lines.push(referrer_bundle_line(
            &reg,
            &target,
            &referrer,
            referrers::MAX_BUNDLE_BYTES,
        )?);
    }
    Ok(lines)
}

/// The bundle a referrer holds, as one line of JSON (unverified).
pub(crate) fn referrer_bundle_line(
    reg: &Registry,
    target: &Reference,
    referrer: &referrers::Descriptor,
    max: u64,
) -> Result<String, String> {
    let json = referrers::fetch_bundle(reg, target, referrer, max).map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_slice(&json)
        .map_err(|e| format!("the bundle of referrer {} is not JSON: {e}", referrer.digest))?;
    Ok(v.to_string())
}

pub fn download_signature(a: DownloadSignatureArgs) -> ExitCode {
    print_lines(download_signatures(&a))
}

/// Prints a command's output lines, or its error.
pub(crate) fn print_lines(lines: Result<Vec<String>, String>) -> ExitCode {
    match lines {
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
