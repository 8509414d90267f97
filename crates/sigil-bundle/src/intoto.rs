//! in-toto Statement v1 (and v0.1), the DSSE payload Sigstore attests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Limits};

pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
pub const STATEMENT_V0_1: &str = "https://in-toto.io/Statement/v0.1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    pub predicate_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Algorithm name (`sha256`) → lowercase hex.
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// Parses a statement and checks the rules verifiers rely on: a known `_type`, at least one
    /// subject, every subject with a digest, and bounded counts.
    pub fn from_json(json: &[u8], limits: &Limits) -> Result<Self, Error> {
        let st: Statement = serde_json::from_slice(json).map_err(|e| Error::Json(e.to_string()))?;
        if st.statement_type != STATEMENT_V1 && st.statement_type != STATEMENT_V0_1 {
            return Err(Error::Structure("unknown in-toto statement _type"));
        }
        if st.subject.is_empty() {
            return Err(Error::Structure("in-toto statement has no subjects"));
        }
        if st.subject.len() > limits.max_subjects {
            return Err(Error::LimitExceeded("in-toto subjects"));
        }
        for s in &st.subject {
            if s.digest.is_empty() {
                return Err(Error::Structure("in-toto subject without digest"));
            }
            if s.digest.len() > limits.max_digests_per_subject {
                return Err(Error::LimitExceeded("digests per in-toto subject"));
            }
        }
        Ok(st)
    }

    /// Whether any subject carries exactly this digest under this algorithm name (no cross-algorithm match).
    pub fn has_subject_digest(&self, alg: &str, hex_digest: &str) -> bool {
        self.subject
            .iter()
            .any(|s| s.digest.get(alg).is_some_and(|d| d.eq_ignore_ascii_case(hex_digest)))
    }
}
