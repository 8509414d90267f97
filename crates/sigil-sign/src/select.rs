//! Choosing the services to call from a signing config v0.2, the way sigstore-python 4.x does
//! (`SigningConfig._get_valid_services`, INTEROP.md §2.1, PROTOCOL.md §2):
//!
//! 1. keep services whose `majorApiVersion` is supported (CA 1, Rekor 1 or 2, TSA 1, OIDC 1) and whose
//!    `validFor` contains now (no `validFor` = always valid);
//! 2. per `operator` (in order of first appearance), keep the one with the highest version (the last listed
//!    among equals);
//! 3. apply the selector: no config or `ALL` keeps them all, `ANY` keeps the first, `EXACT` keeps `count`
//!    (fails if fewer);
//! 4. the CA and OIDC lists have no selector: the first survivor is used, and only the first selected log.

use sigil_bundle::SigningConfig;
use sigil_bundle::trust::{Service, ServiceConfiguration, TimeRange};

use crate::Error;

pub const SIGNING_CONFIG_V0_2: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// Which Rekor API to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RekorVersion {
    /// The highest version the config offers per operator (sigstore-python's default).
    #[default]
    Auto,
    /// Only `majorApiVersion: 1` logs.
    V1,
    /// Only `majorApiVersion: 2` logs.
    V2,
}

/// The services one signing run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    pub ca: Service,
    pub tlog: Service,
    /// Every selected TSA is asked for a timestamp.
    pub tsas: Vec<Service>,
    /// The OIDC issuer for the interactive flow, if the config lists one.
    pub oidc: Option<Service>,
}

fn valid_at(range: Option<&TimeRange>, now: i64) -> bool {
    let Some(r) = range else { return true };
    r.start.as_ref().is_none_or(|s| s.unix() <= now) && r.end.as_ref().is_none_or(|e| now <= e.unix())
}

