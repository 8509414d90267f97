//! Predicate policy: rules over an attestation's in-toto statement, as data.
//!
//! `sigil verify-attestation IMAGE --type … --policy FILE` first verifies the attestation's signature and signer,
//! then checks the statement (the decoded DSSE payload: `_type`, `subject`, `predicateType`, `predicate`) against
//! a [`PredicatePolicy`] read from a JSON file:
//!
//! ```json
//! {"rules": [
//!   {"path": "$.predicate.buildDefinition.buildType", "equals": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"},
//!   {"path": "$.predicate.resolvedDependencies[*].uri", "matches": "git\\+https://github\\.com/acme/.*"},
//!   {"path": "$.predicate.runDetails.metadata.invocationId", "exists": true}
//! ]}
//! ```
//!
//! Why it is shaped this way (`docs/attestation-policy.md` has the full format):
//! - **Declarative, not a language.** A rule is a path, one check and a quantifier; evaluation runs no code,
//!   always terminates and does work linear in the statement's size per rule.
//! - **Nothing is implicit.** Exactly one check per rule, unknown fields are errors, a policy without rules is
//!   refused (it would pass everything), and a path that selects nothing fails `equals` and `matches`.
//! - **Regular expressions are anchored**, with the identity policy's rules ([`AnchoredRegex`]): the whole string
//!   must match, and `github.com` must be written `github\.com`.
//! - **Every broken rule is reported**, each with its number, its path, what it expected and what it found.
//! - **Bounded**: policy size, rule count, path length and segments, regex program size, values selected per
//!   rule, and the length of what an error quotes; see the `MAX_*` constants.

use std::fmt::{self, Write as _};
use std::ops::ControlFlow;

use serde::Deserialize;
use serde_json::{Number, Value};

use crate::{AnchoredRegex, Error};

/// Largest policy file accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 64 << 10;
/// Most rules in one policy.
pub const MAX_RULES: usize = 256;
/// Longest path, in bytes as written.
pub const MAX_PATH_BYTES: usize = 1 << 10;
/// Most segments in one path (and so the deepest a path can reach).
pub const MAX_PATH_SEGMENTS: usize = 64;
/// Most values one rule's path may select; more is a failure of that rule, never a silent truncation.
pub const MAX_SELECTED: usize = 10_000;
/// A suitable bound for [`PredicatePolicy::evaluate_json`]: the bundle size limit of `sigil-bundle`.
pub const MAX_STATEMENT_BYTES: usize = 32 << 20;
/// Longest rendering of a value (or location) quoted in a [`Violation`], in bytes; longer ones end in `…`.
pub const MAX_QUOTED_BYTES: usize = 200;

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// `.name` or `["name"]`: the member of an object.
    Field(String),
    /// `[N]`: the element of an array.
    Index(usize),
    /// `[*]`: every element of an array, or every member value of an object.
    Wildcard,
}

/// A path into a JSON value, in a small subset of JSONPath: `$` followed by `.name`, `["name"]` or `['name']`,
/// `[N]` and `[*]` segments.
///
/// `name` after a dot is `[A-Za-z_][A-Za-z0-9_-]*`; any other name is quoted, with JSON's escapes (`\"`, `\\`,
/// `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`) plus `\'`. Everything else (recursive descent `..`, `.*`, filters,
/// slices, negative indexes, whitespace) is refused with the character where it starts. [`fmt::Display`] prints
/// the canonical form, which parses back to the same segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    segments: Vec<Segment>,
}

impl Path {
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_PATH_BYTES {
            return Err(Error::PathTooLong {
                len: text.len(),
                max: MAX_PATH_BYTES,
            });
        }
        PathParser::new(text).parse()
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// True if the path can select more than one value.
    pub fn has_wildcard(&self) -> bool {
        self.segments.contains(&Segment::Wildcard)
    }

    /// Calls `f` with every value the path selects and where it is, in document order, until `f` breaks.
    /// Recursion depth is the number of segments (at most [`MAX_PATH_SEGMENTS`]), whatever the value's depth.
    fn visit<'a, F>(&self, root: &'a Value, f: &mut F) -> ControlFlow<()>
    where
        F: FnMut(&[Step<'a>], &'a Value) -> ControlFlow<()>,
    {
        let mut location = Vec::with_capacity(self.segments.len());
        walk(&self.segments, root, &mut location, f)
    }
}

impl std::str::FromStr for Path {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('$')?;
        self.segments.iter().try_for_each(|s| write!(f, "{s}"))
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(name) => write_field(f, name),
            Self::Index(i) => write!(f, "[{i}]"),
            Self::Wildcard => f.write_str("[*]"),
        }
    }
}

