//! The rule model and the loader: multi-document YAML, `action: global` collections, Sigma rules, Sigma 2
//! filters and correlation rules. Everything a rule needs is checked here, so a bad rule is reported with its
//! file, line and reason, and the other rules still load.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::condition::{ident_matches, parse_condition, Cond};
use crate::pattern::{
    expand_placeholders, parse_wildcards, transform, Cidr, Cmp, Matcher, Modifier, Piece, RefMode, StrPat,
};
use crate::yaml::{parse_documents, Node, NodeKind, Scalar};

/// A rule (or document) that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// What loading produced: counts, and every failure with its reason.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    /// CompiledDetection rules loaded.
    pub loaded: usize,
    pub filters: usize,
    pub correlations: usize,
    pub failures: Vec<RuleError>,
    /// Problems that did not stop a rule from loading (e.g. a filter naming an unknown rule).
    pub warnings: Vec<RuleError>,
}

impl LoadReport {
    pub fn merge(&mut self, other: LoadReport) {
        self.loaded += other.loaded;
        self.filters += other.filters;
        self.correlations += other.correlations;
        self.failures.extend(other.failures);
        self.warnings.extend(other.warnings);
    }
}

/// The `logsource` of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// Rule metadata, shared by detections and summaries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleMeta {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub logsource: LogSource,
    pub file: String,
    pub line: usize,
}

/// One test of a field (or of every value, for keywords).
#[derive(Debug, Clone)]
pub enum Test {
    /// Any value matches any matcher; with `all`, every matcher matches some value; with `neq`, the field exists
    /// and no value matches any matcher.
    Values {
        matchers: Vec<Matcher>,
        all: bool,
        neq: bool,
    },
    /// `field: null`: absent or null.
    Null,
    /// `field|exists: bool`.
    Exists(bool),
}

#[derive(Debug, Clone)]
pub struct Item {
    /// Rule-local field index; `None` for keywords (any value of the event).
    pub field: Option<usize>,
    pub test: Test,
}

/// A search identifier: an OR of AND-groups of items.
#[derive(Debug, Clone)]
pub struct Selection {
    pub name: String,
    pub alts: Vec<Vec<Item>>,
}

/// A compiled condition over selection indexes.
#[derive(Debug, Clone)]
pub enum Expr {
    Sel(usize),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Const(bool),
}

/// A compiled `detection` section; field names stay symbolic so each logsource mapping can bind them.
#[derive(Debug, Clone)]
pub struct CompiledDetection {
    pub fields: Vec<String>,
    pub selections: Vec<Selection>,
    pub condition: Expr,
}

/// A detection rule.
#[derive(Debug, Clone)]
pub struct RuleDef {
    pub meta: Arc<RuleMeta>,
    pub detection: Arc<CompiledDetection>,
}

/// A Sigma 2 filter: excludes matches of the rules it names.
#[derive(Debug, Clone)]
pub struct FilterDef {
    pub meta: Arc<RuleMeta>,
    pub rules: Vec<String>,
    pub detection: Arc<CompiledDetection>,
}

/// Correlation types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

/// A correlation rule.
#[derive(Debug, Clone)]
pub struct CorrelationDef {
    pub meta: Arc<RuleMeta>,
    pub kind: CorrelationType,
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    /// Conditions on the count, all of which must hold.
    pub condition: Vec<(Cmp, f64, bool)>,
    /// `value_count`: the field(s) whose distinct values are counted.
    pub field: Vec<String>,
    /// alias → (rule id or name → field)
    pub aliases: HashMap<String, HashMap<String, String>>,
    pub generate: bool,
}

/// Everything loaded from rule files.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<RuleDef>,
    pub filters: Vec<FilterDef>,
    pub correlations: Vec<CorrelationDef>,
}

/// Options of the loader.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Values of `%placeholder%`s for the `expand` modifier.
    pub placeholders: HashMap<String, Vec<String>>,
}

type Res<T> = Result<T, (usize, String)>;

