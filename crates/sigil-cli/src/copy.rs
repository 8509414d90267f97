//! `sigil copy SRC DST`: an image and what is attached to it (cosign's legacy `.sig`/`.att`/`.sbom` tags, bundles
//! and other OCI 1.1 referrers) to another repository or registry, as `cosign copy` does. The work is
//! `sigil_oci::copy`; this is flags, a progress bar for large blobs, and the report.

use std::cell::RefCell;
use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use sigil_oci::copy::{self, BlobOutcome, CopyOptions, CopyReport, ManifestOutcome, Overwrite, Progress, Scope};
use sigil_oci::{Credentials, Reference};

use crate::image::RegistryArgs;
use crate::verify::Output;

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The image to copy, by tag or digest.
    #[arg(value_name = "SRC")]
    source: String,
    /// Where to: `registry/repository[:tag]`. Without a tag, SRC's tag is used (none if SRC is a digest: the image
    /// is pushed by digest only). A digest here must be SRC's.
    #[arg(value_name = "DST")]
    destination: String,
    /// Copy only what is attached to the image (signatures, attestations, SBOMs, referrers), not the image.
    #[arg(long)]
    sig_only: bool,
    /// Replace a different manifest that DST already has under a signature, attestation or SBOM tag
    /// (`sha256-<digest>.sig`, `.att`, `.sbom`); without it the copy is refused before anything is written.
    #[arg(long)]
    force: bool,
    /// Output format: a line per manifest and blob and a summary, or one JSON object.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// How to reach the registries. `--registry-username/--registry-password` are the login for SRC's
    /// registry; the Docker config's logins apply to each registry by host.
    #[command(flatten)]
    registry: RegistryArgs,
    /// Login name for DST's registry, when it is not SRC's (with --dst-registry-password); --registry-username and
    /// --registry-password are the login for SRC's registry.
    #[arg(long, requires = "dst_registry_password")]
    dst_registry_username: Option<String>,
    /// Password or token for DST's registry (with --dst-registry-username).
    #[arg(long, requires = "dst_registry_username")]
    dst_registry_password: Option<String>,
}

/// Blobs this large or larger get a progress bar (on a terminal).
const BAR_THRESHOLD: u64 = 1 << 20;
const REDRAW_EVERY: Duration = Duration::from_millis(100);

struct Transfer {
    what: String,
    total: u64,
    done: u64,
    started: Instant,
    drawn: Option<Instant>,
}

/// A one-line progress bar on standard error, redrawn with `\r`, for blobs of at least [`BAR_THRESHOLD`] bytes
/// and only when standard error is a terminal.
struct Bar {
    enabled: bool,
    current: RefCell<Option<Transfer>>,
}

impl Bar {
    fn new() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            current: RefCell::new(None),
        }
    }

    fn draw(t: &Transfer) {
        let elapsed = t.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 { t.done as f64 / elapsed } else { 0.0 };
        const WIDTH: u64 = 30;
        let percent = t.done.saturating_mul(100).checked_div(t.total).unwrap_or(100);
        let filled = t.done.saturating_mul(WIDTH).checked_div(t.total).unwrap_or(WIDTH);
        let filled = usize::try_from(filled.min(WIDTH)).unwrap_or(0);
        let bar = format!(
            "{}{}",
            "#".repeat(filled),
            "-".repeat((WIDTH as usize).saturating_sub(filled))
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{} [{bar}] {}/{} {percent:>3}% {}/s\x1b[K",
            t.what,
            human_bytes(t.done),
            human_bytes(t.total),
            human_bytes(rate as u64)
        );
        let _ = err.flush();
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        if !self.enabled || total < BAR_THRESHOLD {
            return;
        }
        // `blob sha256:<64 hex>` is shortened to the first 12 hex digits, as docker shows layers.
        let what = match what.split_once("sha256:") {
            Some((head, hex)) => format!("{head}{}", hex.get(..12).unwrap_or(hex)),
            None => what.to_string(),
        };
        *self.current.borrow_mut() = Some(Transfer {
            what,
            total,
            done: 0,
            started: Instant::now(),
            drawn: None,
        });
    }

    fn advance(&self, bytes: u64) {
        if let Some(t) = self.current.borrow_mut().as_mut() {
            t.done = t.done.saturating_add(bytes);
            if t.drawn.is_none_or(|d| d.elapsed() >= REDRAW_EVERY) {
                Self::draw(t);
                t.drawn = Some(Instant::now());
            }
        }
    }

    fn finish(&self) {
        if let Some(t) = self.current.borrow_mut().take() {
            Self::draw(&t);
            eprintln!();
        }
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("B");
    if unit == 0 {
        format!("{n} {name}")
    } else {
        format!("{value:.1} {name}")
    }
}

fn blob_outcome(o: BlobOutcome) -> &'static str {
    match o {
        BlobOutcome::Uploaded => "uploaded",
        BlobOutcome::Mounted => "mounted",
        BlobOutcome::Present => "present",
        BlobOutcome::NotDistributable => "not distributable",
    }
}