/// `.name` when `name` is an identifier, else `["name"]` with `"`, `\` and control characters escaped.
fn write_field(f: &mut impl fmt::Write, name: &str) -> fmt::Result {
    if is_identifier(name) {
        f.write_char('.')?;
        return f.write_str(name);
    }
    f.write_str("[\"")?;
    for c in name.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_str("\"]")
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

struct PathParser<'t> {
    text: &'t str,
    chars: std::iter::Peekable<std::str::CharIndices<'t>>,
}

impl<'t> PathParser<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            chars: text.char_indices().peekable(),
        }
    }

    /// An error at byte offset `at`, reported as a 1-based character column.
    fn error(&self, at: usize, reason: &'static str) -> Error {
        Error::InvalidPath {
            path: self.text.to_string(),
            column: self.text.get(..at).map_or(0, |s| s.chars().count()) + 1,
            reason,
        }
    }

    /// Where the next character is (the end of the text if there is none).
    fn here(&mut self) -> usize {
        self.chars.peek().map_or(self.text.len(), |&(i, _)| i)
    }

    fn parse(mut self) -> Result<Path, Error> {
        match self.chars.next() {
            Some((_, '$')) => {}
            _ => return Err(self.error(0, "a path starts with $")),
        }
        let mut segments = Vec::new();
        while let Some((at, c)) = self.chars.next() {
            let segment = match c {
                '.' => self.dotted()?,
                '[' => self.bracketed(at)?,
                _ => return Err(self.error(at, "expected '.' or '[' (segments are .name, [\"name\"], [N] and [*])")),
            };
            if segments.len() == MAX_PATH_SEGMENTS {
                return Err(self.error(at, "too many segments (at most 64)"));
            }
            segments.push(segment);
        }
        Ok(Path { segments })
    }

    /// After a `.`: a name.
    fn dotted(&mut self) -> Result<Segment, Error> {
        let at = self.here();
        match self.chars.peek() {
            Some((_, '.')) => return Err(self.error(at, "recursive descent (..) is not supported")),
            Some((_, '*')) => return Err(self.error(at, "write [*] for a wildcard")),
            Some((_, c)) if c.is_ascii_alphabetic() || *c == '_' => {}
            _ => {
                return Err(self.error(
                    at,
                    "expected a name ([A-Za-z_][A-Za-z0-9_-]*) after '.'; quote other names: [\"name\"]",
                ));
            }
        }
        let mut name = String::new();
        while let Some(&(_, c)) = self.chars.peek() {
            if !(c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                break;
            }
            name.push(c);
            self.chars.next();
        }
        Ok(Segment::Field(name))
    }

    /// After a `[` at byte `open`: `*]`, `N]` or a quoted name and `]`.
    fn bracketed(&mut self, open: usize) -> Result<Segment, Error> {
        let at = self.here();
        let segment = match self.chars.next() {
            None => return Err(self.error(open, "unclosed '['")),
            Some((_, '*')) => Segment::Wildcard,
            Some((q, quote @ ('"' | '\''))) => Segment::Field(self.quoted(q, quote)?),
            Some((_, d @ '0'..='9')) => Segment::Index(self.index(at, d)?),
            Some((_, '-')) => return Err(self.error(at, "negative indexes are not supported")),
            Some((_, ':')) => return Err(self.error(at, "slices are not supported")),
            Some((_, '?')) => return Err(self.error(at, "filter expressions are not supported")),
            Some(_) => return Err(self.error(at, "expected \"name\", 'name', an index or * inside [ ]")),
        };
        match self.chars.next() {
            Some((_, ']')) => Ok(segment),
            Some((i, ',')) => Err(self.error(i, "unions are not supported: write one rule per path")),
            Some((i, _)) => Err(self.error(i, "expected ']'")),
            None => Err(self.error(open, "unclosed '['")),
        }
    }

    fn index(&mut self, at: usize, first: char) -> Result<usize, Error> {
        let mut n = usize::from(first as u8 - b'0');
        while let Some(&(_, c)) = self.chars.peek() {
            let Some(d) = c.to_digit(10) else { break };
            if n == 0 {
                return Err(self.error(at, "an index has no leading zeros"));
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(d as usize))
                .ok_or_else(|| self.error(at, "index too large"))?;
            self.chars.next();
        }
        Ok(n)
    }

    /// A quoted name whose opening `quote` is at byte `open`, up to and including the closing quote.
    fn quoted(&mut self, open: usize, quote: char) -> Result<String, Error> {
        let mut name = String::new();
        loop {
            match self.chars.next() {
                None => return Err(self.error(open, "unterminated quoted name")),
                Some((_, c)) if c == quote => return Ok(name),
                Some((at, '\\')) => name.push(self.escape(at)?),
                Some((at, c)) if u32::from(c) < 0x20 => {
                    return Err(self.error(
                        at,
                        "control character in a quoted name (escape it, e.g. \\n or \\u0000)",
                    ));
                }
                Some((_, c)) => name.push(c),
            }
        }
    }

    /// After a `\` at byte `at`.
    fn escape(&mut self, at: usize) -> Result<char, Error> {
        Ok(match self.chars.next() {
            Some((_, '"')) => '"',
            Some((_, '\'')) => '\'',
            Some((_, '\\')) => '\\',
            Some((_, '/')) => '/',
            Some((_, 'b')) => '\u{8}',
            Some((_, 'f')) => '\u{c}',
            Some((_, 'n')) => '\n',
            Some((_, 'r')) => '\r',
            Some((_, 't')) => '\t',
            Some((_, 'u')) => {
                let unit = self.hex4(at)?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        let low_at = self.here();
                        let low = match (self.chars.next(), self.chars.next()) {
                            (Some((_, '\\')), Some((_, 'u'))) => self.hex4(low_at)?,
                            _ => return Err(self.error(at, "a high surrogate must be followed by \\u and a low one")),
                        };
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error(low_at, "expected a low surrogate (\\uDC00 to \\uDFFF)"));
                        }
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(self.error(at, "a low surrogate without a high one")),
                    unit => unit,
                };
                char::from_u32(code).ok_or_else(|| self.error(at, "invalid \\u escape"))?
            }
            _ => return Err(self.error(at, "unknown escape (use \\\" \\' \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")),
        })
    }

    /// Four hex digits of a `\u` escape that starts at byte `at`.
    fn hex4(&mut self, at: usize) -> Result<u32, Error> {
        let mut v = 0u32;
        for _ in 0..4 {
            let digit = self.chars.next().and_then(|(_, c)| c.to_digit(16));
            let digit = digit.ok_or_else(|| self.error(at, "\\u needs four hex digits"))?;
            v = (v << 4) | digit;
        }
        Ok(v)
    }
}