/// Steps 1–3 for one list.
pub fn valid_services(
    what: &str,
    services: &[Service],
    supported: &[u32],
    config: Option<&ServiceConfiguration>,
    now: i64,
) -> Result<Vec<Service>, Error> {
    // Operators in order of first appearance, each with its best service so far.
    let mut best: Vec<Service> = Vec::new();
    for s in services {
        if !supported.contains(&s.major_api_version) || !valid_at(s.valid_for.as_ref(), now) {
            continue;
        }
        match best.iter_mut().find(|b| b.operator == s.operator) {
            Some(b) if s.major_api_version >= b.major_api_version => *b = s.clone(),
            Some(_) => {}
            None => best.push(s.clone()),
        }
    }
    let Some(config) = config else {
        return Ok(best);
    };
    let count = match config.selector.as_str() {
        "ALL" => return Ok(best),
        "ANY" => 1,
        "EXACT" => match config.count {
            Some(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => 1,
        },
        other => {
            return Err(Error::Config(format!(
                "{what}: unknown selector {:?}",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    if best.is_empty() {
        return Err(Error::Config(format!(
            "{what}: no service valid now with majorApiVersion in {supported:?}"
        )));
    }
    if best.len() < count {
        return Err(Error::Config(format!(
            "{what}: {count} service(s) required, {} valid",
            best.len()
        )));
    }
    best.truncate(count);
    Ok(best)
}

/// Selects the CA, the log, the TSAs and the OIDC issuer at `now` (unix seconds).
pub fn select_services(config: &SigningConfig, now: i64, rekor: RekorVersion) -> Result<Services, Error> {
    if config.media_type != SIGNING_CONFIG_V0_2 {
        return Err(Error::Config(format!(
            "unsupported signing config media type {:?} (expected {SIGNING_CONFIG_V0_2})",
            config.media_type.chars().take(100).collect::<String>()
        )));
    }
    let ca = valid_services("caUrls", &config.ca_urls, &[1], None, now)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Config("caUrls: no valid certificate authority".into()))?;
    let oidc = valid_services("oidcUrls", &config.oidc_urls, &[1], None, now)?
        .into_iter()
        .next();
    let versions: &[u32] = match rekor {
        RekorVersion::Auto => &[1, 2],
        RekorVersion::V1 => &[1],
        RekorVersion::V2 => &[2],
    };
    let tlog = valid_services(
        "rekorTlogUrls",
        &config.rekor_tlog_urls,
        versions,
        config.rekor_tlog_config.as_ref(),
        now,
    )?
    .into_iter()
    .next()
    .ok_or_else(|| match rekor {
        RekorVersion::Auto => Error::Config("rekorTlogUrls: no valid transparency log".into()),
        RekorVersion::V1 => Error::Config("rekorTlogUrls: no valid Rekor v1 log".into()),
        RekorVersion::V2 => Error::Config("rekorTlogUrls: no valid Rekor v2 log".into()),
    })?;
    let tsas = valid_services("tsaUrls", &config.tsa_urls, &[1], config.tsa_config.as_ref(), now)?;
    Ok(Services { ca, tlog, tsas, oidc })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use sigil_bundle::Limits;

    const NOW: i64 = 1_800_000_000; // 2027-01-15

    fn cfg(v: serde_json::Value) -> SigningConfig {
        SigningConfig::from_json(v.to_string().as_bytes(), &Limits::default()).unwrap()
    }

    fn svc(url: &str, v: u32, op: &str) -> serde_json::Value {
        serde_json::json!({"url": url, "majorApiVersion": v, "operator": op})
    }

    fn base(tlogs: serde_json::Value, tlog_cfg: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "mediaType": SIGNING_CONFIG_V0_2,
            "caUrls": [svc("https://ca", 1, "a")],
            "rekorTlogUrls": tlogs,
            "rekorTlogConfig": tlog_cfg,
        })
    }

    #[test]
    fn one_operator_with_v1_and_v2_means_v2_unless_forced() {
        let c = cfg(base(
            serde_json::json!([svc("https://r1", 1, "a"), svc("https://r2", 2, "a")]),
            serde_json::json!({"selector": "ANY"}),
        ));
        assert_eq!(
            select_services(&c, NOW, RekorVersion::Auto).unwrap().tlog.url,
            "https://r2"
        );
        assert_eq!(
            select_services(&c, NOW, RekorVersion::V1).unwrap().tlog.url,
            "https://r1"
        );
        assert_eq!(
            select_services(&c, NOW, RekorVersion::V2).unwrap().tlog.url,
            "https://r2"
        );
    }

    #[test]
    fn highest_version_per_operator_then_any_takes_the_first_operator() {
        let c = cfg(base(
            serde_json::json!([
                svc("https://b1", 1, "b"),
                svc("https://a2", 2, "a"),
                svc("https://b2", 2, "b")
            ]),
            serde_json::json!({"selector": "ANY"}),
        ));
        assert_eq!(
            select_services(&c, NOW, RekorVersion::Auto).unwrap().tlog.url,
            "https://b2"
        );
    }

    #[test]
    fn unsupported_versions_and_invalid_windows_are_dropped() {
        let mut expired = svc("https://old", 1, "a");
        expired["validFor"] = serde_json::json!({"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"});
        let mut future = svc("https://future", 1, "b");
        future["validFor"] = serde_json::json!({"start": "2099-01-01T00:00:00Z"});
        let mut current = svc("https://now", 1, "c");
        current["validFor"] = serde_json::json!({"start": "2020-01-01T00:00:00Z"});
        let c = cfg(base(
            serde_json::json!([svc("https://v3", 3, "z"), expired, future, current]),
            serde_json::json!({"selector": "ALL"}),
        ));
        let s = select_services(&c, NOW, RekorVersion::Auto).unwrap();
        assert_eq!(s.tlog.url, "https://now");
    }

    #[test]
    fn exact_needs_count_services() {
        let tlogs = serde_json::json!([svc("https://a", 1, "a"), svc("https://b", 1, "b")]);
        let two = valid_services(
            "t",
            &cfg(base(
                tlogs.clone(),
                serde_json::json!({"selector": "EXACT", "count": 2}),
            ))
            .rekor_tlog_urls,
            &[1, 2],
            Some(&ServiceConfiguration {
                selector: "EXACT".into(),
                count: Some(2),
            }),
            NOW,
        )
        .unwrap();
        assert_eq!(two.len(), 2);
        let c = cfg(base(tlogs, serde_json::json!({"selector": "EXACT", "count": 3})));
        let err = select_services(&c, NOW, RekorVersion::Auto).unwrap_err();
        assert!(err.to_string().contains("3 service(s) required, 2 valid"), "{err}");
    }

    #[test]
    fn all_tsas_without_config_and_any_with_it() {
        let mut v = base(
            serde_json::json!([svc("https://r", 1, "a")]),
            serde_json::json!({"selector": "ANY"}),
        );
        v["tsaUrls"] = serde_json::json!([svc("https://t1/ts", 1, "a"), svc("https://t2/ts", 1, "b")]);
        assert_eq!(
            select_services(&cfg(v.clone()), NOW, RekorVersion::Auto)
                .unwrap()
                .tsas
                .len(),
            2
        );
        v["tsaConfig"] = serde_json::json!({"selector": "ANY"});
        let s = select_services(&cfg(v), NOW, RekorVersion::Auto).unwrap();
        assert_eq!(s.tsas.len(), 1);
        assert_eq!(s.tsas[0].url, "https://t1/ts");
    }

    #[test]
    fn same_operator_same_version_keeps_the_last_listed() {
        let c = cfg(base(
            serde_json::json!([svc("https://first", 1, "a"), svc("https://second", 1, "a")]),
            serde_json::json!({"selector": "ANY"}),
        ));
        assert_eq!(
            select_services(&c, NOW, RekorVersion::Auto).unwrap().tlog.url,
            "https://second"
        );
    }

    #[test]
    fn missing_services_and_bad_media_type_are_errors() {
        let c = cfg(base(
            serde_json::json!([svc("https://r1", 1, "a")]),
            serde_json::json!({"selector": "ANY"}),
        ));
        let err = select_services(&c, NOW, RekorVersion::V2).unwrap_err();
        assert!(
            err.to_string()
                .contains("rekorTlogUrls: no service valid now with majorApiVersion in [2]"),
            "{err}"
        );
        let mut bad = c.clone();
        bad.media_type = "application/vnd.dev.sigstore.signingconfig.v0.1+json".into();
        assert!(matches!(
            select_services(&bad, NOW, RekorVersion::Auto),
            Err(Error::Config(_))
        ));
        let mut unknown = c;
        unknown.rekor_tlog_config = Some(ServiceConfiguration {
            selector: "SOME".into(),
            count: None,
        });
        assert!(matches!(
            select_services(&unknown, NOW, RekorVersion::Auto),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn embedded_public_good_config_selects_fulcio_rekor_and_the_tsa() {
        let c =
            SigningConfig::from_json(sigil_trust::PRODUCTION_SIGNING_CONFIG.as_bytes(), &Limits::default()).unwrap();
        let s = select_services(&c, NOW, RekorVersion::V1).unwrap();
        assert_eq!(s.ca.url, "https://fulcio.sigstore.dev");
        assert_eq!(s.tlog.url, "https://rekor.sigstore.dev");
    }
}
