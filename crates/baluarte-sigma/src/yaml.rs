//! A small YAML document tree with line numbers, built from yaml-rust2's event stream.
//!
//! Rules need line numbers in their errors, and Sigma needs scalar typing (null, booleans, numbers) with the
//! original text kept (`0x17` stays `0x17`), so the tree is ours rather than the parser's.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A scalar with its resolved type and its original text.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64, String),
    Float(f64, String),
    Str(String),
}

impl Scalar {
    /// The text a value has when compared with event values.
    pub fn text(&self) -> Option<&str> {
        match self {
            Scalar::Null => None,
            Scalar::Bool(true) => Some("true"),
            Scalar::Bool(false) => Some("false"),
            Scalar::Int(_, s) | Scalar::Float(_, s) | Scalar::Str(s) => Some(s),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i, _) => Some(*i as f64),
            Scalar::Float(f, _) => Some(*f),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A YAML node and the (1-based) line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub line: usize,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Text of any non-null scalar.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s) => s.text(),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Scalar(Scalar::Null))
    }
}

/// A YAML syntax error with its line.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub line: usize,
    pub reason: String,
}

enum Frame {
    Seq(Vec<Node>, usize, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: HashMap<usize, Node>,
    error: Option<YamlError>,
}

fn resolve_plain(s: String) -> Scalar {
    match s.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        _ => {}
    }
    let b = s.as_bytes();
    let first = b[0];
    if first.is_ascii_digit() || ((first == b'-' || first == b'+') && b.len() > 1 && b[1].is_ascii_digit()) {
        if let Ok(i) = s.parse::<i64>() {
            return Scalar::Int(i, s);
        }
        if let Some(hex) = s.strip_prefix("0x") {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Scalar::Int(i, s);
            }
        }
        if s.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
        {
            if let Ok(f) = s.parse::<f64>() {
                return Scalar::Float(f, s);
            }
        }
    }
    Scalar::Str(s)
}

impl Builder {
    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(items, _, _)) => items.push(node),
            Some(Frame::Map(items, key, _, _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    if self.error.is_none() {
                        if let Some(name) = k.scalar_text() {
                            if items.iter().any(|(old, _)| old.scalar_text() == Some(name)) {
                                self.error = Some(YamlError {
                                    line: k.line,
                                    reason: format!("duplicate mapping key `{name}`"),
                                });
                            }
                        }
                    }
                    items.push((k, node));
                }
            },
        }
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node);
    }
}

fn is_str_tag(tag: &Option<Tag>) -> bool {
    matches!(tag, Some(t) if t.suffix == "str")
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line().max(1);
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let scalar = if style == TScalarStyle::Plain && !is_str_tag(&tag) {
                    resolve_plain(value)
                } else {
                    Scalar::Str(value)
                };
                self.finish(
                    Node {
                        kind: NodeKind::Scalar(scalar),
                        line,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(Vec::new(), line, anchor)),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map(Vec::new(), None, line, anchor)),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(items, line, anchor)) => self.finish(
                    Node {
                        kind: NodeKind::Seq(items),
                        line,
                    },
                    anchor,
                ),
                Some(Frame::Map(items, _, line, anchor)) => self.finish(
                    Node {
                        kind: NodeKind::Map(items),
                        line,
                    },
                    anchor,
                ),
                None => {}
            },
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned();
                match node {
                    Some(n) => self.push(Node { kind: n.kind, line }),
                    None => {
                        if self.error.is_none() {
                            self.error = Some(YamlError {
                                line,
                                reason: format!("unknown alias {id}"),
                            });
                        }
                        self.push(Node {
                            kind: NodeKind::Scalar(Scalar::Null),
                            line,
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

/// Parses every document of a YAML stream. Empty documents are kept as null nodes.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        line: e.marker().line().max(1),
        reason: e.info().to_string(),
    })?;
    if let Some(e) = builder.error {
        return Err(e);
    }
    Ok(builder.docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_scalars_and_lines() {
        let docs = parse_documents("a: 1\nb: '1'\nc: null\nd: [x, 0x17]\n---\ne: true\n").unwrap_or_default();
        assert_eq!(docs.len(), 2);
        let a = docs[0].get("a").map(|n| n.kind.clone());
        assert_eq!(a, Some(NodeKind::Scalar(Scalar::Int(1, "1".into()))));
        assert_eq!(docs[0].get("b").and_then(|n| n.as_str()), Some("1"));
        assert!(docs[0].get("c").is_some_and(|n| n.is_null()));
        assert_eq!(docs[0].get("d").map(|n| n.line), Some(4));
        assert_eq!(docs[1].get("e").map(|n| n.line), Some(6));
    }

    #[test]
    fn duplicate_key_is_an_error() {
        let e = parse_documents("a: 1\na: 2\n").err();
        assert!(e.is_some_and(|e| e.line == 2));
    }

    #[test]
    fn syntax_error_has_line() {
        let e = parse_documents("a: 1\nb: [\n").err();
        assert!(e.is_some());
    }
}