fn err<T>(line: usize, reason: impl Into<String>) -> Res<T> {
    Err((line, reason.into()))
}

/// Deep merge of `action: global` content into a document (the document wins on scalar conflicts).
fn merge(base: &Node, over: &Node) -> Node {
    match (&base.kind, &over.kind) {
        (NodeKind::Map(b), NodeKind::Map(o)) => {
            let mut out: Vec<(Node, Node)> = b.clone();
            for (k, v) in o {
                if let Some(slot) = out.iter_mut().find(|(bk, _)| bk.scalar_text() == k.scalar_text()) {
                    slot.1 = merge(&slot.1, v);
                } else {
                    out.push((k.clone(), v.clone()));
                }
            }
            Node {
                kind: NodeKind::Map(out),
                line: over.line,
            }
        }
        _ => over.clone(),
    }
}

fn without_key(n: &Node, key: &str) -> Node {
    match &n.kind {
        NodeKind::Map(m) => Node {
            kind: NodeKind::Map(
                m.iter()
                    .filter(|(k, _)| k.scalar_text() != Some(key))
                    .cloned()
                    .collect(),
            ),
            line: n.line,
        },
        _ => n.clone(),
    }
}

impl RuleSet {
    /// Loads every document of one YAML file. Failures go to the report; the other documents still load.
    pub fn add_yaml(&mut self, file: &str, text: &str, opts: &LoadOptions, report: &mut LoadReport) {
        let docs = match parse_documents(text) {
            Ok(d) => d,
            Err(e) => {
                report.failures.push(RuleError {
                    file: file.into(),
                    line: e.line,
                    reason: format!("YAML: {}", e.reason),
                });
                return;
            }
        };
        let mut global: Option<Node> = None;
        let mut previous: Option<Node> = None;
        for doc in docs {
            if doc.is_null() {
                continue;
            }
            let fail = |report: &mut LoadReport, line: usize, reason: String| {
                report.failures.push(RuleError {
                    file: file.into(),
                    line,
                    reason,
                })
            };
            if doc.as_map().is_none() {
                fail(report, doc.line, "a rule document must be a mapping".into());
                continue;
            }
            let doc = match doc.get("action").and_then(|a| a.scalar_text()) {
                Some("global") => {
                    global = Some(without_key(&doc, "action"));
                    continue;
                }
                Some("reset") => {
                    global = None;
                    continue;
                }
                Some("repeat") => match &previous {
                    Some(p) => merge(p, &without_key(&doc, "action")),
                    None => {
                        fail(report, doc.line, "`action: repeat` without a previous document".into());
                        continue;
                    }
                },
                Some(other) => {
                    fail(report, doc.line, format!("unknown collection action `{other}`"));
                    continue;
                }
                None => match &global {
                    Some(g) => merge(g, &doc),
                    None => doc,
                },
            };
            previous = Some(doc.clone());
            let result = if doc.get("correlation").is_some() {
                parse_correlation(file, &doc).map(|c| {
                    report.correlations += 1;
                    self.correlations.push(c)
                })
            } else if doc.get("filter").is_some() && doc.get("detection").is_none() {
                parse_filter(file, &doc, opts).map(|f| {
                    report.filters += 1;
                    self.filters.push(f)
                })
            } else {
                parse_rule(file, &doc, opts).map(|r| {
                    report.loaded += 1;
                    self.rules.push(r)
                })
            };
            if let Err((line, reason)) = result {
                fail(report, line, reason);
            }
        }
    }

