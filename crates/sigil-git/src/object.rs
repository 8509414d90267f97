//! Git commit and tag objects as git stores them, split into the bytes git signs and the signature.
//!
//! Verification works on the raw object bytes only (`git cat-file commit|tag`), never on a re-encoding of a
//! parse (SECURITY.md G-01, gitsign GHSA-7rmh). A commit whose headers could be read two ways is refused:
//! a repeated `tree`, `author`, `committer`, `encoding` or signature header, `parent` lines anywhere but
//! straight after `tree`, a continuation line that continues nothing, or a header block without its end.

use crate::Error;

/// Largest object read.
pub const MAX_OBJECT_BYTES: usize = 16 << 20;

/// The armor git recognises as an x509 (CMS) signature.
pub const SIGNATURE_BEGIN: &str = "-----BEGIN SIGNED MESSAGE-----";

/// Commit or tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Commit,
    Tag,
}

impl Kind {
    /// The name `git cat-file` uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::Tag => "tag",
        }
    }
}

/// A signed object: what git signed, and the armored signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedObject {
    pub kind: Kind,
    /// The exact bytes the signature covers.
    pub payload: Vec<u8>,
    /// The armored signature (`-----BEGIN …` to `-----END …-----\n`).
    pub signature: String,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Object(reason.into())
}

/// Splits a raw object into payload and signature. An unsigned object is an error.
pub fn parse(kind: Kind, raw: &[u8]) -> Result<SignedObject, Error> {
    if raw.len() > MAX_OBJECT_BYTES {
        return Err(bad(format!("larger than {MAX_OBJECT_BYTES} bytes")));
    }
    if raw.contains(&0) {
        return Err(bad("contains a NUL byte"));
    }
    match kind {
        Kind::Commit => parse_commit(raw),
        Kind::Tag => parse_tag(raw),
    }
}

/// Lines with their terminating `\n` (the last one may lack it).
fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    buf.split_inclusive(|&b| b == b'\n')
}

fn parse_commit(raw: &[u8]) -> Result<SignedObject, Error> {
    let mut payload = Vec::with_capacity(raw.len());
    let mut signature: Option<String> = None;
    let mut in_signature = false;
    let mut last_header: Option<Vec<u8>> = None;
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut ended = false;
    let mut rest_start = raw.len();
    let mut offset = 0usize;
    for line in lines(raw) {
        let start = offset;
        offset += line.len();
        if line == b"\n" {
            ended = true;
            rest_start = start;
            break;
        }
        if !line.ends_with(b"\n") {
            return Err(bad("the header block has no end"));
        }
        if let Some(cont) = line.strip_prefix(b" ") {
            // A continuation line belongs to the header before it.
            let Some(h) = &last_header else {
                return Err(bad("a continuation line before any header"));
            };
            if in_signature {
                let sig = signature.get_or_insert_with(String::new);
                sig.push_str(std::str::from_utf8(cont).map_err(|_| bad("the signature is not UTF-8"))?);
                continue;
            }
            if !matches!(h.as_slice(), b"mergetag") {
                return Err(bad(format!(
                    "a continuation line after the {} header",
                    String::from_utf8_lossy(h)
                )));
            }
            payload.extend_from_slice(line);
            continue;
        }
        let (key, value) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (line.get(..i).unwrap_or_default(), line.get(i + 1..).unwrap_or_default()),
            None => return Err(bad("a header line without a value")),
        };
        in_signature = false;
        let order_ok = match key {
            b"tree" => seen.is_empty(),
            b"parent" => seen.iter().all(|k| k == b"tree" || k == b"parent") && !seen.is_empty(),
            b"author" => seen.last().is_some_and(|k| k == b"tree" || k == b"parent"),
            b"committer" => seen.last().is_some_and(|k| k == b"author"),
            _ => seen.iter().any(|k| k == b"committer"),
        };
        if !order_ok {
            return Err(bad(format!(
                "the {} header is out of place",
                String::from_utf8_lossy(key)
            )));
        }
        let once = matches!(
            key,
            b"tree" | b"author" | b"committer" | b"encoding" | b"gpgsig" | b"gpgsig-sha256"
        );
        if once && seen.iter().any(|k| k == key) {
            return Err(bad(format!("two {} headers", String::from_utf8_lossy(key))));
        }
        seen.push(key.to_vec());
        last_header = Some(key.to_vec());
        if key == b"gpgsig" || key == b"gpgsig-sha256" {
            if signature.is_some() {
                return Err(bad("two signature headers"));
            }
            in_signature = true;
            signature = Some(
                std::str::from_utf8(value)
                    .map_err(|_| bad("the signature is not UTF-8"))?
                    .to_string(),
            );
            continue;
        }
        payload.extend_from_slice(line);
    }
    if !ended {
        return Err(bad("the header block has no end"));
    }
    for required in [&b"tree"[..], b"author", b"committer"] {
        if !seen.iter().any(|k| k == required) {
            return Err(bad(format!("no {} header", String::from_utf8_lossy(required))));
        }
    }
    payload.extend_from_slice(raw.get(rest_start..).unwrap_or_default());
    let signature = signature.ok_or(Error::Unsigned)?;
    if !signature.starts_with(SIGNATURE_BEGIN) {
        return Err(bad("the signature is not an x509 (SIGNED MESSAGE) signature"));
    }
    Ok(SignedObject {
        kind: Kind::Commit,
        payload,
        signature,
    })
}

