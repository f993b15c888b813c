//! Logsource routing and field mappings, as data (see `mappings/windows.yml`).

use std::collections::HashMap;

use crate::rule::{LogSource, RuleError};
use crate::yaml::{parse_documents, Node, NodeKind};

/// One condition on an event field: any of `values` (lower-cased), or presence only when `values` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub values: Option<Vec<String>>,
}

/// Events of one source: all conditions hold; rule field names are renamed by `fields`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub conditions: Vec<Condition>,
    pub fields: HashMap<String, String>,
}

/// The sources of one Sigma logsource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsourceMapping {
    pub logsource: LogSource,
    pub sources: Vec<Source>,
}

/// A set of logsource mappings. Later entries for the same logsource replace earlier ones.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    pub entries: Vec<LogsourceMapping>,
}

const WINDOWS: &str = include_str!("../mappings/windows.yml");

impl Mappings {
    /// The mappings shipped with the crate (Windows event logs).
    pub fn builtin() -> Mappings {
        // The shipped file is tested; should it ever fail to parse, routing falls back to explicit fields only.
        Mappings::from_yaml("mappings/windows.yml", WINDOWS).unwrap_or_default()
    }

    /// Parses a mapping file.
    pub fn from_yaml(file: &str, text: &str) -> Result<Mappings, RuleError> {
        let e = |line: usize, reason: String| RuleError {
            file: file.to_string(),
            line,
            reason,
        };
        let docs = parse_documents(text).map_err(|y| e(y.line, y.reason))?;
        let mut out = Mappings::default();
        for doc in docs {
            if doc.is_null() {
                continue;
            }
            let Some(Node {
                kind: NodeKind::Seq(items),
                ..
            }) = doc.get("logsources")
            else {
                return Err(e(doc.line, "expected a `logsources` list".into()));
            };
            for item in items {
                let ls = item
                    .get("logsource")
                    .ok_or_else(|| e(item.line, "entry without `logsource`".into()))?;
                let low = |k: &str| ls.get(k).and_then(|n| n.scalar_text()).map(|s| s.to_lowercase());
                let logsource = LogSource {
                    category: low("category"),
                    product: low("product"),
                    service: low("service"),
                };
                let mut sources = Vec::new();
                if let Some(Node {
                    kind: NodeKind::Seq(srcs),
                    ..
                }) = item.get("sources")
                {
                    for s in srcs {
                        let mut src = Source::default();
                        for (k, v) in s.get("conditions").and_then(|c| c.as_map()).unwrap_or_default() {
                            let field = k
                                .scalar_text()
                                .ok_or_else(|| e(k.line, "condition field must be a string".into()))?;
                            let values: Vec<String> = match &v.kind {
                                NodeKind::Seq(vs) => vs
                                    .iter()
                                    .filter_map(|x| x.scalar_text())
                                    .map(|x| x.to_lowercase())
                                    .collect(),
                                _ => v.scalar_text().map(|x| vec![x.to_lowercase()]).unwrap_or_default(),
                            };
                            let values = if values.len() == 1 && values[0] == "*" {
                                None
                            } else {
                                Some(values)
                            };
                            src.conditions.push(Condition {
                                field: field.to_string(),
                                values,
                            });
                        }
                        for (k, v) in s.get("fieldmappings").and_then(|c| c.as_map()).unwrap_or_default() {
                            if let (Some(a), Some(b)) = (k.scalar_text(), v.scalar_text()) {
                                src.fields.insert(a.to_string(), b.to_string());
                            }
                        }
                        sources.push(src);
                    }
                }
                out.add(LogsourceMapping { logsource, sources });
            }
        }
        Ok(out)
    }

    /// Adds (or replaces) the mapping of one logsource.
    pub fn add(&mut self, m: LogsourceMapping) {
        self.entries.retain(|e| e.logsource != m.logsource);
        self.entries.push(m);
    }

    /// Adds every entry of another set, replacing those of the same logsource.
    pub fn extend(&mut self, other: Mappings) {
        for m in other.entries {
            self.add(m);
        }
    }

    /// The mapping of a rule's logsource (same category, product and service keys).
    pub fn lookup(&self, ls: &LogSource) -> Option<&LogsourceMapping> {
        self.entries.iter().find(|e| &e.logsource == ls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses() {
        let m = Mappings::from_yaml("windows.yml", WINDOWS);
        assert!(m.is_ok(), "{:?}", m.err());
        let m = Mappings::builtin();
        let pc = LogSource {
            category: Some("process_creation".into()),
            product: Some("windows".into()),
            service: None,
        };
        let e = m.lookup(&pc);
        assert!(e.is_some_and(|e| e.sources.len() == 2));
        assert!(e.is_some_and(|e| e.sources[1].fields.get("Image").map(String::as_str) == Some("NewProcessName")));
    }
}
