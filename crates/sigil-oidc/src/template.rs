//! The small subset of Go `text/template` that Fulcio's CI-provider claim templates use.
//!
//! A template without `{{` is a claim name (Fulcio's shorthand: `"sha"` means the `sha` claim). Otherwise text is
//! literal and actions are:
//! - `{{ .name }}` and `{{ index . "name" }}` (also parenthesised): a claim, else a default value;
//! - `{{ if eq <value> "literal" }} … {{ else }} … {{ end }}`.
//!
//! Anything else is a configuration error. Templates are bounded ([`crate::config::MAX_TEMPLATE_LEN`], nesting
//! depth 4); rendering never evaluates anything a token controls as template text.

use std::collections::BTreeMap;

use crate::config::MAX_TEMPLATE_LEN;

const MAX_DEPTH: usize = 4;

/// A parsed claim template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Value(String),
    IfEq {
        name: String,
        literal: String,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

enum Action {
    Value(String),
    If { name: String, literal: String },
    Else,
    End,
}

impl Template {
    /// Parses a template (or a bare claim name).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_TEMPLATE_LEN {
            return Err(format!("template longer than {MAX_TEMPLATE_LEN} bytes"));
        }
        if !text.contains("{{") {
            let name = text.trim();
            if name.is_empty() || !is_name(name) {
                return Err("a template without {{ }} must be a claim name".to_owned());
            }
            return Ok(Self {
                nodes: vec![Node::Value(name.to_owned())],
            });
        }
        let mut rest = text;
        let (nodes, end) = parse_seq(&mut rest, 0)?;
        if end.is_some() {
            return Err("unexpected {{else}} or {{end}}".to_owned());
        }
        Ok(Self { nodes })
    }

    /// Renders with claim values (which win) and defaults. A name found in neither is an error.
    pub fn render(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
        defaults: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        let mut out = String::new();
        render_nodes(&self.nodes, claims, defaults, &mut out)?;
        Ok(out)
    }
}

fn is_name(s: &str) -> bool {
    s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

/// Parses nodes until the input ends or an `else`/`end` action, which is returned.
fn parse_seq(rest: &mut &str, depth: usize) -> Result<(Vec<Node>, Option<bool>), String> {
    if depth > MAX_DEPTH {
        return Err("template nested too deeply".to_owned());
    }
    let mut nodes = Vec::new();
    loop {
        let Some(open) = rest.find("{{") else {
            if !rest.is_empty() {
                nodes.push(Node::Text((*rest).to_owned()));
            }
            *rest = "";
            return Ok((nodes, None));
        };
        let (text, after) = rest.split_at(open);
        if !text.is_empty() {
            nodes.push(Node::Text(text.to_owned()));
        }
        let after = after.get(2..).unwrap_or_default();
        let close = after.find("}}").ok_or("unclosed {{")?;
        let (inner, tail) = after.split_at(close);
        *rest = tail.get(2..).unwrap_or_default();
        match parse_action(inner)? {
            Action::Value(name) => nodes.push(Node::Value(name)),
            Action::Else => return Ok((nodes, Some(false))),
            Action::End => return Ok((nodes, Some(true))),
            Action::If { name, literal } => {
                let (then, end) = parse_seq(rest, depth + 1)?;
                let otherwise = match end {
                    Some(true) => Vec::new(),
                    Some(false) => match parse_seq(rest, depth + 1)? {
                        (o, Some(true)) => o,
                        _ => return Err("{{if}} without {{end}}".to_owned()),
                    },
                    None => return Err("{{if}} without {{end}}".to_owned()),
                };
                nodes.push(Node::IfEq {
                    name,
                    literal,
                    then,
                    otherwise,
                });
            }
        }
    }
}

fn parse_action(inner: &str) -> Result<Action, String> {
    let s = inner.trim();
    match s {
        "else" => return Ok(Action::Else),
        "end" => return Ok(Action::End),
        _ => {}
    }
    if let Some(cond) = s.strip_prefix("if ") {
        let cond = cond.trim();
        let args = cond
            .strip_prefix("eq ")
            .ok_or("only {{if eq <value> \"literal\"}} is supported")?;
        let (value, literal) = split_value_and_literal(args.trim())?;
        return Ok(Action::If {
            name: parse_value(value)?,
            literal,
        });
    }
    Ok(Action::Value(parse_value(s)?))
}

/// `.name` | `index . "name"` | `(index . "name")`.
fn parse_value(s: &str) -> Result<String, String> {
    let s = s.trim();
    let s = match s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        Some(inner) => inner.trim(),
        None => s,
    };
    if let Some(args) = s.strip_prefix("index ") {
        let arg = args
            .trim()
            .strip_prefix('.')
            .ok_or("index must be applied to .")?
            .trim();
        let name = parse_literal(arg)?;
        if !is_name(&name) {
            return Err("invalid claim name".to_owned());
        }
        return Ok(name);
    }
    let name = s.strip_prefix('.').ok_or("expected .claim or index . \"claim\"")?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err("invalid claim name".to_owned());
    }
    Ok(name.to_owned())
}