fn parse_tag(raw: &[u8]) -> Result<SignedObject, Error> {
    // Headers must be well formed too: object, type, tag, tagger, each once, then a blank line.
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut body_start = None;
    let mut offset = 0usize;
    for line in lines(raw) {
        offset += line.len();
        if line == b"\n" {
            body_start = Some(offset);
            break;
        }
        if !line.ends_with(b"\n") {
            return Err(bad("the header block has no end"));
        }
        let key = line.split(|&b| b == b' ').next().unwrap_or_default();
        if line.starts_with(b" ") {
            return Err(bad("a continuation line in a tag header"));
        }
        if seen.contains(&key) {
            return Err(bad(format!("two {} headers", String::from_utf8_lossy(key))));
        }
        seen.push(key);
    }
    let body_start = body_start.ok_or_else(|| bad("the header block has no end"))?;
    for required in [&b"object"[..], b"type", b"tag"] {
        if !seen.contains(&required) {
            return Err(bad(format!("no {} header", String::from_utf8_lossy(required))));
        }
    }
    // Like git: the signature starts at the last line of the message that begins a signature.
    let mut sig_start = None;
    let mut pos = body_start;
    for line in lines(raw.get(body_start..).unwrap_or_default()) {
        if line.starts_with(b"-----BEGIN ") {
            sig_start = Some(pos);
        }
        pos += line.len();
    }
    let sig_start = sig_start.ok_or(Error::Unsigned)?;
    let signature =
        std::str::from_utf8(raw.get(sig_start..).unwrap_or_default()).map_err(|_| bad("the signature is not UTF-8"))?;
    if !signature.starts_with(SIGNATURE_BEGIN) {
        return Err(bad("the signature is not an x509 (SIGNED MESSAGE) signature"));
    }
    Ok(SignedObject {
        kind: Kind::Tag,
        payload: raw.get(..sig_start).unwrap_or_default().to_vec(),
        signature: signature.to_string(),
    })
}

/// The object git will store once `signature` is added to `payload`, as git adds it: for a commit a `gpgsig`
/// header (continuation lines indented by one space) at the end of the header block; for a tag the armor
/// appended to the message. Hash it with the header `<kind> <len>\0` to get the object ID (gitsign's online mode
/// logs that ID).
pub fn signed_object(kind: Kind, payload: &[u8], signature: &str) -> Result<Vec<u8>, Error> {
    match kind {
        Kind::Tag => Ok([payload, signature.as_bytes()].concat()),
        Kind::Commit => {
            let end = payload
                .windows(2)
                .position(|w| w == b"\n\n")
                .ok_or_else(|| bad("the header block has no end"))?;
            let (head, rest) = payload.split_at(end + 1);
            let mut out = Vec::with_capacity(payload.len() + signature.len() + 64);
            out.extend_from_slice(head);
            out.extend_from_slice(b"gpgsig ");
            let body = signature.strip_suffix('\n').unwrap_or(signature);
            out.extend_from_slice(body.replace('\n', "\n ").as_bytes());
            out.push(b'\n');
            out.extend_from_slice(rest);
            Ok(out)
        }
    }
}