    /// Loads every `.yml`/`.yaml` file under a directory (recursively), in parallel, in a stable order.
    pub fn load_dir(path: &std::path::Path, opts: &LoadOptions) -> (RuleSet, LoadReport) {
        let mut files = Vec::new();
        let mut report = LoadReport::default();
        collect_files(path, &mut files, &mut report);
        files.sort();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let chunk = files.len().div_ceil(threads).max(1);
        let parts: Vec<(RuleSet, LoadReport)> = std::thread::scope(|s| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|chunk| {
                    s.spawn(move || {
                        let mut set = RuleSet::default();
                        let mut rep = LoadReport::default();
                        for f in chunk {
                            let name = f.display().to_string();
                            match std::fs::read_to_string(f) {
                                Ok(text) => set.add_yaml(&name, &text, opts, &mut rep),
                                Err(e) => rep.failures.push(RuleError {
                                    file: name,
                                    line: 0,
                                    reason: e.to_string(),
                                }),
                            }
                        }
                        (set, rep)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut set = RuleSet::default();
        for (s, r) in parts {
            set.rules.extend(s.rules);
            set.filters.extend(s.filters);
            set.correlations.extend(s.correlations);
            report.merge(r);
        }
        (set, report)
    }
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>, report: &mut LoadReport) {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            report.failures.push(RuleError {
                file: dir.display().to_string(),
                line: 0,
                reason: e.to_string(),
            });
            return;
        }
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out, report);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

fn opt_str(doc: &Node, key: &str) -> Option<String> {
    doc.get(key).and_then(|n| n.scalar_text()).map(str::to_string)
}

fn parse_meta(file: &str, doc: &Node) -> Res<RuleMeta> {
    let title = match doc.get("title") {
        Some(t) => t
            .scalar_text()
            .map(str::to_string)
            .ok_or((t.line, "`title` must be a string".to_string()))?,
        None => return err(doc.line, "missing `title`"),
    };
    let mut logsource = LogSource::default();
    if let Some(ls) = doc.get("logsource") {
        if ls.as_map().is_none() {
            return err(ls.line, "`logsource` must be a mapping");
        }
        let low = |k: &str| ls.get(k).and_then(|n| n.scalar_text()).map(|s| s.to_lowercase());
        logsource = LogSource {
            category: low("category"),
            product: low("product"),
            service: low("service"),
        };
    }
    let tags = match doc.get("tags") {
        Some(Node {
            kind: NodeKind::Seq(items),
            ..
        }) => items
            .iter()
            .filter_map(|n| n.scalar_text())
            .map(str::to_string)
            .collect(),
        Some(n) if n.is_null() => Vec::new(),
        Some(n) => return err(n.line, "`tags` must be a list"),
        None => Vec::new(),
    };
    let level = opt_str(doc, "level");
    if let Some(l) = &level {
        if !matches!(l.as_str(), "informational" | "low" | "medium" | "high" | "critical") {
            return err(
                doc.get("level").map_or(doc.line, |n| n.line),
                format!("unknown level `{l}`"),
            );
        }
    }
    Ok(RuleMeta {
        id: opt_str(doc, "id"),
        name: opt_str(doc, "name"),
        title,
        level,
        status: opt_str(doc, "status"),
        description: opt_str(doc, "description"),
        tags,
        logsource,
        file: file.to_string(),
        line: doc.line,
    })
}

fn parse_rule(file: &str, doc: &Node, opts: &LoadOptions) -> Res<RuleDef> {
    let meta = parse_meta(file, doc)?;
    if doc.get("logsource").is_none() {
        return err(doc.line, "missing `logsource`");
    }
    let det = match doc.get("detection") {
        Some(d) => d,
        None => return err(doc.line, "missing `detection`"),
    };
    let detection = compile_detection(det, opts, None)?;
    Ok(RuleDef {
        meta: Arc::new(meta),
        detection: Arc::new(detection),
    })
}

fn parse_filter(file: &str, doc: &Node, opts: &LoadOptions) -> Res<FilterDef> {
    let meta = parse_meta(file, doc)?;
    if doc.get("logsource").is_none() {
        return err(doc.line, "missing `logsource`");
    }
    let Some(f) = doc.get("filter") else {
        return err(doc.line, "missing `filter`");
    };
    let rules = match f.get("rules") {
        Some(Node {
            kind: NodeKind::Seq(items),
            ..
        }) => items
            .iter()
            .filter_map(|n| n.scalar_text())
            .map(str::to_string)
            .collect::<Vec<_>>(),
        Some(n) if n.scalar_text().is_some() => vec![n.scalar_text().unwrap_or_default().to_string()],
        _ => {
            return err(
                f.line,
                "a filter needs `rules`: the ids or names of the rules it applies to",
            )
        }
    };
    let detection = compile_detection(f, opts, Some("rules"))?;
    Ok(FilterDef {
        meta: Arc::new(meta),
        rules,
        detection: Arc::new(detection),
    })
}

/// Parses `30s`, `5m`, `1h`, `1d` (also `w`, `M`, `y`) into milliseconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    let mult = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        'M' => 30 * 86_400_000,
        'y' => 365 * 86_400_000,
        _ => return None,
    };
    if n <= 0 {
        return None;
    }
    n.checked_mul(mult)
}

fn string_list(n: &Node, what: &str) -> Res<Vec<String>> {
    match &n.kind {
        NodeKind::Seq(items) => items
            .iter()
            .map(|i| {
                i.scalar_text()
                    .map(str::to_string)
                    .ok_or((i.line, format!("`{what}` items must be strings")))
            })
            .collect(),
        NodeKind::Scalar(s) => Ok(s.text().map(|t| vec![t.to_string()]).unwrap_or_default()),
        NodeKind::Map(_) => err(n.line, format!("`{what}` must be a list")),
    }
}

fn parse_correlation(file: &str, doc: &Node) -> Res<CorrelationDef> {
    let meta = parse_meta(file, doc)?;
    let Some(c) = doc.get("correlation") else {
        return err(doc.line, "missing `correlation`");
    };
    if c.as_map().is_none() {
        return err(c.line, "`correlation` must be a mapping");
    }
    let kind = match c.get("type").and_then(|t| t.scalar_text()) {
        Some("event_count") => CorrelationType::EventCount,
        Some("value_count") => CorrelationType::ValueCount,
        Some("temporal") => CorrelationType::Temporal,
        Some("temporal_ordered") => CorrelationType::TemporalOrdered,
        Some(t @ ("value_sum" | "value_avg" | "value_percentile")) => {
            return err(c.line, format!("correlation type `{t}` is not supported yet"))
        }
        Some(t) => return err(c.line, format!("unknown correlation type `{t}`")),
        None => return err(c.line, "correlation needs a `type`"),
    };
    let rules = match c.get("rules") {
        Some(n) => string_list(n, "rules")?,
        None => return err(c.line, "correlation needs `rules`"),
    };
    if rules.is_empty() {
        return err(c.line, "correlation `rules` is empty");
    }
    let group_by = match c.get("group-by") {
        Some(n) => string_list(n, "group-by")?,
        None => Vec::new(),
    };
    let timespan_ms = match c.get("timespan").and_then(|t| t.scalar_text()) {
        Some(t) => parse_timespan(t).ok_or((c.line, format!("invalid timespan `{t}` (number + s/m/h/d)")))?,
        None => return err(c.line, "correlation needs a `timespan`"),
    };
    let mut condition = Vec::new();
    let mut field = Vec::new();
    match c.get("condition") {
        Some(n) => {
            let Some(m) = n.as_map() else {
                return err(n.line, "correlation `condition` must be a mapping");
            };
            for (k, v) in m {
                let key = k.scalar_text().unwrap_or_default();
                if key == "field" {
                    field = string_list(v, "field")?;
                    continue;
                }
                let (op, neg) = match key {
                    "gt" => (Cmp::Gt, false),
                    "gte" => (Cmp::Gte, false),
                    "lt" => (Cmp::Lt, false),
                    "lte" => (Cmp::Lte, false),
                    "eq" => (Cmp::Eq, false),
                    "neq" => (Cmp::Eq, true),
                    other => return err(k.line, format!("unknown correlation condition operator `{other}`")),
                };
                let val = match &v.kind {
                    NodeKind::Scalar(s) => s.as_f64(),
                    _ => None,
                }
                .ok_or((v.line, "correlation condition needs a number".to_string()))?;
                condition.push((op, val, neg));
            }
        }
        None => {
            if matches!(kind, CorrelationType::EventCount | CorrelationType::ValueCount) {
                return err(c.line, "correlation needs a `condition`");
            }
        }
    }
    if kind == CorrelationType::ValueCount && field.is_empty() {
        return err(c.line, "value_count needs `field` in its condition");
    }
    let mut aliases = HashMap::new();
    if let Some(a) = c.get("aliases") {
        let Some(m) = a.as_map() else {
            return err(a.line, "`aliases` must be a mapping");
        };
        for (k, v) in m {
            let mut per = HashMap::new();
            for (rk, rv) in v.as_map().unwrap_or_default() {
                if let (Some(r), Some(f)) = (rk.scalar_text(), rv.scalar_text()) {
                    per.insert(r.to_string(), f.to_string());
                }
            }
            aliases.insert(k.scalar_text().unwrap_or_default().to_string(), per);
        }
    }
    let generate = matches!(
        c.get("generate").or(doc.get("generate")).map(|n| &n.kind),
        Some(NodeKind::Scalar(Scalar::Bool(true)))
    );
    Ok(CorrelationDef {
        meta: Arc::new(meta),
        kind,
        rules,
        group_by,
        timespan_ms,
        condition,
        field,
        aliases,
        generate,
    })
}

struct Ctx<'o> {
    fields: Vec<String>,
    opts: &'o LoadOptions,
}

