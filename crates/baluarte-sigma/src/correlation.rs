//! Correlation rules (event_count, value_count, temporal, temporal_ordered) over unbounded streams.
//!
//! The [`Engine`] stays immutable; the per-stream state lives in a [`Correlator`], fed with each event and its
//! matches in time order. State is bounded: windows older than the timespan are evicted, and the number of open
//! groups is capped (new groups beyond the cap are dropped and counted).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::engine::{Engine, Match};
use crate::event::{Event, Kind};
use crate::pattern::Cmp;
use crate::rule::{CorrelationDef, CorrelationType, LoadReport, RuleError, RuleMeta};
use crate::time::parse_timestamp_ms;

#[derive(Debug)]
pub(crate) struct CompiledCorrelation {
    pub(crate) meta: Arc<RuleMeta>,
    kind: CorrelationType,
    timespan_ms: i64,
    condition: Vec<(Cmp, f64, bool)>,
    refs: usize,
    /// Per referenced position: field ids of the group-by fields (aliases resolved).
    group_by: Vec<Vec<u32>>,
    group_names: Vec<String>,
    value_fields: Vec<u32>,
    /// Correlations that reference this one: (correlation, position).
    parents: Vec<(u32, u16)>,
    pub(crate) standalone: bool,
}

enum Target {
    Rule(u32),
    Corr(u32),
}

pub(crate) fn compile_correlations(engine: &mut Engine, defs: Vec<CorrelationDef>, report: &mut LoadReport) {
    let mut by_key: HashMap<String, Target> = HashMap::new();
    for (i, r) in engine.rules.iter().enumerate() {
        for k in [&r.def.meta.id, &r.def.meta.name].into_iter().flatten() {
            by_key.insert(k.clone(), Target::Rule(i as u32));
        }
    }
    // Correlations are numbered in load order; names resolve before compiling so chains can refer ahead.
    let ok_defs = defs;
    for (i, d) in ok_defs.iter().enumerate() {
        for k in [&d.meta.id, &d.meta.name].into_iter().flatten() {
            by_key.insert(k.clone(), Target::Corr(i as u32));
        }
    }
    engine.rule_corrs = vec![Vec::new(); engine.rules.len()];
    let mut compiled: Vec<Option<CompiledCorrelation>> = Vec::new();
    let mut links: Vec<(u32, u16, Target)> = Vec::new();
    let mut generate: Vec<bool> = Vec::new();
    for (ci, d) in ok_defs.into_iter().enumerate() {
        generate.push(d.generate);
        let mut targets = Vec::new();
        let mut missing = None;
        for r in &d.rules {
            match by_key.get(r) {
                Some(Target::Rule(x)) => targets.push(Target::Rule(*x)),
                Some(Target::Corr(x)) if *x as usize != ci => targets.push(Target::Corr(*x)),
                _ => {
                    missing = Some(r.clone());
                    break;
                }
            }
        }
        if let Some(m) = missing {
            report.correlations -= 1;
            report.failures.push(RuleError {
                file: d.meta.file.clone(),
                line: d.meta.line,
                reason: format!(
                    "correlation `{}` refers to rule `{m}`, which is not loaded",
                    d.meta.title
                ),
            });
            compiled.push(None);
            continue;
        }
        let group_by = d
            .rules
            .iter()
            .map(|r| {
                d.group_by
                    .iter()
                    .map(|g| {
                        let name = d.aliases.get(g).and_then(|per| per.get(r)).unwrap_or(g);
                        engine.fields.intern(name)
                    })
                    .collect()
            })
            .collect();
        let value_fields = d.field.iter().map(|f| engine.fields.intern(f)).collect();
        for (pos, t) in targets.into_iter().enumerate() {
            links.push((ci as u32, pos as u16, t));
        }
        compiled.push(Some(CompiledCorrelation {
            meta: d.meta.clone(),
            kind: d.kind,
            timespan_ms: d.timespan_ms,
            condition: d.condition.clone(),
            refs: d.rules.len(),
            group_by,
            group_names: d.group_by.clone(),
            value_fields,
            parents: Vec::new(),
            standalone: true,
        }));
    }
    for (ci, pos, t) in links {
        match t {
            Target::Rule(r) => {
                engine.rule_corrs[r as usize].push((ci, pos));
                if !generate[ci as usize] {
                    engine.rules[r as usize].standalone = false;
                }
            }
            Target::Corr(x) => {
                if let Some(Some(c)) = compiled.get_mut(x as usize) {
                    c.parents.push((ci, pos));
                    if !generate[ci as usize] {
                        c.standalone = false;
                    }
                }
            }
        }
    }
    for list in &mut engine.rule_corrs {
        list.sort_by_key(|x| std::cmp::Reverse(x.1));
    }
    // Keep indexes stable: failed correlations become inert placeholders.
    engine.correlations = compiled
        .into_iter()
        .map(|c| {
            c.unwrap_or(CompiledCorrelation {
                meta: Arc::new(RuleMeta::default()),
                kind: CorrelationType::EventCount,
                timespan_ms: 1,
                condition: Vec::new(),
                refs: 0,
                group_by: Vec::new(),
                group_names: Vec::new(),
                value_fields: Vec::new(),
                parents: Vec::new(),
                standalone: false,
            })
        })
        .collect();
}

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationMatch {
    /// Index of the correlation (see [`Engine::correlation`]).
    pub correlation: u32,
    /// Group-by field names and the values of the group.
    pub group: Vec<(String, String)>,
    /// The count that met the condition (events, distinct values, or rules seen).
    pub count: u64,
    /// Event time of the event that completed it, ms since the epoch.
    pub time_ms: i64,
    /// False when it only feeds another correlation.
    pub standalone: bool,
}