/// The kind of a payload git hands its signing program: tags start with `object `, commits with `tree `.
pub fn kind_of_payload(payload: &[u8]) -> Option<Kind> {
    if payload.starts_with(b"tree ") {
        Some(Kind::Commit)
    } else if payload.starts_with(b"object ") {
        Some(Kind::Tag)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n";

    fn commit(extra_headers: &str) -> String {
        format!(
            "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\n\
             author A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n{extra_headers}\nmessage\n"
        )
    }

    fn gpgsig() -> String {
        let mut h = String::from("gpgsig");
        for (i, l) in SIG.lines().enumerate() {
            h.push_str(if i == 0 { " " } else { "\n " });
            h.push_str(l);
        }
        h.push('\n');
        h
    }

    #[test]
    fn payload_is_the_commit_without_its_signature() {
        let signed = commit(&gpgsig());
        let o = parse(Kind::Commit, signed.as_bytes()).unwrap();
        assert_eq!(o.payload, commit("").as_bytes());
        assert_eq!(o.signature, SIG);
    }

    #[test]
    fn signed_object_puts_the_signature_back_as_git_does() {
        let signed = commit(&gpgsig());
        let o = parse(Kind::Commit, signed.as_bytes()).unwrap();
        assert_eq!(
            signed_object(Kind::Commit, &o.payload, &o.signature).unwrap(),
            signed.as_bytes()
        );
        assert_eq!(kind_of_payload(&o.payload), Some(Kind::Commit));
    }

    #[test]
    fn ambiguous_commits_are_refused() {
        let base = commit(&gpgsig());
        let cases = [
            base.replacen("parent", "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent", 1),
            base.replacen("committer", "author B <b@x> 1 +0000\ncommitter", 1),
            base.replacen("\nmessage", "committer B <b@x> 1 +0000\n\nmessage", 1),
            commit(&format!("{}{}", gpgsig(), gpgsig())),
            base.replacen("author", " stray continuation\nauthor", 1),
            base.replacen(
                "committer A",
                "parent 2222222222222222222222222222222222222222\ncommitter A",
                1,
            ),
            commit(&gpgsig()).replacen("\n\nmessage\n", "", 1),
            base.replacen("tree ", "tree\n", 1),
        ];
        for c in cases {
            assert!(parse(Kind::Commit, c.as_bytes()).is_err(), "{c}");
        }
        assert!(matches!(
            parse(Kind::Commit, commit("").as_bytes()),
            Err(Error::Unsigned)
        ));
        // Merge commits have several parents.
        let merge = base.replacen("parent", "parent 2222222222222222222222222222222222222222\nparent", 1);
        assert!(parse(Kind::Commit, merge.as_bytes()).is_ok());
    }

    #[test]
    fn tag_signature_is_the_last_armor_block() {
        let payload = "object 1111111111111111111111111111111111111111\ntype commit\ntag v1\n\
                       tagger A <a@x> 1700000000 +0000\n\nrelease\n";
        let raw = format!("{payload}{SIG}");
        let o = parse(Kind::Tag, raw.as_bytes()).unwrap();
        assert_eq!(o.payload, payload.as_bytes());
        assert_eq!(o.signature, SIG);
        let dup = raw.replacen("tag v1", "tag v1\ntag v2", 1);
        assert!(parse(Kind::Tag, dup.as_bytes()).is_err());
        assert!(matches!(parse(Kind::Tag, payload.as_bytes()), Err(Error::Unsigned)));
    }
}