/// One step of a selected value's location: a member name or an array index.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn walk<'a, F>(segments: &[Segment], value: &'a Value, location: &mut Vec<Step<'a>>, f: &mut F) -> ControlFlow<()>
where
    F: FnMut(&[Step<'a>], &'a Value) -> ControlFlow<()>,
{
    let Some((segment, rest)) = segments.split_first() else {
        return f(location, value);
    };
    let mut child = |step: Step<'a>, v: &'a Value, location: &mut Vec<Step<'a>>| {
        location.push(step);
        let flow = walk(rest, v, location, f);
        location.pop();
        flow
    };
    match (segment, value) {
        (Segment::Field(name), Value::Object(members)) => match members.get_key_value(name) {
            Some((k, v)) => child(Step::Key(k), v, location),
            None => ControlFlow::Continue(()),
        },
        (Segment::Index(i), Value::Array(items)) => match items.get(*i) {
            Some(v) => child(Step::Index(*i), v, location),
            None => ControlFlow::Continue(()),
        },
        (Segment::Wildcard, Value::Array(items)) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| child(Step::Index(i), v, location)),
        (Segment::Wildcard, Value::Object(members)) => {
            members.iter().try_for_each(|(k, v)| child(Step::Key(k), v, location))
        }
        _ => ControlFlow::Continue(()),
    }
}

/// How many of the selected values must pass an `equals` or `matches` check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantifier {
    /// Every selected value passes, and at least one is selected.
    #[default]
    All,
    /// At least one selected value passes.
    Any,
}

/// What a rule checks about the values its path selects.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Check {
    /// Values equal `value` structurally; numbers compare by value (`1` equals `1.0`).
    Equals { value: Value, quantifier: Quantifier },
    /// Values are strings that `regex` matches as a whole; a value of another type fails.
    Matches {
        regex: AnchoredRegex,
        quantifier: Quantifier,
    },
    /// The path selects at least one value.
    Exists,
    /// The path selects nothing.
    Absent,
}

/// A path and what must hold for the values it selects.
#[derive(Debug, Clone)]
pub struct Rule {
    path: Path,
    /// The path as the policy wrote it, for messages.
    path_text: String,
    check: Check,
}

