//! CT pieces the CA and the log handle: TLS-encoded SCTs and TBSCertificates stripped of poison / SCT list.
#![no_main]

fn strip(tbs: &[u8]) {
    if let Ok(p) = sigil_x509::tbs_without_poison(tbs) {
        // Stripping is idempotent, and what is left has neither extension.
        assert_eq!(sigil_x509::tbs_without_poison(&p).unwrap(), p);
        assert_eq!(sigil_x509::tbs_without_sct(&p).unwrap(), p);
        let _ = sigil_x509::precert_signed_data(0, &[0; 32], &p, &[]);
    }
    if let Ok(s) = sigil_x509::tbs_without_sct(tbs) {
        assert_eq!(sigil_x509::tbs_without_sct(&s).unwrap(), s);
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(sct) = sigil_x509::SignedSct::decode(data) {
        // Decoding is exact: the encoding round-trips.
        assert_eq!(sct.encode().unwrap(), data);
        let _ = sct.digitally_signed();
    }
    strip(data);
    if let Ok(cert) = sigil_x509::Certificate::from_der(data) {
        strip(cert.tbs_der());
    }
});