impl Ctx<'_> {
    fn field(&mut self, name: &str) -> usize {
        if let Some(i) = self.fields.iter().position(|f| f == name) {
            return i;
        }
        self.fields.push(name.to_string());
        self.fields.len() - 1
    }
}

/// Compiles a `detection` (or filter) mapping. `skip` names a key that is not a search identifier.
pub fn compile_detection(det: &Node, opts: &LoadOptions, skip: Option<&str>) -> Res<CompiledDetection> {
    let Some(map) = det.as_map() else {
        return err(det.line, "`detection` must be a mapping");
    };
    let mut ctx = Ctx {
        fields: Vec::new(),
        opts,
    };
    let mut selections = Vec::new();
    let mut cond_node = None;
    for (k, v) in map {
        let Some(name) = k.scalar_text() else {
            return err(k.line, "search identifiers must be strings");
        };
        if name == "condition" {
            cond_node = Some(v);
            continue;
        }
        if Some(name) == skip {
            continue;
        }
        if name == "timeframe" {
            return err(k.line, "`timeframe` is obsolete in Sigma 2: use a correlation rule");
        }
        let alts = compile_selection(v, &mut ctx)?;
        selections.push(Selection {
            name: name.to_string(),
            alts,
        });
    }
    let Some(cond_node) = cond_node else {
        return err(det.line, "missing `condition`");
    };
    let conds: Vec<(String, usize)> = match &cond_node.kind {
        NodeKind::Scalar(s) => vec![(s.text().unwrap_or_default().to_string(), cond_node.line)],
        NodeKind::Seq(items) => items
            .iter()
            .map(|i| {
                i.scalar_text()
                    .map(|t| (t.to_string(), i.line))
                    .ok_or((i.line, "condition must be a string".into()))
            })
            .collect::<Res<_>>()?,
        NodeKind::Map(_) => return err(cond_node.line, "condition must be a string or a list of strings"),
    };
    let mut exprs = Vec::new();
    for (text, line) in conds {
        let c = parse_condition(&text).map_err(|e| (line, format!("condition `{text}`: {e}")))?;
        exprs.push(bind(&c, &selections).map_err(|e| (line, format!("condition `{text}`: {e}")))?);
    }
    let condition = if exprs.len() == 1 {
        exprs.remove(0)
    } else {
        Expr::Or(exprs)
    };
    Ok(CompiledDetection {
        fields: ctx.fields,
        selections,
        condition,
    })
}