impl Rule {
    pub fn new(path: Path, check: Check) -> Self {
        Self {
            path_text: path.to_string(),
            path,
            check,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn check(&self) -> &Check {
        &self.check
    }

    fn from_raw(raw: RawRule) -> Result<Self, Error> {
        let path = Path::parse(&raw.path)?;
        let check = match (raw.equals, raw.matches, raw.exists) {
            (Some(value), None, None) => Check::Equals {
                value,
                quantifier: raw.quantifier.unwrap_or_default(),
            },
            (None, Some(pattern), None) => Check::Matches {
                regex: AnchoredRegex::new(&pattern)?,
                quantifier: raw.quantifier.unwrap_or_default(),
            },
            (None, None, Some(exists)) => {
                if raw.quantifier.is_some() {
                    return Err(Error::QuantifierWithExists);
                }
                if exists { Check::Exists } else { Check::Absent }
            }
            (None, None, None) => return Err(Error::NoCheck),
            (equals, matches, exists) => {
                let present = [
                    ("equals", equals.is_some()),
                    ("matches", matches.is_some()),
                    ("exists", exists.is_some()),
                ];
                let checks = present.iter().filter(|(_, p)| *p).map(|(n, _)| *n).collect();
                return Err(Error::ConflictingChecks { checks });
            }
        };
        Ok(Self {
            path,
            path_text: raw.path,
            check,
        })
    }

    /// Checks the rule (numbered `number`, from 1) against `statement`.
    fn violation(&self, number: usize, statement: &Value) -> Option<Violation> {
        let violation = |expected: String, found: String| Violation {
            rule: number,
            path: self.path_text.clone(),
            expected,
            found,
        };
        let wildcard = self.path.has_wildcard();
        match &self.check {
            Check::Exists => {
                let mut selected = false;
                let _ = self.path.visit(statement, &mut |_, _| {
                    selected = true;
                    ControlFlow::Break(())
                });
                (!selected).then(|| violation("a value".into(), "no value".into()))
            }
            Check::Absent => {
                let mut found = None;
                let _ = self.path.visit(statement, &mut |at, v| {
                    found = Some(quote_at(v, at, wildcard));
                    ControlFlow::Break(())
                });
                found.map(|found| violation("no value".into(), found))
            }
            Check::Equals { value, quantifier } => {
                let expected = expectation(*quantifier, wildcard, &quote(value));
                self.quantified(statement, *quantifier, |v| json_eq(value, v))
                    .map(|found| violation(expected, found))
            }
            Check::Matches { regex, quantifier } => {
                let base = format!("a string matching {:?}", regex.as_str());
                let expected = expectation(*quantifier, wildcard, &base);
                self.quantified(statement, *quantifier, |v| {
                    v.as_str().is_some_and(|s| regex.is_match(s))
                })
                .map(|found| violation(expected, found))
            }
        }
    }

    /// What was found, if the selected values do not satisfy `pass` under `quantifier`.
    fn quantified(&self, statement: &Value, quantifier: Quantifier, pass: impl Fn(&Value) -> bool) -> Option<String> {
        let wildcard = self.path.has_wildcard();
        let (mut selected, mut failing, mut passed, mut overflow) = (0usize, 0usize, false, false);
        let mut first_failure = None;
        let _ = self.path.visit(statement, &mut |at, v| {
            selected += 1;
            if selected > MAX_SELECTED {
                overflow = true;
                return ControlFlow::Break(());
            }
            if pass(v) {
                passed = true;
                if quantifier == Quantifier::Any {
                    return ControlFlow::Break(());
                }
            } else {
                failing += 1;
                if first_failure.is_none() {
                    first_failure = Some(quote_at(v, at, wildcard));
                }
            }
            ControlFlow::Continue(())
        });
        if overflow && !(quantifier == Quantifier::Any && passed) {
            return Some(format!("more than {MAX_SELECTED} values (the limit for one rule)"));
        }
        let first = first_failure.unwrap_or_default();
        match quantifier {
            _ if selected == 0 => Some("no value".into()),
            Quantifier::All if failing == 0 => None,
            Quantifier::All if selected == 1 => Some(first),
            Quantifier::All => Some(format!("{first} ({failing} of {selected} values fail)")),
            Quantifier::Any if passed => None,
            Quantifier::Any if selected == 1 => Some(first),
            Quantifier::Any => Some(format!("none of {selected} values (first: {first})")),
        }
    }
}

/// "X", "every value to be X" or "some value to be X".
fn expectation(quantifier: Quantifier, wildcard: bool, base: &str) -> String {
    match (quantifier, wildcard) {
        (Quantifier::All, false) => base.to_string(),
        (Quantifier::All, true) => format!("every value to be {base}"),
        (Quantifier::Any, _) => format!("some value to be {base}"),
    }
}

/// A rule's path, its check and its quantifier as written in a policy file; see [`Check`] for the meaning.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    path: String,
    #[serde(default, deserialize_with = "present")]
    equals: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    matches: Option<String>,
    #[serde(default, deserialize_with = "present")]
    exists: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    quantifier: Option<Quantifier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    rules: Vec<ObjectOnly<RawRule>>,
}

/// A struct read from a JSON object only: serde's derived structs also accept an array of the fields in order,
/// which is not part of the format.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Object<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Object(std::marker::PhantomData)).map(ObjectOnly)
    }
}

