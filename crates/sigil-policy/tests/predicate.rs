//! Predicate policy: reading policy files, evaluating them against in-toto statements (SLSA v1 provenance,
//! CycloneDX), and properties of paths and evaluation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a panic is a failed test

use proptest::prelude::*;
use serde_json::{Value, json};
use sigil_policy::Error;
use sigil_policy::predicate::{
    Check, MAX_POLICY_BYTES, MAX_RULES, MAX_SELECTED, MAX_STATEMENT_BYTES, Path, PredicatePolicy, Quantifier, Rule,
    Segment, Violation,
};

fn policy(v: Value) -> PredicatePolicy {
    PredicatePolicy::from_json(v.to_string().as_bytes()).unwrap()
}

fn policy_error(text: &str) -> Error {
    PredicatePolicy::from_json(text.as_bytes()).unwrap_err()
}

/// The error inside `InvalidRule`, after checking the rule number.
fn rule_error(text: &str, rule: usize) -> Error {
    match policy_error(text) {
        Error::InvalidRule { rule: r, error } => {
            assert_eq!(r, rule, "{text}");
            *error
        }
        other => panic!("{text}: expected an invalid rule, got {other:?}"),
    }
}

fn violations(p: &PredicatePolicy, statement: &Value) -> Vec<Violation> {
    match p.evaluate(statement) {
        Err(Error::PredicateMismatch { violations, rules }) => {
            assert_eq!(rules, p.rules().len());
            violations
        }
        other => panic!("expected violations, got {other:?}"),
    }
}