enum State {
    Count(VecDeque<i64>),
    Values(FxHashMap<Vec<u8>, i64>),
    Temporal(Vec<Option<i64>>),
}

struct Group {
    last: i64,
    state: State,
}

/// Limits of a [`Correlator`].
#[derive(Debug, Clone, Copy)]
pub struct CorrelatorOptions {
    /// Maximum open groups across all correlations.
    pub max_groups: usize,
    /// Maximum timestamps or values kept per group.
    pub max_entries_per_group: usize,
}

impl Default for CorrelatorOptions {
    fn default() -> Self {
        CorrelatorOptions {
            max_groups: 100_000,
            max_entries_per_group: 10_000,
        }
    }
}

/// Size of the correlation state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CorrelatorStats {
    pub groups: usize,
    pub entries: usize,
    /// Groups not opened (or entries not kept) because a cap was reached.
    pub dropped: u64,
    pub evicted: u64,
}

/// Per-stream correlation state for one [`Engine`].
pub struct Correlator<'e> {
    engine: &'e Engine,
    opts: CorrelatorOptions,
    groups: Vec<FxHashMap<Vec<u8>, Group>>,
    stats: CorrelatorStats,
    now: i64,
    last_sweep: i64,
}

impl std::fmt::Debug for Correlator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator")
            .field("stats", &self.stats)
            .field("now", &self.now)
            .finish()
    }
}

impl Engine {
    /// Number of (loaded) correlation rules.
    pub fn correlation_count(&self) -> usize {
        self.correlations.len()
    }

    /// Metadata of a correlation rule.
    pub fn correlation(&self, id: u32) -> Option<&RuleMeta> {
        self.correlations.get(id as usize).map(|c| &*c.meta)
    }

    /// Event time in ms since the epoch: Windows `SystemTime`, `@timestamp` or `timestamp`.
    pub fn event_time_ms(&self, ev: &Event) -> Option<i64> {
        self.time_fields
            .iter()
            .find_map(|f| ev.first(*f).and_then(|l| parse_timestamp_ms(ev.text_str(l))))
    }
}

impl<'e> Correlator<'e> {
    pub fn new(engine: &'e Engine) -> Self {
        Self::with_options(engine, CorrelatorOptions::default())
    }

    pub fn with_options(engine: &'e Engine, opts: CorrelatorOptions) -> Self {
        Correlator {
            engine,
            opts,
            groups: (0..engine.correlations.len()).map(|_| FxHashMap::default()).collect(),
            stats: CorrelatorStats::default(),
            now: i64::MIN,
            last_sweep: i64::MIN,
        }
    }

    pub fn stats(&self) -> CorrelatorStats {
        self.stats
    }

    /// Feeds one event and the matches the engine found for it (events in time order).
    pub fn process(&mut self, ev: &Event, matches: &[Match], out: &mut Vec<CorrelationMatch>) {
        if self.engine.correlations.is_empty() {
            return;
        }
        let t = self
            .engine
            .event_time_ms(ev)
            .unwrap_or(if self.now == i64::MIN { 0 } else { self.now });
        self.now = self.now.max(t);
        for m in matches {
            let Some(links) = self.engine.rule_corrs.get(m.rule as usize) else {
                continue;
            };
            for &(c, pos) in links {
                self.feed(c, pos, ev, t, out, 0);
            }
        }
        if self.now > self.last_sweep.saturating_add(60_000) {
            self.sweep();
            self.last_sweep = self.now;
        }
    }

    /// Drops every window that has expired at the current time.
    pub fn sweep(&mut self) {
        let now = self.now;
        for (c, groups) in self.groups.iter_mut().enumerate() {
            let span = self.engine.correlations[c].timespan_ms;
            let before = groups.len();
            groups.retain(|_, g| g.last >= now.saturating_sub(span));
            let removed = before - groups.len();
            self.stats.groups -= removed;
            self.stats.evicted += removed as u64;
        }
        self.stats.entries = self
            .groups
            .iter()
            .flat_map(|g| g.values())
            .map(|g| match &g.state {
                State::Count(d) => d.len(),
                State::Values(v) => v.len(),
                State::Temporal(v) => v.len(),
            })
            .sum();
    }