/// A field that is present is `Some`, even when it is `null` (`"equals": null` checks for null; for the other
/// fields null is a type error rather than "absent").
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Rules over an in-toto statement; see the module docs.
#[derive(Debug, Clone)]
pub struct PredicatePolicy {
    rules: Vec<Rule>,
}

impl PredicatePolicy {
    /// A policy of `rules` (1 to [`MAX_RULES`]).
    pub fn new(rules: Vec<Rule>) -> Result<Self, Error> {
        if rules.is_empty() {
            return Err(Error::NoRules);
        }
        if rules.len() > MAX_RULES {
            return Err(Error::TooManyRules {
                count: rules.len(),
                max: MAX_RULES,
            });
        }
        Ok(Self { rules })
    }

    /// Reads a policy file (`{"rules": [...]}`, at most [`MAX_POLICY_BYTES`]). An invalid rule is reported with
    /// its number, counting from 1.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        if json.len() > MAX_POLICY_BYTES {
            return Err(Error::PolicyTooLarge {
                len: json.len(),
                max: MAX_POLICY_BYTES,
            });
        }
        let ObjectOnly(raw) = serde_json::from_slice::<ObjectOnly<RawPolicy>>(json)
            .map_err(|e| Error::PolicyFormat { reason: e.to_string() })?;
        if raw.rules.len() > MAX_RULES {
            return Err(Error::TooManyRules {
                count: raw.rules.len(),
                max: MAX_RULES,
            });
        }
        let rules = raw
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                Rule::from_raw(r.0).map_err(|e| Error::InvalidRule {
                    rule: i + 1,
                    error: Box::new(e),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(rules)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Checks every rule against `statement`; the error lists every rule that failed.
    pub fn evaluate(&self, statement: &Value) -> Result<(), Error> {
        let violations: Vec<Violation> = self
            .rules
            .iter()
            .zip(1..)
            .filter_map(|(rule, number)| rule.violation(number, statement))
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Error::PredicateMismatch {
                rules: self.rules.len(),
                violations,
            })
        }
    }

    /// Parses a statement of at most `max_len` bytes (see [`MAX_STATEMENT_BYTES`]), which must be a JSON
    /// object, and evaluates it. JSON nesting is limited to 128 levels by the parser.
    pub fn evaluate_json(&self, statement: &[u8], max_len: usize) -> Result<(), Error> {
        if statement.len() > max_len {
            return Err(Error::StatementTooLarge {
                len: statement.len(),
                max: max_len,
            });
        }
        let value: Value =
            serde_json::from_slice(statement).map_err(|e| Error::InvalidStatement { reason: e.to_string() })?;
        if !value.is_object() {
            return Err(Error::InvalidStatement {
                reason: format!("found {}", type_name(&value)),
            });
        }
        self.evaluate(&value)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A rule the statement broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The rule's number in the policy, from 1.
    pub rule: usize,
    /// The rule's path as written.
    pub path: String,
    /// What the rule asks for, e.g. `"https://…"`, `a string matching "…"`, `every value to be …`, `no value`.
    pub expected: String,
    /// What the statement has: `no value`, or a value as JSON (cut to [`MAX_QUOTED_BYTES`]), with its location
    /// when the path has a wildcard, and how many selected values failed.
    pub found: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule {} ({}): expected {}, found {}",
            self.rule, self.path, self.expected, self.found
        )
    }
}

/// The violations, separated by "; " (for [`Error::PredicateMismatch`]'s message).
pub(crate) fn join(violations: &[Violation]) -> String {
    let mut out = String::new();
    for (i, v) in violations.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{v}");
    }
    out
}