fn bind(c: &Cond, sels: &[Selection]) -> Result<Expr, String> {
    Ok(match c {
        Cond::Ident(name) => {
            let i = sels
                .iter()
                .position(|s| &s.name == name)
                .ok_or(format!("unknown search identifier `{name}`"))?;
            Expr::Sel(i)
        }
        Cond::And(items) => Expr::And(items.iter().map(|i| bind(i, sels)).collect::<Result<_, _>>()?),
        Cond::Or(items) => Expr::Or(items.iter().map(|i| bind(i, sels)).collect::<Result<_, _>>()?),
        Cond::Not(i) => Expr::Not(Box::new(bind(i, sels)?)),
        Cond::Of { all, pattern } => {
            let hits: Vec<Expr> = sels
                .iter()
                .enumerate()
                .filter(|(_, s)| match pattern {
                    None => !s.name.starts_with('_'),
                    Some(p) => ident_matches(p, &s.name),
                })
                .map(|(i, _)| Expr::Sel(i))
                .collect();
            if hits.is_empty() {
                return Err(format!(
                    "`{}` matches no search identifier",
                    pattern.as_deref().unwrap_or("them")
                ));
            }
            if *all {
                Expr::And(hits)
            } else {
                Expr::Or(hits)
            }
        }
    })
}