/// One rule's outcome: `None` if it passes, else what it found.
fn found(rule: Value, statement: &Value) -> Option<String> {
    let p = policy(json!({ "rules": [rule] }));
    match p.evaluate(statement) {
        Ok(()) => None,
        Err(Error::PredicateMismatch { mut violations, .. }) => {
            assert_eq!(violations.len(), 1);
            Some(violations.remove(0).found)
        }
        Err(e) => panic!("{e}"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a policy

#[test]
fn reads_every_check_and_quantifier() {
    let p = policy(json!({"rules": [
        {"path": "$.a", "equals": {"x": [1, "y"]}},
        {"path": "$.b[*]", "matches": "v[0-9]+", "quantifier": "any"},
        {"path": "$.c", "exists": true},
        {"path": "$['d e']", "exists": false},
        {"path": "$.f", "equals": null, "quantifier": "all"},
    ]}));
    let r = p.rules();
    assert_eq!(r.len(), 5);
    assert!(
        matches!(r[0].check(), Check::Equals { value, quantifier: Quantifier::All } if value == &json!({"x": [1, "y"]}))
    );
    assert!(
        matches!(r[1].check(), Check::Matches { regex, quantifier: Quantifier::Any } if regex.as_str() == "v[0-9]+")
    );
    assert!(matches!(r[2].check(), Check::Exists));
    assert!(matches!(r[3].check(), Check::Absent));
    // `"equals": null` checks for null; it is not a missing check.
    assert!(matches!(r[4].check(), Check::Equals { value: Value::Null, .. }));
    assert_eq!(r[3].path().segments(), &[Segment::Field("d e".into())]);
}

#[test]
fn policy_errors() {
    // Rule shape.
    let e = rule_error(r#"{"rules": [{"path": "$.a", "exists": true}, {"path": "$.b"}]}"#, 2);
    assert_eq!(e, Error::NoCheck);
    let e = rule_error(r#"{"rules": [{"path": "$.a", "equals": 1, "matches": "x"}]}"#, 1);
    assert_eq!(
        e,
        Error::ConflictingChecks {
            checks: vec!["equals", "matches"]
        }
    );
    let e = rule_error(
        r#"{"rules": [{"path": "$.a", "equals": 1, "matches": "x", "exists": true}]}"#,
        1,
    );
    assert_eq!(
        e,
        Error::ConflictingChecks {
            checks: vec!["equals", "matches", "exists"]
        }
    );
    let e = rule_error(
        r#"{"rules": [{"path": "$.a", "exists": false, "quantifier": "all"}]}"#,
        1,
    );
    assert_eq!(e, Error::QuantifierWithExists);
    // Paths.
    let e = rule_error(r#"{"rules": [{"path": "$.a..b", "exists": true}]}"#, 1);
    assert!(matches!(e, Error::InvalidPath { column: 5, .. }), "{e:?}");
    let long = format!(r#"{{"rules": [{{"path": "$.{}", "exists": true}}]}}"#, "a".repeat(2000));
    assert!(matches!(
        rule_error(&long, 1),
        Error::PathTooLong { len: 2002, max: 1024 }
    ));
    // Regular expressions: invalid, too big, ambiguous dots.
    let e = rule_error(r#"{"rules": [{"path": "$.a", "matches": "("}]}"#, 1);
    assert!(
        matches!(e, Error::InvalidRegex { ref pattern, .. } if pattern == "("),
        "{e:?}"
    );
    let e = rule_error(r#"{"rules": [{"path": "$.a", "matches": "\\w{1000}{1000}"}]}"#, 1);
    assert!(matches!(e, Error::InvalidRegex { .. }), "{e:?}");
    let e = rule_error(r#"{"rules": [{"path": "$.a", "matches": "https://github.com/.*"}]}"#, 1);
    assert!(matches!(e, Error::AmbiguousDot { .. }), "{e:?}");

    // File shape: unknown fields anywhere, wrong types, missing fields, duplicates, not JSON.
    for (text, needle) in [
        (r#"{"rules": [{"path": "$.a", "equal": 1}]}"#, "unknown field `equal`"),
        (
            r#"{"rules": [{"path": "$.a", "exists": true}], "version": 1}"#,
            "unknown field `version`",
        ),
        (
            r#"{"rules": [{"path": "$.a", "equals": 1, "quantifier": "every"}]}"#,
            "unknown variant `every`",
        ),
        (r#"{"rules": [{"path": "$.a", "matches": null}]}"#, "invalid type: null"),
        (
            r#"{"rules": [{"path": "$.a", "exists": "yes"}]}"#,
            "invalid type: string",
        ),
        (
            r#"{"rules": [{"path": "$.a", "quantifier": null, "equals": 1}]}"#,
            "expected value",
        ),
        (r#"{"rules": [{"exists": true}]}"#, "missing field `path`"),
        (
            r#"{"rules": [{"path": "$.a", "path": "$.b", "exists": true}]}"#,
            "duplicate field `path`",
        ),
        (r#"{}"#, "missing field `rules`"),
        (r#"{"rules": {}}"#, "invalid type: map"),
        (r#"[]"#, "invalid type: sequence, expected a JSON object"),
        (
            r#"[[{"path": "$.a", "exists": true}]]"#,
            "invalid type: sequence, expected a JSON object",
        ),
        (
            r#"{"rules": [["$.a", 1, null, null, null]]}"#,
            "invalid type: sequence, expected a JSON object",
        ),
        (
            r#"{"rules": [{"path": "$.a", "exists": true}]} x"#,
            "trailing characters",
        ),
        ("", "EOF"),
        ("rules:\n  - path: $.a", "expected value"),
    ] {
        match policy_error(text) {
            Error::PolicyFormat { reason } => assert!(reason.contains(needle), "{text}: {reason}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    // Serde's message says where.
    let e = policy_error("{\"rules\": [\n  {\"path\": \"$.a\", \"equal\": 1}\n]}");
    assert!(e.to_string().contains("line 2"), "{e}");

    // Counts and sizes.
    assert_eq!(policy_error(r#"{"rules": []}"#), Error::NoRules);
    let rule = r#"{"path": "$", "exists": true}"#;
    let rules = |n: usize| format!(r#"{{"rules": [{}]}}"#, vec![rule; n].join(","));
    assert_eq!(
        PredicatePolicy::from_json(rules(MAX_RULES).as_bytes())
            .unwrap()
            .rules()
            .len(),
        MAX_RULES
    );
    assert_eq!(
        policy_error(&rules(MAX_RULES + 1)),
        Error::TooManyRules {
            count: MAX_RULES + 1,
            max: MAX_RULES
        }
    );
    let padded = |n: usize| format!("{}{}", rules(1), " ".repeat(n - rules(1).len()));
    assert!(PredicatePolicy::from_json(padded(MAX_POLICY_BYTES).as_bytes()).is_ok());
    assert_eq!(
        policy_error(&padded(MAX_POLICY_BYTES + 1)),
        Error::PolicyTooLarge {
            len: MAX_POLICY_BYTES + 1,
            max: MAX_POLICY_BYTES
        }
    );
    // The same limits hold for policies built in code.
    assert_eq!(PredicatePolicy::new(vec![]).unwrap_err(), Error::NoRules);
    let r = Rule::new(Path::parse("$").unwrap(), Check::Exists);
    assert!(matches!(
        PredicatePolicy::new(vec![r; MAX_RULES + 1]),
        Err(Error::TooManyRules { .. })
    ));
}

#[test]
fn documented_example_parses() {
    let doc = include_str!("../../../docs/attestation-policy.md");
    let start = doc.find("```json\n").unwrap() + "```json\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let p = PredicatePolicy::from_json(&doc.as_bytes()[start..end]).unwrap();
    assert_eq!(p.rules().len(), 6);
    // It describes the statement in `slsa_v1` except for the builder, which is not acme's.
    let v = violations(&p, &slsa_v1());
    assert_eq!(v.iter().map(|v| v.rule).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn error_messages() {
    let e = policy_error(r#"{"rules": [{"path": "$.ok", "exists": true}, {"path": "$.a..b", "exists": true}]}"#);
    assert_eq!(
        e.to_string(),
        r#"rule 2: invalid path "$.a..b" at character 5: recursive descent (..) is not supported"#
    );
    let e = policy_error(r#"{"rules": [{"path": "$.a", "equals": 1, "exists": true}]}"#);
    assert_eq!(
        e.to_string(),
        "rule 1: more than one check (equals, exists): give exactly one of equals, matches or exists"
    );
    assert_eq!(
        policy_error(r#"{"rules": []}"#).to_string(),
        "a predicate policy without rules checks nothing and is refused"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluating

#[test]
fn equals() {
    let s = json!({"n": 1, "f": 2.5, "s": "x", "o": {"a": [1, 2]}, "nul": null, "t": true});
    assert_eq!(found(json!({"path": "$.n", "equals": 1}), &s), None);
    assert_eq!(
        found(json!({"path": "$.n", "equals": 1.0}), &s),
        None,
        "numbers compare by value"
    );
    assert_eq!(found(json!({"path": "$.f", "equals": 2.5}), &s), None);
    assert_eq!(found(json!({"path": "$.o", "equals": {"a": [1.0, 2]}}), &s), None);
    assert_eq!(found(json!({"path": "$.nul", "equals": null}), &s), None);
    assert_eq!(found(json!({"path": "$.t", "equals": true}), &s), None);
    assert_eq!(found(json!({"path": "$.n", "equals": "1"}), &s).unwrap(), "1");
    assert_eq!(found(json!({"path": "$.s", "equals": "X"}), &s).unwrap(), r#""x""#);
    assert_eq!(
        found(json!({"path": "$.o", "equals": {"a": [2, 1]}}), &s).unwrap(),
        r#"{"a":[1,2]}"#
    );
    assert_eq!(found(json!({"path": "$.t", "equals": 1}), &s).unwrap(), "true");
    // A missing value is not null.
    assert_eq!(
        found(json!({"path": "$.missing", "equals": null}), &s).unwrap(),
        "no value"
    );
}

#[test]
fn matches_is_anchored_and_needs_a_string() {
    let s = json!({"id": "https://github.com/acme/builder", "n": 5, "list": ["a"]});
    assert_eq!(
        found(json!({"path": "$.id", "matches": "https://github\\.com/acme/.*"}), &s),
        None
    );
    assert_eq!(
        found(json!({"path": "$.id", "matches": "^https://github\\.com/acme/.*$"}), &s),
        None
    );
    // The whole string must match: a prefix or a substring is not enough.
    assert!(found(json!({"path": "$.id", "matches": "https://github\\.com/acme/"}), &s).is_some());
    assert!(found(json!({"path": "$.id", "matches": "acme"}), &s).is_some());
    // Numbers and arrays are not strings, even when their text would match.
    assert_eq!(found(json!({"path": "$.n", "matches": "[0-9]+"}), &s).unwrap(), "5");
    assert_eq!(
        found(json!({"path": "$.list", "matches": ".*"}), &s).unwrap(),
        r#"["a"]"#
    );
    assert_eq!(
        found(json!({"path": "$.nope", "matches": ".*"}), &s).unwrap(),
        "no value"
    );
}

#[test]
fn exists() {
    let s = json!({"a": {"b": null}, "list": [], "obj": {}});
    assert_eq!(
        found(json!({"path": "$.a.b", "exists": true}), &s),
        None,
        "null is a value"
    );
    assert_eq!(found(json!({"path": "$.a.c", "exists": true}), &s).unwrap(), "no value");
    assert_eq!(found(json!({"path": "$.a.c", "exists": false}), &s), None);
    assert_eq!(found(json!({"path": "$.a.b", "exists": false}), &s).unwrap(), "null");
    assert_eq!(
        found(json!({"path": "$.list[*]", "exists": true}), &s).unwrap(),
        "no value"
    );
    assert_eq!(found(json!({"path": "$.list[*]", "exists": false}), &s), None);
    assert_eq!(found(json!({"path": "$.obj[*]", "exists": false}), &s), None);
    let s = json!({"xs": [{"debug": 1}, {}, {"debug": {"deep": true}}]});
    assert_eq!(
        found(json!({"path": "$.xs[*].debug", "exists": false}), &s).unwrap(),
        "1 at $.xs[0].debug"
    );
    assert_eq!(found(json!({"path": "$.xs[*].debug", "exists": true}), &s), None);
}

#[test]
fn quantifiers() {
    let s = json!({"xs": ["a1", "b2", "a3"], "empty": [], "m": {"k1": "a", "k 2": "b"}});
    let rule = |path: &str, pattern: &str, q: &str| json!({"path": path, "matches": pattern, "quantifier": q});
    assert_eq!(found(rule("$.xs[*]", "[ab][0-9]", "all"), &s), None);
    assert_eq!(
        found(rule("$.xs[*]", "a[0-9]", "all"), &s).unwrap(),
        r#""b2" at $.xs[1] (1 of 3 values fail)"#
    );
    assert_eq!(found(rule("$.xs[*]", "b[0-9]", "any"), &s), None);
    assert_eq!(
        found(rule("$.xs[*]", "c[0-9]", "any"), &s).unwrap(),
        r#"none of 3 values (first: "a1" at $.xs[0])"#
    );
    // Nothing selected fails both quantifiers.
    assert_eq!(found(rule("$.empty[*]", ".*", "all"), &s).unwrap(), "no value");
    assert_eq!(found(rule("$.empty[*]", ".*", "any"), &s).unwrap(), "no value");
    // Quantifier over object values; locations quote names that are not identifiers.
    assert_eq!(
        found(rule("$.m[*]", "a", "all"), &s).unwrap(),
        r#""b" at $.m["k 2"] (1 of 2 values fail)"#
    );
    assert_eq!(found(rule("$.m[*]", "b", "any"), &s), None);
    // The default is all.
    assert!(found(json!({"path": "$.xs[*]", "equals": "a1"}), &s).is_some());
    assert_eq!(
        found(json!({"path": "$.xs[*]", "equals": "a1", "quantifier": "any"}), &s),
        None
    );
}

#[test]
fn reports_every_failing_rule_in_order() {
    let p = policy(json!({"rules": [
        {"path": "$.predicateType", "equals": "https://slsa.dev/provenance/v1"},
        {"path": "$.a", "equals": 1},
        {"path": "$.b", "matches": "v[0-9]+"},
        {"path": "$.c", "exists": true},
        {"path": "$.d", "exists": false},
    ]}));
    let s = json!({"predicateType": "https://slsa.dev/provenance/v0.2", "a": 1, "b": "w1", "d": [1, 2]});
    let v = violations(&p, &s);
    assert_eq!(v.iter().map(|v| v.rule).collect::<Vec<_>>(), vec![1, 3, 4, 5]);
    assert_eq!(v[0].path, "$.predicateType");
    assert_eq!(v[0].expected, r#""https://slsa.dev/provenance/v1""#);
    assert_eq!(v[0].found, r#""https://slsa.dev/provenance/v0.2""#);
    assert_eq!(
        v[1].to_string(),
        r#"rule 3 ($.b): expected a string matching "v[0-9]+", found "w1""#
    );
    assert_eq!(v[2].to_string(), "rule 4 ($.c): expected a value, found no value");
    assert_eq!(v[3].to_string(), "rule 5 ($.d): expected no value, found [1,2]");
    let message = p.evaluate(&s).unwrap_err().to_string();
    assert!(
        message.starts_with("statement does not satisfy the predicate policy (4 of 5 rules failed): rule 1 "),
        "{message}"
    );
    assert!(message.contains("; rule 5 ($.d)"), "{message}");
}

#[test]
fn paths_are_reported_as_written() {
    let p = policy(json!({"rules": [{"path": "$['predicate'][\"x\"]", "equals": 1}]}));
    let v = violations(&p, &json!({"predicate": {"x": 2}}));
    assert_eq!(v[0].path, "$['predicate'][\"x\"]");
    assert_eq!(p.rules()[0].path().to_string(), "$.predicate.x");
}

#[test]
fn quoted_values_are_cut() {
    let s = json!({"big": "x".repeat(100_000), "xs": ["é".repeat(500)]});
    let f = found(json!({"path": "$.big", "equals": "y"}), &s).unwrap();
    assert!(f.len() < 210 && f.ends_with('…'), "{f}");
    let f = found(json!({"path": "$.xs[*]", "equals": "y"}), &s).unwrap();
    assert!(f.ends_with("… at $.xs[0]"), "{f}");
    let p = policy(json!({"rules": [{"path": "$.big", "equals": "z".repeat(1000)}]}));
    let v = violations(&p, &s);
    assert!(v[0].expected.len() < 210, "{}", v[0].expected);
}

#[test]
fn selection_is_capped() {
    let n = MAX_SELECTED + 1;
    let s = json!({"xs": vec![0; n], "ok": vec![0; MAX_SELECTED]});
    let limit = format!("more than {MAX_SELECTED} values (the limit for one rule)");
    assert_eq!(found(json!({"path": "$.xs[*]", "equals": 0}), &s).unwrap(), limit);
    assert_eq!(
        found(json!({"path": "$.xs[*]", "equals": 1, "quantifier": "any"}), &s).unwrap(),
        limit
    );
    // Up to the cap is fine, and an answer known early is not an overflow.
    assert_eq!(found(json!({"path": "$.ok[*]", "equals": 0}), &s), None);
    assert_eq!(
        found(json!({"path": "$.xs[*]", "equals": 0, "quantifier": "any"}), &s),
        None
    );
    assert_eq!(found(json!({"path": "$.xs[*]", "exists": true}), &s), None);
    assert_eq!(
        found(json!({"path": "$.xs[*]", "exists": false}), &s).unwrap(),
        "0 at $.xs[0]"
    );
}

#[test]
fn evaluate_json_bounds_and_shape() {
    let p = policy(json!({"rules": [{"path": "$.a", "exists": true}]}));
    assert_eq!(p.evaluate_json(br#"{"a": 1}"#, 100), Ok(()));
    assert_eq!(
        p.evaluate_json(br#"{"a": 1}"#, 7),
        Err(Error::StatementTooLarge { len: 8, max: 7 })
    );
    assert!(matches!(
        p.evaluate_json(b"{\"a\": ", 100),
        Err(Error::InvalidStatement { .. })
    ));
    assert!(matches!(
        p.evaluate_json(b"[1]", 100),
        Err(Error::InvalidStatement { .. })
    ));
    assert!(
        matches!(p.evaluate_json(b"\"a\"", 100), Err(Error::InvalidStatement { ref reason }) if reason == "found a string")
    );
    // Nesting past the parser's limit is an error, not a stack overflow.
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        p.evaluate_json(deep.as_bytes(), MAX_STATEMENT_BYTES),
        Err(Error::InvalidStatement { .. })
    ));
    // A deep path into a deep (but parseable) statement.
    let nested = format!("{{\"a\":{}7{}}}", "[".repeat(63), "]".repeat(63));
    let path = format!("$.a{}", "[0]".repeat(63));
    let p = policy(json!({"rules": [{"path": path, "equals": 7}]}));
    assert_eq!(p.evaluate_json(nested.as_bytes(), MAX_STATEMENT_BYTES), Ok(()));
}

// ---------------------------------------------------------------------------------------------------------------
// Realistic statements

const DIGEST: &str = "4b5f1e7c0f3a5e2d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d";

fn slsa_v1() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/app", "digest": {"sha256": DIGEST}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": "refs/tags/v1.4.0",
                        "repository": "https://github.com/acme/app",
                        "path": ".github/workflows/release.yml"
                    }
                },
                "internalParameters": {
                    "github": {"event_name": "push", "repository_id": "629115219", "repository_owner_id": "95126517"}
                },
                "resolvedDependencies": [
                    {
                        "uri": "git+https://github.com/acme/app@refs/tags/v1.4.0",
                        "digest": {"gitCommit": "d6f5a1c9e0b3a2f4c8d7e6b5a4c3d2e1f0a9b8c7"}
                    },
                    {"uri": "git+https://github.com/acme/base-images@refs/heads/main", "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}
                ]
            },
            "runDetails": {
                "builder": {
                    "id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"
                },
                "metadata": {
                    "invocationId": "https://github.com/acme/app/actions/runs/9876543210/attempts/1",
                    "startedOn": "2026-03-01T12:00:00Z",
                    "finishedOn": "2026-03-01T12:04:10Z"
                }
            }
        }
    })
}

fn slsa_policy() -> PredicatePolicy {
    policy(json!({"rules": [
        {"path": "$._type", "equals": "https://in-toto.io/Statement/v1"},
        {"path": "$.predicateType", "equals": "https://slsa.dev/provenance/v1"},
        {"path": "$.subject[*].digest.sha256", "matches": "[0-9a-f]{64}"},
        {"path": "$.predicate.buildDefinition.buildType",
         "equals": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"},
        {"path": "$.predicate.runDetails.builder.id",
         "matches": "https://github\\.com/slsa-framework/slsa-github-generator/\\.github/workflows/generator_container_slsa3\\.yml@refs/tags/v2\\.[0-9]+\\.[0-9]+"},
        {"path": "$.predicate.buildDefinition.externalParameters.workflow.repository",
         "equals": "https://github.com/acme/app"},
        {"path": "$.predicate.buildDefinition.externalParameters.workflow.ref", "matches": "refs/tags/v[0-9].*"},
        {"path": "$.predicate.buildDefinition.internalParameters.github.event_name", "matches": "push|release"},
        {"path": "$.predicate.buildDefinition.resolvedDependencies[*].uri",
         "matches": "git\\+https://github\\.com/acme/.*"},
        {"path": "$.predicate.runDetails.metadata.invocationId", "exists": true},
        {"path": "$.predicate.runDetails.byproducts", "exists": false}
    ]}))
}

#[test]
fn slsa_v1_provenance() {
    let p = slsa_policy();
    assert_eq!(p.evaluate(&slsa_v1()), Ok(()));
    assert_eq!(
        p.evaluate_json(slsa_v1().to_string().as_bytes(), MAX_STATEMENT_BYTES),
        Ok(())
    );

    // Built by a fork of the generator, from a branch, with a dependency from elsewhere, and with debug output.
    let mut s = slsa_v1();
    let pred = &mut s["predicate"];
    pred["runDetails"]["builder"]["id"] = json!(
        "https://github.com/evil/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"
    );
    pred["buildDefinition"]["externalParameters"]["workflow"]["ref"] = json!("refs/heads/dev");
    pred["buildDefinition"]["resolvedDependencies"]
        .as_array_mut()
        .unwrap()
        .push(json!({"uri": "git+https://github.com/evil/x@refs/heads/main"}));
    pred["runDetails"]["byproducts"] = json!([{"name": "debug.log"}]);
    let v = violations(&p, &s);
    assert_eq!(v.iter().map(|v| v.rule).collect::<Vec<_>>(), vec![5, 7, 9, 11]);
    assert!(v[0].found.starts_with("\"https://github.com/evil/"), "{}", v[0].found);
    assert_eq!(v[1].found, r#""refs/heads/dev""#);
    assert_eq!(
        v[2].to_string(),
        concat!(
            r#"rule 9 ($.predicate.buildDefinition.resolvedDependencies[*].uri): expected every value to be a string "#,
            r#"matching "git\\+https://github\\.com/acme/.*", found "git+https://github.com/evil/x@refs/heads/main" "#,
            r#"at $.predicate.buildDefinition.resolvedDependencies[2].uri (1 of 3 values fail)"#
        )
    );
    assert_eq!(v[3].found, r#"[{"name":"debug.log"}]"#);

    // Another predicate type entirely: the type rule fails, and so does everything the other shape lacks.
    let s = json!({"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": DIGEST}}],
                   "predicateType": "https://spdx.dev/Document", "predicate": {"spdxVersion": "SPDX-2.3"}});
    let v = violations(&p, &s);
    assert_eq!(
        v.iter().map(|v| v.rule).collect::<Vec<_>>(),
        vec![2, 4, 5, 6, 7, 8, 9, 10]
    );
    assert!(v[1..].iter().all(|v| v.found == "no value"));
}

fn cyclonedx() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://cyclonedx.org/bom",
        "subject": [{"name": "ghcr.io/acme/app", "digest": {"sha256": DIGEST}}],
        "predicate": {
            "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "version": 1,
            "metadata": {
                "timestamp": "2026-03-01T12:05:00Z",
                "tools": {"components": [
                    {"type": "application", "author": "anchore", "name": "syft", "version": "1.4.1"}
                ]},
                "component": {"bom-ref": "5f8e0c1d2a3b4c5d", "type": "container", "name": "ghcr.io/acme/app"}
            },
            "components": [
                {"bom-ref": "pkg:apk/alpine/musl@1.2.4-r2", "type": "library", "name": "musl", "version": "1.2.4-r2",
                 "licenses": [{"license": {"id": "MIT"}}], "purl": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64"},
                {"bom-ref": "pkg:apk/alpine/openssl@3.1.4-r5", "type": "library", "name": "openssl", "version": "3.1.4-r5",
                 "licenses": [{"license": {"id": "Apache-2.0"}}], "purl": "pkg:apk/alpine/openssl@3.1.4-r5?arch=x86_64"},
                {"bom-ref": "pkg:golang/github.com/acme/lib@v0.3.0", "type": "library", "name": "github.com/acme/lib",
                 "version": "v0.3.0", "licenses": [{"license": {"id": "BSD-3-Clause"}}, {"license": {"id": "MIT"}}],
                 "purl": "pkg:golang/github.com/acme/lib@v0.3.0"}
            ]
        }
    })
}

fn cyclonedx_policy() -> PredicatePolicy {
    policy(json!({"rules": [
        {"path": "$.predicateType", "equals": "https://cyclonedx.org/bom"},
        {"path": "$.predicate.bomFormat", "equals": "CycloneDX"},
        {"path": "$.predicate.specVersion", "matches": "1\\.[4-6]"},
        {"path": "$.predicate.version", "equals": 1.0},
        {"path": "$.predicate.metadata.tools.components[*].name", "equals": "syft", "quantifier": "any"},
        {"path": "$.predicate.metadata.component[\"bom-ref\"]", "exists": true},
        {"path": "$.predicate.components[*].licenses[*].license.id", "matches": "MIT|Apache-2\\.0|BSD-[23]-Clause"},
        {"path": "$.predicate.components[*].purl", "matches": "pkg:(apk/alpine|golang/github\\.com/acme)/.*"},
        {"path": "$.predicate.components[*].licenses[*].license.expression", "exists": false}
    ]}))
}

#[test]
fn cyclonedx_sbom() {
    let p = cyclonedx_policy();
    assert_eq!(p.evaluate(&cyclonedx()), Ok(()));

    let mut s = cyclonedx();
    s["predicate"]["metadata"]["tools"]["components"][0]["name"] = json!("trivy");
    s["predicate"]["components"].as_array_mut().unwrap().push(json!({
        "type": "library", "name": "readline", "version": "8.2",
        "licenses": [{"license": {"id": "GPL-3.0-or-later"}}, {"license": {"expression": "GPL-3.0-or-later"}}],
        "purl": "pkg:deb/debian/readline@8.2"
    }));
    let v = violations(&p, &s);
    assert_eq!(v.iter().map(|v| v.rule).collect::<Vec<_>>(), vec![5, 7, 8, 9]);
    assert_eq!(
        v[0].found,
        r#""trivy""#.to_string() + " at $.predicate.metadata.tools.components[0].name"
    );
    assert_eq!(v[0].expected, r#"some value to be "syft""#);
    assert_eq!(
        v[1].found,
        r#""GPL-3.0-or-later" at $.predicate.components[3].licenses[0].license.id (1 of 5 values fail)"#
    );
    assert_eq!(
        v[3].found,
        r#""GPL-3.0-or-later" at $.predicate.components[3].licenses[1].license.expression"#
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Properties

/// Strings for names and values: identifiers, and anything at all (control characters, quotes, backslashes,
/// non-ASCII).
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_-]{0,5}",
        prop::collection::vec(any::<char>(), 0..6).prop_map(|c| c.into_iter().collect()),
        prop::collection::vec(
            prop::sample::select(vec!['"', '\'', '\\', '.', '[', ']', '*', '$', ' ', '\n', 'é']),
            0..6
        )
        .prop_map(|c| c.into_iter().collect()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        name().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(name(), inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(name(), json_value(), 1..5).prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// Every node below the root with the segments that reach it.
fn nodes(v: &Value) -> Vec<(Vec<Segment>, Value)> {
    let mut out = Vec::new();
    let mut pending = vec![(Vec::new(), v)];
    while let Some((at, v)) = pending.pop() {
        let children: Vec<(Segment, &Value)> = match v {
            Value::Array(items) => items.iter().enumerate().map(|(i, c)| (Segment::Index(i), c)).collect(),
            Value::Object(m) => m.iter().map(|(k, c)| (Segment::Field(k.clone()), c)).collect(),
            _ => vec![],
        };
        for (s, c) in children {
            let mut path = at.clone();
            path.push(s);
            out.push((path.clone(), c.clone()));
            pending.push((path, c));
        }
    }
    out
}

/// A path's text in one of the written forms (chosen by `style`), written independently of `Path`'s `Display`.
fn render(segments: &[Segment], style: &[u8]) -> String {
    let mut out = String::from("$");
    for (i, s) in segments.iter().enumerate() {
        let style = style.get(i).copied().unwrap_or(0) % 3;
        match s {
            Segment::Index(i) => out += &format!("[{i}]"),
            Segment::Wildcard => out += "[*]",
            Segment::Field(n) if style == 0 && is_identifier(n) => out += &format!(".{n}"),
            // JSON's string escapes are a subset of a quoted name's.
            Segment::Field(n) if style < 2 => out += &format!("[{}]", serde_json::to_string(n).unwrap()),
            Segment::Field(n) => {
                out.push_str("['");
                for c in n.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\'' => out.push_str("\\'"),
                        c if (c as u32) < 0x20 => out += &format!("\\u{:04X}", c as u32),
                        c => out.push(c),
                    }
                }
                out.push_str("']");
            }
        }
    }
    out
}

fn is_identifier(n: &str) -> bool {
    let mut c = n.chars();
    c.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        name().prop_map(Segment::Field),
        (0usize..1_000_000).prop_map(Segment::Index),
        Just(Segment::Wildcard),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// (a) `equals` with the value at any node passes, with a different value fails and says what it found;
    /// `matches` with the escaped text of a string passes.
    #[test]
    fn equals_the_value_at_a_path(doc in json_object(), pick in any::<prop::sample::Index>(), style in prop::collection::vec(any::<u8>(), 8)) {
        // Statements and policies both arrive as text; serde_json (without `float_roundtrip`) may read a float
        // back one bit off what it printed, identically on both sides.
        let doc: Value = serde_json::from_str(&doc.to_string()).unwrap();
        let all = nodes(&doc);
        let (segments, value) = &all[pick.index(all.len())];
        let path = render(segments, &style);
        let parsed = Path::parse(&path).unwrap();
        prop_assert_eq!(parsed.segments(), &segments[..]);

        let same = policy(json!({"rules": [{"path": path, "equals": value}]}));
        prop_assert_eq!(same.evaluate(&doc), Ok(()));
        let different = json!([value]);
        let other = policy(json!({"rules": [{"path": path, "equals": different}]}));
        let v = violations(&other, &doc);
        prop_assert_eq!(v.len(), 1);
        prop_assert_eq!(v[0].rule, 1);
        prop_assert_eq!(&v[0].path, &path);
        let full = serde_json::to_string(value).unwrap();
        if full.len() <= 200 {
            prop_assert_eq!(&v[0].found, &full);
        } else {
            let cut = v[0].found.strip_suffix('…').unwrap();
            prop_assert!(full.starts_with(cut) && cut.len() <= 200);
        }
        if let Value::String(s) = value {
            let p = policy(json!({"rules": [{"path": path, "matches": regex::escape(s)}]}));
            prop_assert_eq!(p.evaluate(&doc), Ok(()));
        }
        // The absent check fails and exists passes on the same path.
        let absent = policy(json!({"rules": [{"path": path, "exists": false}]}));
        prop_assert!(absent.evaluate(&doc).is_err());
        prop_assert_eq!(policy(json!({"rules": [{"path": path, "exists": true}]})).evaluate(&doc), Ok(()));
    }

    /// (b) Arbitrary text never panics as a path or a policy.
    #[test]
    fn parsing_never_panics(s in ".{0,80}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Path::parse(&s);
        let _ = PredicatePolicy::from_json(s.as_bytes());
        let _ = PredicatePolicy::from_json(&bytes);
    }

    /// (b) Path-like text, inside policies, against arbitrary statements: no panic, and violations name real
    /// rules in order.
    #[test]
    fn path_like_policies_never_panic(
        paths in prop::collection::vec(r#"\$[\$.\[\]*'"a-c0-9\\u_-]{0,24}"#, 1..6),
        checks in prop::collection::vec(0u8..6, 6),
        doc in json_object(),
    ) {
        for p in &paths {
            if let Ok(parsed) = Path::parse(p) {
                prop_assert_eq!(Path::parse(&parsed.to_string()).unwrap(), parsed);
            }
        }
        let rules: Vec<Value> = paths.iter().zip(&checks).map(|(p, c)| match c {
            0 => json!({"path": p, "exists": true}),
            1 => json!({"path": p, "exists": false}),
            2 => json!({"path": p, "equals": 1}),
            3 => json!({"path": p, "matches": "a.*", "quantifier": "any"}),
            4 => json!({"path": p, "equals": {"a": [null]}, "quantifier": "all"}),
            _ => json!({"path": p, "matches": "[^x]*"}),
        }).collect();
        let n = rules.len();
        if let Ok(policy) = PredicatePolicy::from_json(json!({"rules": rules}).to_string().as_bytes()) {
            match policy.evaluate(&doc) {
                Ok(()) => {}
                Err(Error::PredicateMismatch { violations, rules }) => {
                    prop_assert_eq!(rules, n);
                    prop_assert!(!violations.is_empty());
                    prop_assert!(violations.windows(2).all(|w| w[0].rule < w[1].rule));
                    prop_assert!(violations.iter().all(|v| (1..=n).contains(&v.rule)));
                }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }

    /// (c) A path written in any form parses to its segments, and its canonical rendering parses back to the same.
    #[test]
    fn paths_round_trip(segments in prop::collection::vec(segment(), 0..12), style in prop::collection::vec(any::<u8>(), 12)) {
        let text = render(&segments, &style);
        let parsed = Path::parse(&text).unwrap();
        prop_assert_eq!(parsed.segments(), &segments[..]);
        let canonical = parsed.to_string();
        prop_assert_eq!(Path::parse(&canonical).unwrap(), parsed.clone());
        prop_assert_eq!(canonical.parse::<Path>().unwrap().to_string(), canonical);
        prop_assert_eq!(parsed.has_wildcard(), segments.contains(&Segment::Wildcard));
    }
}