/// `value` as JSON, cut to [`MAX_QUOTED_BYTES`]; followed by ` at LOCATION` if `located`.
fn quote_at(value: &Value, location: &[Step<'_>], located: bool) -> String {
    let mut s = quote(value);
    if located {
        let mut at = String::from("$");
        for step in location {
            let _ = match step {
                Step::Key(k) => write_field(&mut at, k),
                Step::Index(i) => write!(at, "[{i}]"),
            };
            if at.len() > MAX_QUOTED_BYTES {
                break;
            }
        }
        s.push_str(" at ");
        s.push_str(&cut(&at));
    }
    s
}

/// `value` as JSON, serialized only as far as [`MAX_QUOTED_BYTES`] (a huge value is never rendered whole).
fn quote(value: &Value) -> String {
    let mut out = Bounded {
        buf: Vec::new(),
        max: MAX_QUOTED_BYTES + 1,
    };
    let _ = serde_json::to_writer(&mut out, value);
    let text = match std::str::from_utf8(&out.buf) {
        Ok(s) => s,
        Err(e) => out
            .buf
            .get(..e.valid_up_to())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default(),
    };
    // Whether the value was cut is what the writer saw, not the length of the valid text: a cut inside a
    // multi-byte character leaves fewer bytes than the limit.
    if out.buf.len() > MAX_QUOTED_BYTES {
        shortened(text)
    } else {
        text.to_string()
    }
}

/// `s` if it fits in [`MAX_QUOTED_BYTES`], else [`shortened`].
fn cut(s: &str) -> String {
    if s.len() <= MAX_QUOTED_BYTES {
        return s.to_string();
    }
    shortened(s)
}

/// The longest prefix of `s` that fits in [`MAX_QUOTED_BYTES`] (on a character boundary), and `…`.
fn shortened(s: &str) -> String {
    let end = (0..=MAX_QUOTED_BYTES)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}…", s.get(..end).unwrap_or_default())
}