fn parse_literal(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .ok_or("expected a quoted string")?;
    if inner.contains(['"', '\\']) {
        return Err("escapes are not supported in literals".to_owned());
    }
    Ok(inner.to_owned())
}

fn split_value_and_literal(args: &str) -> Result<(&str, String), String> {
    let quote = args.rfind(" \"").ok_or("expected a quoted literal")?;
    let (value, lit) = args.split_at(quote);
    Ok((value, parse_literal(lit.trim())?))
}

fn lookup(
    name: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
    defaults: &BTreeMap<String, String>,
) -> Result<String, String> {
    match claims.get(name) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Ok(b.to_string()),
        Some(serde_json::Value::Null) | None => defaults
            .get(name)
            .cloned()
            .ok_or_else(|| format!("claim {name:?} missing and no default")),
        Some(_) => Err(format!("claim {name:?} is not a string, number or boolean")),
    }
}

fn render_nodes(
    nodes: &[Node],
    claims: &serde_json::Map<String, serde_json::Value>,
    defaults: &BTreeMap<String, String>,
    out: &mut String,
) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Value(name) => out.push_str(&lookup(name, claims, defaults)?),
            Node::IfEq {
                name,
                literal,
                then,
                otherwise,
            } => {
                let branch = if lookup(name, claims, defaults)? == *literal {
                    then
                } else {
                    otherwise
                };
                render_nodes(branch, claims, defaults, out)?;
            }
        }
        if out.len() > 4 * MAX_TEMPLATE_LEN {
            return Err("rendered value too long".to_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn claims(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn renders_fulcio_forms() {
        let defaults: BTreeMap<String, String> = [("url".to_owned(), "https://gitlab.com".to_owned())].into();
        let c = claims(serde_json::json!({"ref_type": "branch", "ref": "main", "n": 42, "a/b": "x"}));
        let t = Template::parse("refs/{{if eq .ref_type \"branch\"}}heads/{{ else }}tags/{{end}}{{ .ref }}").unwrap();
        assert_eq!(t.render(&c, &defaults).unwrap(), "refs/heads/main");
        let t = Template::parse("{{ .url }}/{{.n}}/{{(index . \"a/b\")}}").unwrap();
        assert_eq!(t.render(&c, &defaults).unwrap(), "https://gitlab.com/42/x");
        assert_eq!(Template::parse("ref").unwrap().render(&c, &defaults).unwrap(), "main");
        assert!(Template::parse("missing").unwrap().render(&c, &defaults).is_err());
    }

    #[test]
    fn rejects_unsupported_syntax() {
        for bad in [
            "{{ .a",
            "{{ printf \"%s\" .a }}",
            "{{if .a}}x{{end}}",
            "{{ end }}",
            "{{if eq .a \"b\"}}x",
            "a b",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