fn manifest_outcome(o: ManifestOutcome) -> &'static str {
    match o {
        ManifestOutcome::Copied => "copied",
        ManifestOutcome::Tagged => "tagged",
        ManifestOutcome::Present => "present",
    }
}

fn destination_name(r: &CopyReport) -> String {
    match &r.tag {
        Some(t) => format!("{}:{t}@{}", r.destination.name(), r.destination.manifest_reference()),
        None => r.destination.to_string(),
    }
}

fn json_report(r: &CopyReport) -> serde_json::Value {
    let manifests: Vec<serde_json::Value> = r
        .manifests
        .iter()
        .map(|m| {
            serde_json::json!({
                "role": m.role.name(),
                "digest": m.digest.to_string(),
                "mediaType": m.media_type,
                "size": m.size,
                "tag": m.tag,
                "subject": m.subject.as_ref().map(ToString::to_string),
                "replaced": m.replaced.as_ref().map(ToString::to_string),
                "result": manifest_outcome(m.outcome),
            })
        })
        .collect();
    let blobs: Vec<serde_json::Value> = r
        .blobs
        .iter()
        .map(|b| serde_json::json!({"digest": b.digest.to_string(), "size": b.size, "result": blob_outcome(b.outcome)}))
        .collect();
    serde_json::json!({
        "source": r.source.to_string(),
        "destination": r.destination.to_string(),
        "tag": r.tag,
        "manifests": manifests,
        "blobs": {
            "uploaded": r.blob_count(BlobOutcome::Uploaded),
            "mounted": r.blob_count(BlobOutcome::Mounted),
            "present": r.blob_count(BlobOutcome::Present),
            "notDistributable": r.blob_count(BlobOutcome::NotDistributable),
            "bytesUploaded": r.bytes_uploaded(),
            "list": blobs,
        },
        "ignored": r.ignored,
    })
}

fn text_report(r: &CopyReport) -> String {
    let mut lines = Vec::new();
    for b in &r.blobs {
        lines.push(format!(
            "blob {} ({}): {}",
            b.digest,
            human_bytes(b.size),
            blob_outcome(b.outcome)
        ));
    }
    for m in &r.manifests {
        let mut line = format!("{} {}: {}", m.role, m.digest, manifest_outcome(m.outcome));
        if let Some(t) = &m.tag {
            line.push_str(&format!(", tag {t}"));
        }
        if let Some(old) = &m.replaced {
            line.push_str(&format!(" (was {old})"));
        }
        lines.push(line);
    }
    for i in &r.ignored {
        lines.push(format!("not copied: {i}"));
    }
    let count = |o| r.manifests.iter().filter(|m| m.outcome == o).count();
    lines.push(format!(
        "Copied {} to {}: {} manifests ({} copied, {} tagged, {} present), {} blobs ({} uploaded, {} mounted, {} present), {} uploaded",
        r.source,
        destination_name(r),
        r.manifests.len(),
        count(ManifestOutcome::Copied),
        count(ManifestOutcome::Tagged),
        count(ManifestOutcome::Present),
        r.blobs.len(),
        r.blob_count(BlobOutcome::Uploaded),
        r.blob_count(BlobOutcome::Mounted),
        r.blob_count(BlobOutcome::Present),
        human_bytes(r.bytes_uploaded()),
    ));
    lines.join("\n")
}

fn run(a: &CopyArgs) -> Result<String, String> {
    let parse = |s: &str| s.parse::<Reference>().map_err(|e| e.to_string());
    let src = parse(&a.source)?;
    let dst = parse(&a.destination)?;
    let mut reg = crate::image::registry(&a.registry, &src)?;
    if let (Some(username), Some(password)) = (&a.dst_registry_username, &a.dst_registry_password) {
        reg.add_credentials(
            dst.registry(),
            Credentials {
                username: username.clone(),
                password: password.clone(),
            },
        );
    } else if !reg.has_credentials(dst.registry())
        && let Some(login) = crate::image::helper_login(dst.registry())?
    {
        reg.add_credentials(dst.registry(), login);
    }
    let options = CopyOptions {
        scope: if a.sig_only {
            Scope::AttachmentsOnly
        } else {
            Scope::ImageAndAttachments
        },
        overwrite: if a.force { Overwrite::Replace } else { Overwrite::Refuse },
    };
    let report = copy::copy(&reg, &src, &dst, &options, &Bar::new()).map_err(|e| {
        let hint = if matches!(e, sigil_oci::Error::Conflict(_)) {
            " (pass --force to replace it)"
        } else {
            ""
        };
        format!("copying {src} to {dst}: {e}{hint}")
    })?;
    Ok(match a.output {
        Output::Json => json_report(&report).to_string(),
        Output::Text => text_report(&report),
    })
}

pub fn copy(a: CopyArgs) -> ExitCode {
    match run(&a) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(8 << 20), "8.0 MiB");
        assert_eq!(human_bytes(u64::MAX), "16777216.0 TiB");
    }
}
