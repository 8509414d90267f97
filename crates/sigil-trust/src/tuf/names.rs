//! Target and role names, which the repository chooses, turned into URLs and cache file names that cannot
//! leave their directory (SECURITY.md U-11: sigstore GHSA-fcv2, tough GHSA-x3r5, python-tuf GHSA-wjw6).
//!
//! Two defences, each enough alone: names that could mean a path elsewhere are refused, and what is left is
//! percent-encoded into a single file-name component (no `/` survives), so nothing is ever created outside
//! the cache directory.

use super::TufError;

/// The longest name accepted.
pub const MAX_NAME_BYTES: usize = 1024;

/// Refuses names that are empty, absolute, have `.`/`..`/empty segments, backslashes, drive letters or
/// `:`, percent signs (an encoded `..` a server might decode), NUL or other control characters.
pub fn check_name(name: &str, what: &'static str) -> Result<(), TufError> {
    let refuse = |reason: &str| {
        Err(TufError::UnsafeName {
            what,
            name: name.chars().take(200).collect(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() {
        return refuse("empty");
    }
    if name.len() > MAX_NAME_BYTES {
        return refuse("too long");
    }
    if name.chars().any(char::is_control) {
        return refuse("contains a control character");
    }
    if name.contains('\\') || name.contains(':') {
        return refuse("contains '\\' or ':' (a Windows path)");
    }
    if name.contains('%') {
        return refuse("contains '%' (an encoded path could be decoded by a server)");
    }
    if name.starts_with('/') {
        return refuse("absolute path");
    }
    if name.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return refuse("has an empty, '.' or '..' segment");
    }
    Ok(())
}

/// One file-name component for `name`: bytes outside `[A-Za-z0-9._-]` are percent-encoded, and a leading
/// `.` too, so the result is never `.`/`..` or hidden.
pub fn file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `name` as a URL path: each segment percent-encoded, `/` kept between them.
pub fn url_path(name: &str) -> String {
    name.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~') {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hostile_names_refused() {
        for bad in [
            "",
            "../../x",
            "a/../b",
            "/etc/passwd",
            "%2e%2e/x",
            "a\0b",
            "C:\\x",
            "C:x",
            "..",
            ".",
            "a//b",
            "a/",
            "a\\b",
            "a\nb",
        ] {
            assert!(check_name(bad, "target").is_err(), "{bad:?}");
        }
        for good in [
            "trusted_root.json",
            "registry.npmjs.org/keys.json",
            "a/b/c.pub",
            ".well-known",
        ] {
            assert!(check_name(good, "target").is_ok(), "{good:?}");
        }
    }

    #[test]
    fn encodings() {
        assert_eq!(file_name("trusted_root.json"), "trusted_root.json");
        assert_eq!(
            file_name("registry.npmjs.org/keys.json"),
            "registry.npmjs.org%2Fkeys.json"
        );
        assert_eq!(file_name(".."), "%2E.");
        assert_eq!(url_path("a b/c.json"), "a%20b/c.json");
    }

    proptest! {
        /// Whatever the (non-empty: empty names are refused) name, its file name is one plain component.
        #[test]
        fn file_name_is_one_component(name in ".{1,40}") {
            let f = file_name(&name);
            prop_assert!(!f.contains('/') && !f.contains('\\') && !f.contains('\0'));
            prop_assert!(f != "." && f != ".." && !f.starts_with('.'));
            let p = std::path::Path::new("/cache").join(&f);
            prop_assert_eq!(p.parent(), Some(std::path::Path::new("/cache")));
        }
    }
}