fn compile_selection(v: &Node, ctx: &mut Ctx) -> Res<Vec<Vec<Item>>> {
    match &v.kind {
        NodeKind::Map(m) => Ok(vec![compile_map(m, ctx)?]),
        NodeKind::Seq(items) => {
            if items.is_empty() {
                return err(v.line, "empty search identifier");
            }
            let mut alts = Vec::new();
            let mut keywords = Vec::new();
            for i in items {
                match &i.kind {
                    NodeKind::Map(m) => alts.push(compile_map(m, ctx)?),
                    NodeKind::Scalar(s) => keywords.push((s.clone(), i.line)),
                    NodeKind::Seq(_) => return err(i.line, "nested lists are not allowed in a search identifier"),
                }
            }
            if !keywords.is_empty() {
                let item = compile_item(None, &[], &keywords, v.line, ctx)?;
                alts.push(vec![item]);
            }
            Ok(alts)
        }
        NodeKind::Scalar(s) => Ok(vec![vec![compile_item(
            None,
            &[],
            &[(s.clone(), v.line)],
            v.line,
            ctx,
        )?]]),
    }
}

fn compile_map(m: &[(Node, Node)], ctx: &mut Ctx) -> Res<Vec<Item>> {
    let mut items = Vec::new();
    for (k, v) in m {
        let Some(key) = k.scalar_text() else {
            return err(k.line, "field names must be strings");
        };
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default();
        let mut mods = Vec::new();
        for p in parts {
            mods.push(Modifier::parse(p).ok_or((k.line, format!("unknown modifier `{p}` in `{key}`")))?);
        }
        let values: Vec<(Scalar, usize)> = match &v.kind {
            NodeKind::Scalar(s) => vec![(s.clone(), v.line)],
            NodeKind::Seq(items) => {
                let mut out = Vec::new();
                for i in items {
                    match &i.kind {
                        NodeKind::Scalar(s) => out.push((s.clone(), i.line)),
                        _ => return err(i.line, format!("values of `{key}` must be scalars")),
                    }
                }
                if out.is_empty() {
                    return err(v.line, format!("`{key}` has an empty list of values"));
                }
                out
            }
            NodeKind::Map(_) => return err(v.line, format!("values of `{key}` must be scalars or a list")),
        };
        let field = if field.is_empty() { None } else { Some(field) };
        items.push(compile_item(field, &mods, &values, k.line, ctx)?);
    }
    if items.is_empty() {
        return err(0, "empty search identifier");
    }
    Ok(items)
}