/// A writer that takes `max` bytes and then fails, which stops serialization.
struct Bounded {
    buf: Vec<u8>,
    max: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.max.saturating_sub(self.buf.len());
        if room == 0 && !data.is_empty() {
            return Err(std::io::Error::other("quote limit reached"));
        }
        let n = room.min(data.len());
        self.buf.extend_from_slice(data.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Structural equality with numbers compared by value. Iterative: its work is bounded by the size of `expected`
/// (from the policy), whatever the depth of `actual`.
fn json_eq(expected: &Value, actual: &Value) -> bool {
    let mut pending = vec![(expected, actual)];
    while let Some(pair) = pending.pop() {
        match pair {
            (Value::Null, Value::Null) => {}
            (Value::Bool(a), Value::Bool(b)) if a == b => {}
            (Value::Number(a), Value::Number(b)) if number_eq(a, b) => {}
            (Value::String(a), Value::String(b)) if a == b => {}
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => pending.extend(a.iter().zip(b)),
            (Value::Object(a), Value::Object(b)) if a.len() == b.len() => {
                for (k, av) in a {
                    match b.get(k) {
                        Some(bv) => pending.push((av, bv)),
                        None => return false,
                    }
                }
            }
            _ => return false,
        }
    }
    true
}

fn number_eq(a: &Number, b: &Number) -> bool {
    enum N {
        Int(i128),
        Float(f64),
    }
    fn n(x: &Number) -> N {
        match (x.as_u64(), x.as_i64()) {
            (Some(u), _) => N::Int(u.into()),
            (None, Some(i)) => N::Int(i.into()),
            (None, None) => N::Float(x.as_f64().unwrap_or(f64::NAN)),
        }
    }
    // An integral float within ±1e20 (beyond u64 and i64) converts to i128 exactly.
    let int_float = |i: i128, f: f64| f.fract() == 0.0 && (-1e20..=1e20).contains(&f) && f as i128 == i;
    match (n(a), n(b)) {
        (N::Int(x), N::Int(y)) => x == y,
        (N::Float(x), N::Float(y)) => x == y,
        (N::Int(i), N::Float(f)) | (N::Float(f), N::Int(i)) => int_float(i, f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Vec<Segment> {
        Path::parse(s).unwrap().segments
    }

    fn field(s: &str) -> Segment {
        Segment::Field(s.into())
    }

    /// The column and reason of a path error.
    fn path_error(s: &str) -> (usize, &'static str) {
        match Path::parse(s) {
            Err(Error::InvalidPath { column, reason, .. }) => (column, reason),
            other => panic!("{s:?}: expected a path error, got {other:?}"),
        }
    }

    #[test]
    fn path_forms() {
        assert_eq!(parse("$"), vec![]);
        assert_eq!(parse("$.predicate._type"), vec![field("predicate"), field("_type")]);
        assert_eq!(parse("$.a-b.c_1"), vec![field("a-b"), field("c_1")]);
        assert_eq!(parse(r#"$["a b"]"#), vec![field("a b")]);
        assert_eq!(parse("$['a b']"), vec![field("a b")]);
        assert_eq!(parse(r#"$[""]"#), vec![field("")]);
        assert_eq!(parse("$[0][17]"), vec![Segment::Index(0), Segment::Index(17)]);
        assert_eq!(
            parse("$[*].x[*]"),
            vec![Segment::Wildcard, field("x"), Segment::Wildcard]
        );
        assert_eq!(
            parse("$.subject[0].digest.sha256"),
            vec![field("subject"), Segment::Index(0), field("digest"), field("sha256")]
        );
        // Names that are not identifiers, including ones that look like other syntax.
        assert_eq!(parse(r#"$["1"]"#), vec![field("1")]);
        assert_eq!(parse(r#"$["*"]"#), vec![field("*")]);
        assert_eq!(parse(r#"$["a.b"]"#), vec![field("a.b")]);
        assert_eq!(parse("$['é']"), vec![field("é")]);
    }

    #[test]
    fn path_escapes() {
        assert_eq!(parse(r#"$["a\"b"]"#), vec![field("a\"b")]);
        assert_eq!(parse(r"$['a\'b']"), vec![field("a'b")]);
        assert_eq!(parse(r#"$['a"b']"#), vec![field("a\"b")]);
        assert_eq!(parse(r#"$["a'b"]"#), vec![field("a'b")]);
        assert_eq!(parse(r#"$["a\\b"]"#), vec![field("a\\b")]);
        assert_eq!(parse(r#"$["\/\b\f\n\r\t"]"#), vec![field("/\u{8}\u{c}\n\r\t")]);
        assert_eq!(parse(r#"$["\u00e9\u0000"]"#), vec![field("é\0")]);
        assert_eq!(parse(r#"$["\ud83d\ude00"]"#), vec![field("😀")]);
    }

    #[test]
    fn path_errors_say_where() {
        for (path, column, reason) in [
            ("", 1, "a path starts with $"),
            ("predicate", 1, "a path starts with $"),
            ("$predicate", 2, "expected '.' or '['"),
            ("$.a..b", 5, "recursive descent"),
            ("$..a", 3, "recursive descent"),
            ("$.*", 3, "write [*]"),
            ("$.", 3, "expected a name"),
            ("$.1a", 3, "expected a name"),
            ("$.a b", 4, "expected '.' or '['"),
            ("$.é", 3, "expected a name"),
            ("$[", 2, "unclosed '['"),
            ("$[*", 2, "unclosed '['"),
            ("$[0", 2, "unclosed '['"),
            ("$[-1]", 3, "negative indexes"),
            ("$[0:2]", 4, "expected ']'"),
            ("$[:2]", 3, "slices"),
            ("$[?(@.a)]", 3, "filter"),
            ("$[01]", 3, "leading zeros"),
            ("$[99999999999999999999999]", 3, "index too large"),
            ("$[a]", 3, "expected \"name\""),
            ("$[ 0]", 3, "expected \"name\""),
            ("$[0,1]", 4, "unions"),
            ("$['a','b']", 6, "unions"),
            ("$[\"a]", 3, "unterminated"),
            ("$['a\"]", 3, "unterminated"),
            ("$[\"a\\x\"]", 5, "unknown escape"),
            ("$[\"a\\u12\"]", 5, "four hex digits"),
            ("$[\"\\ud83d\"]", 4, "high surrogate"),
            ("$[\"\\ud83d\\u0041\"]", 10, "low surrogate"),
            ("$[\"\\ude00\"]", 4, "low surrogate without"),
            ("$[\"a\nb\"]", 5, "control character"),
            ("$.a[*]x", 7, "expected '.' or '['"),
            ("$ ", 2, "expected '.' or '['"),
        ] {
            let (c, r) = path_error(path);
            assert!(r.contains(reason), "{path:?}: reason {r:?}, expected {reason:?}");
            assert_eq!(c, column, "{path:?}: column for {r:?}");
        }
        // Columns count characters, not bytes.
        assert_eq!(path_error("$['é'] x").0, 7);
    }

    #[test]
    fn path_bounds() {
        let deep = "$".to_string() + &"[0]".repeat(MAX_PATH_SEGMENTS);
        assert_eq!(Path::parse(&deep).unwrap().segments().len(), MAX_PATH_SEGMENTS);
        let deeper = deep + "[0]";
        let (column, reason) = path_error(&deeper);
        assert_eq!(column, 1 + 3 * MAX_PATH_SEGMENTS + 1);
        assert!(reason.contains(&MAX_PATH_SEGMENTS.to_string()), "{reason}");
        let long = format!("$[\"{}\"]", "a".repeat(MAX_PATH_BYTES));
        assert!(matches!(
            Path::parse(&long),
            Err(Error::PathTooLong {
                max: MAX_PATH_BYTES,
                ..
            })
        ));
    }

    #[test]
    fn display_is_canonical() {
        for (written, canonical) in [
            ("$", "$"),
            ("$['predicate'][\"_type\"]", "$.predicate._type"),
            ("$[\"a b\"][0][*]", "$[\"a b\"][0][*]"),
            ("$['a\"b\\\\c']", "$[\"a\\\"b\\\\c\"]"),
            ("$[\"\\u0001\\n\\u00e9\"]", "$[\"\\u0001\\né\"]"),
            ("$[\"1\"].x-y", "$[\"1\"].x-y"),
        ] {
            let p = Path::parse(written).unwrap();
            assert_eq!(p.to_string(), canonical);
            assert_eq!(Path::parse(canonical).unwrap(), p);
        }
    }

    fn select(path: &str, v: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        let _ = Path::parse(path).unwrap().visit(v, &mut |_, v| {
            out.push(v.clone());
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn selection() {
        let v = json!({"a": [{"b": 1}, {"b": 2}, {"c": 3}], "o": {"x": 1, "y": [2]}, "s": "t"});
        assert_eq!(select("$", &v), vec![v.clone()]);
        assert_eq!(select("$.a[1].b", &v), vec![json!(2)]);
        assert_eq!(select("$.a[*].b", &v), vec![json!(1), json!(2)]);
        assert_eq!(select("$.o[*]", &v), vec![json!(1), json!([2])]);
        assert_eq!(select("$[*][*]", &v).len(), 5);
        // Nothing is selected through the wrong type, past the end, or from a scalar.
        assert!(select("$.a.b", &v).is_empty());
        assert!(select("$.o[0]", &v).is_empty());
        assert!(select("$.a[3]", &v).is_empty());
        assert!(select("$.s[*]", &v).is_empty());
        assert!(select("$.s.x", &v).is_empty());
    }

    #[test]
    fn numbers_compare_by_value() {
        let eq = |a: Value, b: Value| json_eq(&a, &b);
        assert!(eq(json!(1), json!(1.0)));
        assert!(eq(json!(-3), json!(-3.0)));
        assert!(eq(json!(0), json!(-0.0)));
        assert!(eq(json!(u64::MAX), json!(u64::MAX)));
        assert!(!eq(json!(1), json!(1.5)));
        assert!(!eq(json!(1), json!("1")));
        assert!(!eq(json!(i64::MIN), json!(u64::MAX)));
        // 2^53 + 1 is not representable as f64; the float 2^53 is not equal to it.
        assert!(!eq(json!(9_007_199_254_740_993u64), json!(9_007_199_254_740_992.0)));
        assert!(eq(json!(9_007_199_254_740_992u64), json!(9_007_199_254_740_992.0)));
        assert!(!eq(json!(1e30), json!(u64::MAX)));
        assert!(eq(json!({"a": [1, {"b": 2.0}]}), json!({"a": [1.0, {"b": 2}]})));
        assert!(!eq(json!({"a": 1}), json!({"a": 1, "b": 2})));
        assert!(!eq(json!({"a": 1, "b": 2}), json!({"a": 1, "c": 2})));
        assert!(!eq(json!([1, 2]), json!([2, 1])));
        assert!(!eq(json!(null), json!(false)));
    }

    #[test]
    fn quotes_are_bounded() {
        let big = Value::String("x".repeat(10_000));
        let q = quote(&big);
        assert!(q.len() <= MAX_QUOTED_BYTES + '…'.len_utf8());
        assert!(q.starts_with("\"xxx") && q.ends_with('…'));
        // Cut on a character boundary.
        let wide = Value::String("é".repeat(1000));
        assert!(quote(&wide).ends_with('…'));
        // The limit falls inside a 4-byte character: still marked as cut (found by the proptest).
        let four = Value::String(format!("{}{}", "x".repeat(MAX_QUOTED_BYTES - 2), "𐀀".repeat(3)));
        let q = quote(&four);
        assert!(q.ends_with('…') && q.len() <= MAX_QUOTED_BYTES + '…'.len_utf8(), "{q}");
        assert_eq!(quote(&json!({"a": [1, true, null]})), r#"{"a":[1,true,null]}"#);
        let long_key = "k".repeat(5000);
        let at = quote_at(&json!(1), &[Step::Key(&long_key), Step::Index(3)], true);
        assert!(at.len() < 2 * MAX_QUOTED_BYTES + 20, "{}", at.len());
    }
}
