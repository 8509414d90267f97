//! Helpers shared by the integration tests: fixture loading (read in place from /work/shared, never copied)
//! and a tiny DER certificate builder signed with ring, for chains the fixtures do not contain.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sigil_x509::{Certificate, CtLog};

pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

pub fn conformance() -> PathBuf {
    shared().join("conformance/bundle-verify")
}

pub fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

pub fn b64(s: &str) -> Vec<u8> {
    STANDARD.decode(s).unwrap()
}

pub fn rfc3339(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

/// (case name, expect accept?) from cases.tsv.
pub fn cases() -> Vec<(String, bool)> {
    let tsv = std::fs::read_to_string(shared().join("conformance/cases.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split('\t');
            let name = f.next().unwrap().to_string();
            let expect = f.next().unwrap() == "accept";
            (name, expect)
        })
        .collect()
}

/// Every bundle: the conformance cases (parseable JSON only) and the private-instance bundles.
pub fn all_bundles() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, _) in cases() {
        let p = conformance().join(&name).join("bundle.sigstore.json");
        if let Ok(v) = serde_json::from_str::<Value>(&std::fs::read_to_string(&p).unwrap()) {
            out.push((name, v));
        }
    }
    let pi = shared().join("private-instance");
    let mut names: Vec<_> = std::fs::read_dir(&pi)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sigstore.json"))
        .collect();
    names.sort();
    for n in names {
        out.push((format!("private-instance/{n}"), read_json(&pi.join(&n))));
    }
    out
}

/// The bundle's certificates (leaf first), as DER.
pub fn bundle_certs(bundle: &Value) -> Vec<Vec<u8>> {
    let vm = &bundle["verificationMaterial"];
    if let Some(c) = vm["certificate"]["rawBytes"].as_str() {
        return vec![b64(c)];
    }
    vm["x509CertificateChain"]["certificates"]
        .as_array()
        .map(|a| a.iter().map(|c| b64(c["rawBytes"].as_str().unwrap())).collect())
        .unwrap_or_default()
}

pub fn integrated_time(bundle: &Value) -> Option<i64> {
    bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
        .as_str()
        .map(|s| s.parse().unwrap())
        .filter(|&t| t != 0)
}

/// The trusted root a case uses: its own, or production.
pub fn trusted_root_for(case: &str) -> Value {
    if let Some(rest) = case.strip_prefix("private-instance/") {
        let _ = rest;
        return read_json(&shared().join("private-instance/trusted_root.json"));
    }
    let own = conformance().join(case).join("trusted_root.json");
    if own.exists() {
        read_json(&own)
    } else {
        read_json(&shared().join("conformance/production-trusted-root/trusted_root.json"))
    }
}

fn chains(root: &Value, key: &str) -> Vec<Vec<Certificate>> {
    root[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|ca| {
                    ca["certChain"]["certificates"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| Certificate::from_der(&b64(c["rawBytes"].as_str().unwrap())).unwrap())
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn fulcio_chains(root: &Value) -> Vec<Vec<Certificate>> {
    chains(root, "certificateAuthorities")
}

pub fn tsa_chains(root: &Value) -> Vec<Vec<Certificate>> {
    chains(root, "timestampAuthorities")
}

/// The trusted root's CT logs. Keys sigil cannot parse (one fixture ships a bare PKCS#1 RSA key) are skipped.
pub fn ct_logs(root: &Value) -> Vec<CtLog> {
    let mut out = Vec::new();
    for l in root["ctlogs"].as_array().into_iter().flatten() {
        let Ok(key) = sigil_crypto::VerifyingKey::from_spki_der(&b64(l["publicKey"]["rawBytes"].as_str().unwrap()))
        else {
            continue;
        };
        let id = b64(l["logId"]["keyId"].as_str().unwrap());
        let vf = &l["publicKey"]["validFor"];
        out.push(CtLog {
            log_id: id.try_into().unwrap(),
            key,
            valid_from: vf["start"].as_str().map(rfc3339),
            valid_until: vf["end"].as_str().map(rfc3339),
        });
    }
    out
}
