//! Output types: one detection per (rule, event) as a JSON line, and per-rule summaries.

use serde::Serialize;

use crate::correlation::CorrelationMatch;
use crate::engine::{Engine, Match};
use crate::rule::{LogSource, RuleMeta};

/// One detection: a rule that matched an event.
#[derive(Debug, Clone, Serialize)]
pub struct Detection<'a> {
    pub rule_id: Option<&'a str>,
    pub title: &'a str,
    pub level: Option<&'a str>,
    pub tags: &'a [String],
    pub logsource: &'a LogSource,
    /// The event exactly as read (JSON text, embedded as is).
    #[serde(serialize_with = "raw_json")]
    pub event: &'a str,
}

fn raw_json<S: serde::Serializer>(text: &&str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<&serde_json::value::RawValue>(text.trim()) {
        Ok(raw) => raw.serialize(s),
        Err(_) => s.serialize_str(text),
    }
}

impl<'a> Detection<'a> {
    /// The detection of a match; `event` is the event's JSON text.
    pub fn new(engine: &'a Engine, m: &Match, event: &'a str) -> Option<Detection<'a>> {
        let meta = engine.rule(m.rule)?;
        Some(Self::from_meta(meta, event))
    }

    pub fn from_meta(meta: &'a RuleMeta, event: &'a str) -> Detection<'a> {
        Detection {
            rule_id: meta.id.as_deref(),
            title: &meta.title,
            level: meta.level.as_deref(),
            tags: &meta.tags,
            logsource: &meta.logsource,
            event,
        }
    }

    /// One JSON line (without the newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A fired correlation, ready to serialise.
#[derive(Debug, Clone, Serialize)]
pub struct CorrelationDetection<'a> {
    pub rule_id: Option<&'a str>,
    pub title: &'a str,
    pub level: Option<&'a str>,
    pub tags: &'a [String],
    pub correlation: &'a CorrelationMatch,
}

impl<'a> CorrelationDetection<'a> {
    pub fn new(engine: &'a Engine, m: &'a CorrelationMatch) -> Option<CorrelationDetection<'a>> {
        let meta = engine.correlation(m.correlation)?;
        Some(CorrelationDetection {
            rule_id: meta.id.as_deref(),
            title: &meta.title,
            level: meta.level.as_deref(),
            tags: &meta.tags,
            correlation: m,
        })
    }
}

/// Match counts per rule.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    counts: Vec<u64>,
    corr_counts: Vec<u64>,
    pub events: u64,
}

/// One row of the summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleSummary {
    pub rule_id: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub correlation: bool,
    pub matches: u64,
}

impl Summary {
    pub fn new(engine: &Engine) -> Self {
        Summary {
            counts: vec![0; engine.rule_count()],
            corr_counts: vec![0; engine.correlation_count()],
            events: 0,
        }
    }

    pub fn add(&mut self, m: &Match) {
        if let Some(c) = self.counts.get_mut(m.rule as usize) {
            *c += 1;
        }
    }

    pub fn add_correlation(&mut self, m: &CorrelationMatch) {
        if let Some(c) = self.corr_counts.get_mut(m.correlation as usize) {
            *c += 1;
        }
    }

    /// Merges another summary (e.g. from another thread).
    pub fn merge(&mut self, other: &Summary) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        for (a, b) in self.corr_counts.iter_mut().zip(&other.corr_counts) {
            *a += b;
        }
        self.events += other.events;
    }

    pub fn count(&self, rule: u32) -> u64 {
        self.counts.get(rule as usize).copied().unwrap_or(0)
    }

    /// Rules and correlations with at least one match, most matches first.
    pub fn rows(&self, engine: &Engine) -> Vec<RuleSummary> {
        let row = |meta: &RuleMeta, n: u64, correlation: bool| RuleSummary {
            rule_id: meta.id.clone(),
            title: meta.title.clone(),
            level: meta.level.clone(),
            correlation,
            matches: n,
        };
        let mut rows: Vec<RuleSummary> = Vec::new();
        for (i, &n) in self.counts.iter().enumerate() {
            if n > 0 {
                if let Some(meta) = engine.rule(i as u32) {
                    rows.push(row(meta, n, false));
                }
            }
        }
        for (i, &n) in self.corr_counts.iter().enumerate() {
            if n > 0 {
                if let Some(meta) = engine.correlation(i as u32) {
                    rows.push(row(meta, n, true));
                }
            }
        }
        rows.sort_by(|a, b| b.matches.cmp(&a.matches).then_with(|| a.title.cmp(&b.title)));
        rows
    }
}