    fn feed(&mut self, c: u32, pos: u16, ev: &Event, t: i64, out: &mut Vec<CorrelationMatch>, depth: usize) {
        if depth > 8 {
            return;
        }
        let engine = self.engine;
        let corr = &engine.correlations[c as usize];
        if corr.refs == 0 {
            return;
        }
        let mut key = Vec::new();
        let mut group_vals = Vec::new();
        for f in corr
            .group_by
            .get(pos as usize)
            .map(|v| v.as_slice())
            .unwrap_or_default()
        {
            let v = ev
                .first(*f)
                .filter(|l| l.kind != Kind::Null)
                .map(|l| ev.text_str(l))
                .unwrap_or("");
            key.extend_from_slice(v.as_bytes());
            key.push(0);
            group_vals.push(v.to_string());
        }
        let span = corr.timespan_ms;
        let groups = &mut self.groups[c as usize];
        if !groups.contains_key(&key) {
            if self.stats.groups >= self.opts.max_groups {
                self.stats.dropped += 1;
                return;
            }
            let state = match corr.kind {
                CorrelationType::EventCount => State::Count(VecDeque::new()),
                CorrelationType::ValueCount => State::Values(FxHashMap::default()),
                CorrelationType::Temporal | CorrelationType::TemporalOrdered => State::Temporal(vec![None; corr.refs]),
            };
            groups.insert(key.clone(), Group { last: t, state });
            self.stats.groups += 1;
        }
        let Some(g) = groups.get_mut(&key) else { return };
        g.last = g.last.max(t);
        let cutoff = t.saturating_sub(span);
        let cond = |n: f64| -> bool { corr.condition.iter().all(|(op, v, neg)| op.apply(n, *v) != *neg) };
        let fired: Option<u64> = match &mut g.state {
            State::Count(d) => {
                while d.front().is_some_and(|x| *x < cutoff) {
                    d.pop_front();
                }
                if d.len() < self.opts.max_entries_per_group {
                    d.push_back(t);
                } else {
                    self.stats.dropped += 1;
                }
                let n = d.len() as u64;
                if cond(n as f64) {
                    d.clear();
                    Some(n)
                } else {
                    None
                }
            }
            State::Values(vals) => {
                let mut v = Vec::new();
                for f in &corr.value_fields {
                    if let Some(l) = ev.first(*f).filter(|l| l.kind != Kind::Null) {
                        v.extend_from_slice(ev.text(l));
                    }
                    v.push(0);
                }
                vals.retain(|_, ts| *ts >= cutoff);
                if vals.len() < self.opts.max_entries_per_group || vals.contains_key(&v) {
                    vals.insert(v, t);
                } else {
                    self.stats.dropped += 1;
                }
                let n = vals.len() as u64;
                if cond(n as f64) {
                    vals.clear();
                    Some(n)
                } else {
                    None
                }
            }
            State::Temporal(seen) => {
                let p = pos as usize;
                if corr.kind == CorrelationType::TemporalOrdered {
                    // seen[i] = start time of the newest chain that has reached position i.
                    if p == 0 {
                        seen[0] = Some(t);
                    } else if let Some(start) = seen[p - 1] {
                        if start >= cutoff {
                            seen[p] = Some(seen[p].map_or(start, |s| s.max(start)));
                        }
                    }
                    for s in seen.iter_mut() {
                        if s.is_some_and(|x| x < cutoff) {
                            *s = None;
                        }
                    }
                    if seen[corr.refs - 1].is_some() {
                        seen.iter_mut().for_each(|s| *s = None);
                        Some(corr.refs as u64)
                    } else {
                        None
                    }
                } else {
                    seen[p] = Some(t);
                    let n = seen.iter().filter(|s| s.is_some_and(|x| x >= cutoff)).count() as u64;
                    let ok = if corr.condition.is_empty() {
                        n as usize == corr.refs
                    } else {
                        cond(n as f64)
                    };
                    if ok {
                        seen.iter_mut().for_each(|s| *s = None);
                        Some(n)
                    } else {
                        None
                    }
                }
            }
        };
        if let Some(count) = fired {
            let group = corr.group_names.iter().cloned().zip(group_vals).collect();
            out.push(CorrelationMatch {
                correlation: c,
                group,
                count,
                time_ms: t,
                standalone: corr.standalone,
            });
            for &(pc, ppos) in &corr.parents {
                self.feed(pc, ppos, ev, t, out, depth + 1);
            }
        }
    }
}