fn compile_item(
    field: Option<&str>,
    mods: &[Modifier],
    values: &[(Scalar, usize)],
    line: usize,
    ctx: &mut Ctx,
) -> Res<Item> {
    let has = |m: Modifier| mods.contains(&m);
    let local = field.map(|f| ctx.field(f));
    if has(Modifier::Exists) {
        if mods.len() != 1 || field.is_none() {
            return err(line, "`exists` takes a field and no other modifier");
        }
        return match values {
            [(Scalar::Bool(b), _)] => Ok(Item {
                field: local,
                test: Test::Exists(*b),
            }),
            _ => err(line, "`exists` needs a single boolean value"),
        };
    }
    let all = has(Modifier::All);
    let neq = has(Modifier::Neq);
    if all && values.len() < 2 {
        return err(
            line,
            "`all` needs a list of at least two values (specification: single values may not use it)",
        );
    }
    let nulls = values.iter().filter(|(v, _)| matches!(v, Scalar::Null)).count();
    if nulls > 0 {
        if values.len() > 1 {
            return err(
                line,
                "`null` cannot be part of a list of values (specification: use its own selection)",
            );
        }
        if !mods.is_empty() {
            return err(line, "`null` cannot take modifiers");
        }
        if field.is_none() {
            return err(line, "a keyword cannot be null");
        }
        return Ok(Item {
            field: local,
            test: Test::Null,
        });
    }
    let cased = has(Modifier::Cased);
    let time = mods
        .iter()
        .find_map(|m| if let Modifier::Time(p) = m { Some(*p) } else { None });
    let cmp = mods.iter().find_map(|m| match m {
        Modifier::Lt => Some(Cmp::Lt),
        Modifier::Lte => Some(Cmp::Lte),
        Modifier::Gt => Some(Cmp::Gt),
        Modifier::Gte => Some(Cmp::Gte),
        _ => None,
    });
    let mut matchers = Vec::new();
    for (v, vline) in values {
        let vline = *vline;
        if has(Modifier::Re) {
            if let Some(bad) = mods.iter().find(|m| {
                !matches!(
                    m,
                    Modifier::Re
                        | Modifier::ReI
                        | Modifier::ReM
                        | Modifier::ReS
                        | Modifier::All
                        | Modifier::Neq
                        | Modifier::Cased
                )
            }) {
                return err(line, format!("modifier {bad:?} cannot be combined with `re`"));
            }
            let Some(src) = v.text() else {
                return err(vline, "`re` needs a string");
            };
            let re = regex::bytes::RegexBuilder::new(src)
                .case_insensitive(has(Modifier::ReI))
                .multi_line(has(Modifier::ReM))
                .dot_matches_new_line(has(Modifier::ReS))
                .size_limit(4 << 20)
                .build()
                .map_err(|e| {
                    (
                        vline,
                        format!("invalid regular expression `{src}`: {}", first_line(&e.to_string())),
                    )
                })?;
            matchers.push(Matcher::Regex(re));
            continue;
        }
        if [Modifier::ReI, Modifier::ReM, Modifier::ReS].iter().any(|m| has(*m)) {
            return err(line, "the `i`, `m` and `s` modifiers need `re`");
        }
        if has(Modifier::Cidr) {
            let Some(src) = v.text() else {
                return err(vline, "`cidr` needs a network");
            };
            let c = Cidr::parse(src).ok_or((vline, format!("invalid CIDR network `{src}`")))?;
            matchers.push(Matcher::Cidr(c));
            continue;
        }
        if let Some(op) = cmp {
            let Some(n) = v.as_f64() else {
                return err(vline, "numeric modifiers need a number");
            };
            matchers.push(match time {
                Some(part) => Matcher::Time { part, op, value: n },
                None => Matcher::Num { op, value: n },
            });
            continue;
        }
        if let Some(part) = time {
            let Some(n) = v.as_f64() else {
                return err(vline, "time modifiers need a number");
            };
            matchers.push(Matcher::Time {
                part,
                op: Cmp::Eq,
                value: n,
            });
            continue;
        }
        let Some(text) = v.text() else {
            return err(vline, "missing value");
        };
        if has(Modifier::FieldRef) {
            if field.is_none() {
                return err(line, "`fieldref` needs a field");
            }
            let mode = if has(Modifier::Contains) {
                RefMode::Contains
            } else if has(Modifier::StartsWith) {
                RefMode::StartsWith
            } else if has(Modifier::EndsWith) {
                RefMode::EndsWith
            } else {
                RefMode::Equal
            };
            let other = ctx.field(text);
            matchers.push(Matcher::FieldRef {
                field: other,
                mode,
                cased,
            });
            continue;
        }
        let raw: Vec<String> = if has(Modifier::Expand) {
            expand_placeholders(text, &ctx.opts.placeholders).map_err(|e| (vline, e))?
        } else {
            vec![text.to_string()]
        };
        // Keywords match anywhere in a value unless told otherwise.
        let mut mods_eff: Vec<Modifier> = mods.to_vec();
        if field.is_none()
            && !mods
                .iter()
                .any(|m| matches!(m, Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith))
        {
            mods_eff.push(Modifier::Contains);
        }
        for r in raw {
            let pieces: Vec<Piece> = if matches!(v, Scalar::Str(_)) {
                parse_wildcards(&r)
            } else {
                vec![Piece::Lit(r.into_bytes())]
            };
            for p in transform(pieces, &mods_eff).map_err(|e| (vline, e))? {
                matchers.push(Matcher::Str {
                    pat: StrPat::from_pieces(p, cased),
                    cased,
                });
            }
        }
    }
    Ok(Item {
        field: local,
        test: Test::Values { matchers, all, neq },
    })
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (RuleSet, LoadReport) {
        let mut set = RuleSet::default();
        let mut rep = LoadReport::default();
        set.add_yaml("t.yml", text, &LoadOptions::default(), &mut rep);
        (set, rep)
    }

    #[test]
    fn global_collection() {
        let (set, rep) = load(
            "action: global\ntitle: T\nlogsource: {product: windows}\ndetection:\n  condition: sel\n---\ndetection:\n  sel:\n    EventID: 1\nlogsource: {service: sysmon}\n---\ndetection:\n  sel:\n    EventID: 2\n",
        );
        assert!(rep.failures.is_empty(), "{:?}", rep.failures);
        assert_eq!(set.rules.len(), 2);
        assert_eq!(set.rules[0].meta.logsource.service.as_deref(), Some("sysmon"));
        assert_eq!(set.rules[0].meta.logsource.product.as_deref(), Some("windows"));
    }

    #[test]
    fn failures_have_lines() {
        let (_, rep) =
            load("title: T\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image|foo: x\n  condition: sel\n");
        assert_eq!(rep.failures.len(), 1);
        assert_eq!(rep.failures[0].line, 5);
        assert!(rep.failures[0].reason.contains("unknown modifier"));
        let (_, rep) =
            load("title: T\nlogsource: {product: windows}\ndetection:\n  sel:\n    A: x\n  condition: sel and other\n");
        assert!(rep.failures[0].reason.contains("unknown search identifier"));
        let (_, rep) = load("title: T\nlogsource: {}\ndetection:\n  sel:\n    A|expand: '%x%'\n  condition: sel\n");
        assert!(rep.failures[0].reason.contains("unresolved placeholder"));
    }

    #[test]
    fn correlation_and_filter_parse() {
        let (set, rep) = load(
            "title: C\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [User]\n  timespan: 5m\n  condition: {gte: 3}\n---\ntitle: F\nlogsource: {product: windows}\nfilter:\n  rules: [x]\n  selection: {User: admin}\n  condition: selection\n",
        );
        assert!(rep.failures.is_empty(), "{:?}", rep.failures);
        assert_eq!(set.correlations.len(), 1);
        assert_eq!(set.correlations[0].timespan_ms, 300_000);
        assert_eq!(set.filters.len(), 1);
    }
}
