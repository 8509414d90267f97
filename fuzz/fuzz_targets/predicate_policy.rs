//! `verify-attestation --policy FILE`: a predicate policy file and an in-toto statement, split at the first NUL
//! byte (policy before, statement after). Never a panic; a path prints back to itself; violations name real rules.
#![no_main]

use sigil_policy::Error;
use sigil_policy::predicate::{Path, PredicatePolicy};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (policy, statement) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    // The policy part as a bare path, too.
    if let Ok(Ok(path)) = std::str::from_utf8(policy).map(Path::parse) {
        assert_eq!(Path::parse(&path.to_string()).unwrap(), path);
    }
    let Ok(policy) = PredicatePolicy::from_json(policy) else {
        return;
    };
    for rule in policy.rules() {
        let path = rule.path();
        assert_eq!(Path::parse(&path.to_string()).unwrap().segments(), path.segments());
    }
    match policy.evaluate_json(statement, 1 << 20) {
        Err(Error::PredicateMismatch { rules, violations }) => {
            assert_eq!(rules, policy.rules().len());
            assert!(!violations.is_empty());
            assert!(violations.windows(2).all(|w| w[0].rule < w[1].rule));
            assert!(violations.iter().all(|v| (1..=rules).contains(&v.rule)));
            assert!(
                violations
                    .iter()
                    .all(|v| v.found.len() < 1024 && v.expected.len() < 1024)
            );
        }
        Ok(()) | Err(_) => {}
    }
});
