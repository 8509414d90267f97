//! TUF metadata as the client reads it from a repository or its cache: `Envelope::parse`, each role's
//! parser, the threshold check, and a trusted set bootstrapped from the input that then takes the same bytes
//! as every update. Never a panic; whatever verifies must still refuse a changed version.
#![no_main]

use sigil_trust::tuf::ExpiryPolicy;
use sigil_trust::tuf::metadata::{Envelope, Root, Snapshot, Targets, Timestamp};
use sigil_trust::tuf::trusted::{Origin, TrustedSet};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::parse(data, "fuzz") {
        let _ = Timestamp::parse(&env.signed);
        let _ = Snapshot::parse(&env.signed);
        if let Ok(t) = Targets::parse(&env.signed, "targets") {
            for d in t.delegations.iter().flat_map(|d| &d.roles) {
                let _ = d.covers("trusted_root.json");
                let _ = d.covers("a/b/c.json");
            }
        }
        if let Ok(root) = Root::parse(&env.signed) {
            let _ = env.verify("root", &root);
            let _ = env.verify("timestamp", &root);
        }
    }
    if let Ok(mut set) = TrustedSet::new(data, 0, ExpiryPolicy::Enforce) {
        // The same root is not version N+1 of itself.
        assert!(set.update_root(data).is_err());
        let _ = set.update_timestamp(data, Origin::Remote);
        let _ = set.update_snapshot(data, Origin::Remote);
        let _ = set.update_targets(data, "targets", "root", Origin::Remote);
    }
});
