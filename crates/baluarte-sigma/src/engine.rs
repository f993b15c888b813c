//! The compiled engine: logsource routing, the cross-rule literal prefilter, and rule evaluation.
//!
//! For each event: (1) routing picks the rules whose logsource the event belongs to (hash lookups on the
//! routing fields: `Channel`/`EventID`, or explicit `product`/`category`/`service`); (2) the literal prefilter
//! scans the lower-cased values of the fields the routed rules test, each with its field's Aho-Corasick
//! automaton (and every value with the keyword automaton when a routed rule has keywords), and sets one bit per
//! satisfied clause of each rule: a rule has up to four clauses, conditions its condition implies ("`\cmd.exe`
//! or `\powershell.exe` in `Image`" and "`-enc` in `CommandLine`"); (3) only routed rules whose clauses all
//! hold (or that have none) are evaluated. `Engine::evaluate_exhaustive` skips step 2, and the tests hold
//! both to the same results.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rustc_hash::FxHashMap;

use crate::correlation::{compile_correlations, CompiledCorrelation};
use crate::event::{Event, EventBuffers, EventError, FieldTable, Kind, Leaf};
use crate::mapping::Mappings;
use crate::pattern::{lower, time_part, Matcher};
use crate::rule::{
    CompiledDetection, Expr, Item, LoadOptions, LoadReport, RuleDef, RuleError, RuleMeta, RuleSet, Test,
};

/// Index of a detection rule in an [`Engine`].
pub type RuleId = u32;

/// A rule that matched an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub rule: RuleId,
    /// False for rules referenced by a correlation without `generate: true`: they feed the correlation
    /// but are not reported on their own.
    pub standalone: bool,
}

#[derive(Debug)]
pub(crate) struct Variant {
    pub(crate) ids: Vec<u32>,
    filters: Vec<(Arc<CompiledDetection>, Vec<u32>)>,
}

#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) def: RuleDef,
    pub(crate) variants: Vec<Variant>,
    has_clause: bool,
    /// Its necessary literals may occur in any value (keywords), not only in fields rules name.
    needs_all: bool,
    /// Rule-local indexes of the fields its value tests read: where its literals can occur.
    literal_fields: Vec<usize>,
    pub(crate) standalone: bool,
}

#[derive(Debug, Clone)]
struct Route {
    rule: u32,
    variant: u16,
    /// Presence-only conditions.
    present: Vec<u32>,
}

/// The routes of one routing key, indexed for the two evaluation paths: rules without a necessary literal
/// (always evaluated) and the others (looked up when the prefilter marks them).
#[derive(Debug, Default)]
struct RouteSet {
    /// Sorted by rule.
    routes: Vec<Route>,
    bits: Vec<u64>,
    no_clause: Vec<u32>,
    has_clause: bool,
    needs_all: bool,
    /// Bit set of the fields whose values the literal prefilter scans for these routes.
    scan_fields: Vec<u64>,
}

impl RouteSet {
    fn finish(&mut self, rules: &[CompiledRule], n_fields: usize) {
        self.routes.sort_by_key(|r| (r.rule, r.variant));
        self.bits = vec![0; rules.len().div_ceil(64)];
        self.scan_fields = vec![0; n_fields.div_ceil(64)];
        self.no_clause.clear();
        for (i, r) in self.routes.iter().enumerate() {
            let rule = &rules[r.rule as usize];
            self.bits[r.rule as usize / 64] |= 1 << (r.rule % 64);
            if rule.has_clause {
                self.has_clause = true;
                self.needs_all |= rule.needs_all;
                let ids = &rule.variants[r.variant as usize].ids;
                for &local in &rule.literal_fields {
                    let f = ids[local] as usize;
                    self.scan_fields[f / 64] |= 1 << (f % 64);
                }
            } else {
                self.no_clause.push(i as u32);
            }
        }
    }

    fn contains(&self, rule: u32) -> bool {
        self.bits
            .get(rule as usize / 64)
            .is_some_and(|w| w & (1 << (rule % 64)) != 0)
    }
}

#[derive(Debug)]
struct Sig {
    fields: Vec<u32>,
    table: FxHashMap<Vec<u8>, RouteSet>,
}

#[derive(Debug, Default)]
struct Router {
    sigs: Vec<Sig>,
    always: RouteSet,
}

/// One automaton of the prefilter; its pattern ids start at `base` in [`Prefilter::pat_rules`].
#[derive(Debug)]
struct Scanner {
    ac: AhoCorasick,
    base: usize,
}

/// The cross-rule literal prefilter. A literal of a field test is looked for only in that field's values (one
/// automaton per field), and only when a routed rule tests the field; keyword literals (unfielded selections)
/// in every value, and only when a routed rule has them.
#[derive(Debug)]
struct Prefilter {
    /// Per field id: its automaton, if rules look for literals in it.
    fields: Vec<Option<Scanner>>,
    keywords: Option<Scanner>,
    /// Per pattern: the rules whose clauses it satisfies, with those clauses' bits.
    pat_rules: Vec<Vec<(u32, u8)>>,
    /// Per rule: the bits of all its clauses (a rule is a candidate once all are set).
    full_masks: Vec<u8>,
}

impl Prefilter {
    /// Sets the clause bits of the literals found in `hay`; a rule whose bits are now all set becomes a candidate.
    fn mark(&self, scanner: &Scanner, hay: &[u8], sc: &mut Scratch, epoch: u32) {
        for m in scanner.ac.find_overlapping_iter(hay) {
            let p = scanner.base + m.pattern().as_usize();
            if sc.pat_seen[p] == epoch {
                continue;
            }
            sc.pat_seen[p] = epoch;
            for &(r, bits) in &self.pat_rules[p] {
                let ri = r as usize;
                let old = if sc.rule_hit[ri] == epoch {
                    sc.rule_mask[ri]
                } else {
                    sc.rule_hit[ri] = epoch;
                    0
                };
                let new = old | bits;
                sc.rule_mask[ri] = new;
                if new != old && new == self.full_masks[ri] {
                    sc.cands.push(r);
                }
            }
        }
    }

    fn memory_usage(&self) -> usize {
        self.fields
            .iter()
            .chain([&self.keywords])
            .flatten()
            .map(|s| s.ac.memory_usage())
            .sum()
    }
}

/// The literals of one automaton, deduplicated, each with the rules (and clause bits) it satisfies.
#[derive(Default)]
struct LiteralSet {
    ids: FxHashMap<Vec<u8>, u32>,
    patterns: Vec<Vec<u8>>,
    rules: Vec<Vec<(u32, u8)>>,
}

impl LiteralSet {
    fn add(&mut self, text: &[u8], rule: u32, bit: u8) {
        let id = match self.ids.get(text) {
            Some(&id) => id,
            None => {
                self.patterns.push(text.to_vec());
                self.rules.push(Vec::new());
                let id = (self.patterns.len() - 1) as u32;
                self.ids.insert(text.to_vec(), id);
                id
            }
        };
        let list = &mut self.rules[id as usize];
        match list.last_mut() {
            Some((r, mask)) if *r == rule => *mask |= 1 << bit,
            _ => list.push((rule, 1 << bit)),
        }
    }

    /// Its automaton. Keyword literals are few and scanned over every byte of an event: a DFA (a few MB) is
    /// then twice as fast as an NFA. Field automata hold most of the ~20k literals, where a DFA would take
    /// hundreds of MB for a few percent.
    fn automaton(&self, dfa: bool) -> Result<AhoCorasick, String> {
        let kind = if dfa {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(&self.patterns)
            .map_err(|e| e.to_string())
    }
}

/// Keyword literals up to which their automaton is a DFA (SigmaHQ has 570: 4 MB). A DFA's size grows with its
/// literals; past this, a rule set of mostly keywords gets an NFA rather than hundreds of MB.
const KEYWORD_DFA_MAX_LITERALS: usize = 4096;

/// Below this many literals, building the automata takes less than starting threads would save.
const PARALLEL_BUILD_LITERALS: usize = 4096;

/// Builds the automata of many literal sets (each with whether it is a DFA) on all cores: they are independent;
/// the largest go first, each to the least loaded thread. Returns them in the order of `jobs`.
fn build_automata(jobs: &[(&LiteralSet, bool)]) -> Vec<Result<AhoCorasick, String>> {
    let total: usize = jobs.iter().map(|(s, _)| s.patterns.len()).sum();
    if total < PARALLEL_BUILD_LITERALS {
        return jobs.iter().map(|(s, dfa)| s.automaton(*dfa)).collect();
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].0.patterns.len()));
    let mut shares: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); threads];
    for i in order {
        if let Some(share) = shares.iter_mut().min_by_key(|(load, _)| *load) {
            share.0 += jobs[i].0.patterns.len().max(1);
            share.1.push(i);
        }
    }
    let built: Vec<Vec<(usize, Result<AhoCorasick, String>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = shares
            .iter()
            .map(|(_, items)| s.spawn(move || items.iter().map(|&i| (i, jobs[i].0.automaton(jobs[i].1))).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Vec::new()))
            .collect()
    });
    let mut out: Vec<Option<Result<AhoCorasick, String>>> = (0..jobs.len()).map(|_| None).collect();
    for (i, ac) in built.into_iter().flatten() {
        out[i] = Some(ac);
    }
    out.into_iter()
        .map(|ac| ac.unwrap_or_else(|| Err("automaton build thread failed".into())))
        .collect()
}

/// Gathers each rule's clauses into the automata.
fn build_prefilter(rules: &mut [CompiledRule]) -> Result<Option<Prefilter>, String> {
    let mut per_field: Vec<LiteralSet> = Vec::new();
    let mut keywords = LiteralSet::default();
    let mut full_masks = vec![0u8; rules.len()];
    for (ri, r) in rules.iter_mut().enumerate() {
        let det = &r.def.detection;
        let cnf = expr_cnf(&det.condition, det);
        if cnf.is_empty() {
            continue;
        }
        r.has_clause = true;
        full_masks[ri] = u8::MAX >> (8 - cnf.len());
        for (bit, clause) in cnf.into_iter().enumerate() {
            for lit in clause {
                let Some(local) = lit.field else {
                    r.needs_all = true;
                    keywords.add(&lit.text, ri as u32, bit as u8);
                    continue;
                };
                if !r.literal_fields.contains(&local) {
                    r.literal_fields.push(local);
                }
                for v in &r.variants {
                    let f = v.ids[local];
                    if per_field.len() <= f as usize {
                        per_field.resize_with(f as usize + 1, LiteralSet::default);
                    }
                    per_field[f as usize].add(&lit.text, ri as u32, bit as u8);
                }
            }
        }
    }
    // Field sets in field order, then the keyword set; the empty ones get no automaton.
    let mut sets: Vec<LiteralSet> = per_field;
    sets.push(keywords);
    let non_empty: Vec<usize> = (0..sets.len()).filter(|&i| !sets[i].patterns.is_empty()).collect();
    if non_empty.is_empty() {
        return Ok(None);
    }
    let keyword_index = sets.len() - 1;
    let jobs: Vec<(&LiteralSet, bool)> = non_empty
        .iter()
        .map(|&i| {
            (
                &sets[i],
                i == keyword_index && sets[i].patterns.len() <= KEYWORD_DFA_MAX_LITERALS,
            )
        })
        .collect();
    let mut automata = build_automata(&jobs).into_iter();
    let mut scanners: Vec<Option<Scanner>> = Vec::with_capacity(sets.len());
    let mut pat_rules = Vec::new();
    for set in sets {
        if set.patterns.is_empty() {
            scanners.push(None);
            continue;
        }
        let ac = automata.next().ok_or("automaton missing")??;
        scanners.push(Some(Scanner {
            ac,
            base: pat_rules.len(),
        }));
        pat_rules.extend(set.rules);
    }
    let keywords = scanners.pop().flatten();
    Ok(Some(Prefilter {
        fields: scanners,
        keywords,
        pat_rules,
        full_masks,
    }))
}

/// Sizes of an engine's compiled structures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EngineStats {
    pub rules: usize,
    pub correlations: usize,
    pub fields: usize,
    /// Distinct literals in the prefilter automaton.
    pub literals: usize,
    /// Rules evaluated on every routed event (no necessary literal found).
    pub rules_without_literal: usize,
    pub route_keys: usize,
    pub prefilter_bytes: usize,
}

/// Builds an [`Engine`] from rule files, placeholder values and logsource mappings.
#[derive(Debug)]
pub struct EngineBuilder {
    set: RuleSet,
    report: LoadReport,
    opts: LoadOptions,
    mappings: Mappings,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineBuilder {
    /// A builder with the shipped mappings and no placeholders.
    pub fn new() -> Self {
        EngineBuilder {
            set: RuleSet::default(),
            report: LoadReport::default(),
            opts: LoadOptions::default(),
            mappings: Mappings::builtin(),
        }
    }

    /// Values of `%placeholders%` for the `expand` modifier. Set before adding rules.
    pub fn placeholders(mut self, table: HashMap<String, Vec<String>>) -> Self {
        self.opts.placeholders = table;
        self
    }

    /// Replaces the logsource mappings (use `Mappings::builtin()` + `extend` to add to them).
    pub fn mappings(mut self, m: Mappings) -> Self {
        self.mappings = m;
        self
    }

    /// Adds the documents of one YAML text.
    pub fn add_yaml(&mut self, file: &str, text: &str) {
        self.set.add_yaml(file, text, &self.opts, &mut self.report);
    }

    /// Adds a rule file or every `.yml` file under a directory.
    pub fn add_path(&mut self, path: &std::path::Path) {
        let (set, rep) = RuleSet::load_dir(path, &self.opts);
        self.set.rules.extend(set.rules);
        self.set.filters.extend(set.filters);
        self.set.correlations.extend(set.correlations);
        self.report.merge(rep);
    }

    /// Compiles everything added so far.
    pub fn build(self) -> (Engine, LoadReport) {
        Engine::compile(self.set, self.report, &self.mappings)
    }
}

/// The compiled rule set. `Send + Sync`: evaluate from many threads at once.
#[derive(Debug)]
pub struct Engine {
    pub(crate) fields: FieldTable,
    pub(crate) rules: Vec<CompiledRule>,
    router: Router,
    prefilter: Option<Prefilter>,
    pub(crate) correlations: Vec<CompiledCorrelation>,
    /// Per rule: (correlation, position in its `rules`).
    pub(crate) rule_corrs: Vec<Vec<(u32, u16)>>,
    pub(crate) time_fields: Vec<u32>,
    n_patterns: usize,
}

/// What the prefilter did on this thread's events: the figures behind BENCHMARKS.md's per-event table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PrefilterCounters {
    /// Events evaluated with the prefilter.
    pub events: u64,
    /// Bytes the automata scanned.
    pub bytes_scanned: u64,
    /// Rules whose clauses all held (candidates), before routing is checked.
    pub rules_marked: u64,
    /// Rules evaluated, with or without literals.
    pub rules_evaluated: u64,
}

#[derive(Default)]
struct Scratch {
    counters: PrefilterCounters,
    epoch: u32,
    rule_hit: Vec<u32>,
    rule_done: Vec<u32>,
    /// Clauses of each rule satisfied so far in this event (valid where `rule_hit` is this epoch).
    rule_mask: Vec<u8>,
    pat_seen: Vec<u32>,
    cands: Vec<u32>,
    scan_fields: Vec<u64>,
    key: Vec<u8>,
    bufs: EventBuffers,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A lower-cased literal of a clause, with the rule-local field whose value contains it (none for a keyword,
/// which may occur in any value).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lit {
    text: Vec<u8>,
    field: Option<usize>,
}

/// A necessary condition of a rule: at least one of these literals occurs in the event.
type Clause = Vec<Lit>;

/// Literals one of which occurs in every value a matcher matches.
type Alternatives = Vec<Vec<u8>>;

const MIN_LITERAL: usize = 2;

/// Necessary conditions of a rule: every clause holds in an event the rule matches. Empty: none known.
type Cnf = Vec<Clause>;

/// Clauses kept per rule (one bit each in the per-event mask); the most selective are kept. Measured on the
/// SigmaHQ rules: a second and third clause cut the rules evaluated per event by more than half; more clauses,
/// or clauses of shorter literals, cost more automaton matches than they save (BENCHMARKS.md).
const MAX_CLAUSES: usize = 4;
/// Shortest literal of a clause kept beside the best one: 2- and 3-byte literals occur in most events.
const MIN_EXTRA_LITERAL: usize = 4;

/// How selective a clause looks: longer shortest literal first, then fewer alternatives.
fn clause_score(c: &Clause) -> (usize, usize) {
    literals_score(c.iter().map(|l| l.text.len()), c.len())
}

fn literals_score(lengths: impl Iterator<Item = usize>, count: usize) -> (usize, usize) {
    (lengths.map(|l| l.min(12)).min().unwrap_or(0), usize::MAX - count)
}

fn best_clause(cnf: &Cnf) -> Option<&Clause> {
    cnf.iter().max_by_key(|c| clause_score(c))
}

/// AND: every part's clauses hold; the most selective are kept.
fn all_of(parts: impl Iterator<Item = Cnf>) -> Cnf {
    let mut out: Cnf = Vec::new();
    for c in parts.flatten() {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(clause_score(c)));
    let mut first = true;
    out.retain(|c| std::mem::take(&mut first) || clause_score(c).0 >= MIN_EXTRA_LITERAL);
    out.truncate(MAX_CLAUSES);
    out
}

/// OR: one clause that holds whenever any part holds (the union of each part's best clause); a lone part
/// keeps all its clauses. A part without clauses leaves the OR without any.
fn any_of(parts: impl Iterator<Item = Cnf>) -> Cnf {
    let parts: Vec<Cnf> = parts.collect();
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let mut union: Clause = Vec::new();
    for p in &parts {
        let Some(best) = best_clause(p) else {
            return Vec::new();
        };
        for l in best {
            if !union.contains(l) {
                union.push(l.clone());
            }
        }
    }
    if union.is_empty() {
        Vec::new()
    } else {
        vec![union]
    }
}

fn matcher_literals(m: &Matcher) -> Option<Alternatives> {
    let lit = match m {
        Matcher::Str { pat, cased } => {
            let l = pat.required_literal()?;
            if *cased {
                lower(&l)
            } else {
                l
            }
        }
        Matcher::Regex(re) => return regex_clause(re.as_str()),
        _ => return None,
    };
    if lit.len() < MIN_LITERAL {
        None
    } else {
        Some(vec![lit])
    }
}

fn item_cnf(item: &Item) -> Cnf {
    let field = item.field;
    let clause = |lits: Alternatives| -> Clause { lits.into_iter().map(|text| Lit { text, field }).collect() };
    match &item.test {
        Test::Values { neq: true, .. } => Vec::new(),
        // Every matcher must match some value: each gives its own clause.
        Test::Values {
            matchers, all: true, ..
        } => all_of(
            matchers
                .iter()
                .map(|m| matcher_literals(m).map(clause).into_iter().collect()),
        ),
        Test::Values { matchers, .. } => {
            let mut union: Alternatives = Vec::new();
            for m in matchers {
                let Some(lits) = matcher_literals(m) else {
                    return Vec::new();
                };
                union.extend(lits);
            }
            vec![clause(union)]
        }
        _ => Vec::new(),
    }
}

fn expr_cnf(e: &Expr, det: &CompiledDetection) -> Cnf {
    match e {
        Expr::Sel(i) => match det.selections.get(*i) {
            Some(sel) => any_of(sel.alts.iter().map(|alt| all_of(alt.iter().map(item_cnf)))),
            None => Vec::new(),
        },
        Expr::And(items) => all_of(items.iter().map(|i| expr_cnf(i, det))),
        Expr::Or(items) => any_of(items.iter().map(|i| expr_cnf(i, det))),
        Expr::Not(_) | Expr::Const(_) => Vec::new(),
    }
}

/// A literal every match of a regular expression contains (lower-cased), when one can be found.
fn regex_clause(src: &str) -> Option<Alternatives> {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn single_char(c: &Class) -> Option<Vec<u8>> {
        let mut chars: Vec<String> = Vec::new();
        match c {
            Class::Unicode(u) => {
                for r in u.iter() {
                    let (a, b) = (r.start() as u32, r.end() as u32);
                    if b - a > 4 {
                        return None;
                    }
                    for cp in a..=b {
                        chars.push(char::from_u32(cp)?.to_lowercase().collect());
                    }
                }
            }
            Class::Bytes(bc) => {
                for r in bc.iter() {
                    for b in r.start()..=r.end() {
                        chars.push((b.to_ascii_lowercase() as char).to_string());
                    }
                }
            }
        }
        let first = chars.first()?.clone();
        if chars.iter().all(|c| *c == first) {
            Some(first.into_bytes())
        } else {
            None
        }
    }
    fn lit_of(h: &Hir) -> Option<Vec<u8>> {
        match h.kind() {
            HirKind::Literal(l) => Some(lower(&l.0)),
            HirKind::Class(c) => single_char(c),
            _ => None,
        }
    }
    fn req(h: &Hir) -> Option<Alternatives> {
        match h.kind() {
            HirKind::Literal(_) | HirKind::Class(_) => lit_of(h).map(|l| vec![l]),
            HirKind::Capture(c) => req(&c.sub),
            HirKind::Repetition(r) if r.min >= 1 => req(&r.sub),
            HirKind::Concat(items) => {
                let mut best: Option<Alternatives> = None;
                let mut run: Vec<u8> = Vec::new();
                for it in items {
                    if let Some(l) = lit_of(it) {
                        run.extend(l);
                        continue;
                    }
                    if !run.is_empty() {
                        best = better(best, Some(vec![std::mem::take(&mut run)]));
                    }
                    best = better(best, req(it));
                }
                if !run.is_empty() {
                    best = better(best, Some(vec![run]));
                }
                best
            }
            HirKind::Alternation(items) => union(items.iter().map(req)),
            _ => None,
        }
    }
    fn better(a: Option<Alternatives>, b: Option<Alternatives>) -> Option<Alternatives> {
        let score = |c: &Alternatives| literals_score(c.iter().map(Vec::len), c.len());
        match (a, b) {
            (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
            (a, None) => a,
            (None, b) => b,
        }
    }
    fn union(parts: impl Iterator<Item = Option<Alternatives>>) -> Option<Alternatives> {
        let mut out: Alternatives = Vec::new();
        for p in parts {
            out.extend(p?);
        }
        (!out.is_empty()).then_some(out)
    }
    let hir = regex_syntax::ParserBuilder::new().build().parse(src).ok()?;
    let c = req(&hir)?;
    if c.iter().any(|l| l.len() < MIN_LITERAL) {
        None
    } else {
        Some(c)
    }
}

fn rule_key(meta: &RuleMeta) -> Vec<String> {
    let mut k = Vec::new();
    if let Some(id) = &meta.id {
        k.push(id.clone());
    }
    if let Some(n) = &meta.name {
        k.push(n.clone());
    }
    k
}

impl Engine {
    /// Loads every rule under `path` with the shipped mappings.
    pub fn from_path(path: &std::path::Path) -> (Engine, LoadReport) {
        let mut b = EngineBuilder::new();
        b.add_path(path);
        b.build()
    }

    fn compile(set: RuleSet, mut report: LoadReport, mappings: &Mappings) -> (Engine, LoadReport) {
        let mut fields = FieldTable::default();
        let time_fields = ["TimeCreated_SystemTime", "@timestamp", "timestamp", "UtcTime"]
            .iter()
            .map(|f| fields.intern(f))
            .collect();
        let (p, c, s) = (
            fields.intern("product"),
            fields.intern("category"),
            fields.intern("service"),
        );

        // Filters by the rule id or name they apply to.
        let mut filters_for: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in set.filters.iter().enumerate() {
            for r in &f.rules {
                filters_for.entry(r.clone()).or_default().push(i);
            }
        }
        let mut used_filter_refs: std::collections::HashSet<String> = std::collections::HashSet::new();

        let mut rules = Vec::with_capacity(set.rules.len());
        let mut alternatives: Vec<(u32, u16, Vec<crate::mapping::Condition>)> = Vec::new();
        for (ri, def) in set.rules.into_iter().enumerate() {
            let ri = ri as u32;
            let ls = &def.meta.logsource;
            let my_filters: Vec<usize> = rule_key(&def.meta)
                .iter()
                .flat_map(|k| {
                    if filters_for.contains_key(k) {
                        used_filter_refs.insert(k.clone());
                    }
                    filters_for.get(k).cloned().unwrap_or_default()
                })
                .collect();
            let mut variants: Vec<(HashMap<String, String>, Variant)> = Vec::new();
            let mut variant_for = |map: &HashMap<String, String>, fields: &mut FieldTable| -> u16 {
                if let Some(i) = variants.iter().position(|(m, _)| m == map) {
                    return i as u16;
                }
                let bind = |names: &[String], fields: &mut FieldTable| -> Vec<u32> {
                    names
                        .iter()
                        .map(|n| fields.intern(map.get(n).map_or(n.as_str(), |s| s.as_str())))
                        .collect()
                };
                let ids = bind(&def.detection.fields, fields);
                let filters = my_filters
                    .iter()
                    .map(|&fi| {
                        let d = set.filters[fi].detection.clone();
                        let ids = bind(&d.fields, fields);
                        (d, ids)
                    })
                    .collect();
                variants.push((map.clone(), Variant { ids, filters }));
                (variants.len() - 1) as u16
            };
            let identity = HashMap::new();
            if let Some(m) = mappings.lookup(ls) {
                for src in &m.sources {
                    let v = variant_for(&src.fields, &mut fields);
                    alternatives.push((ri, v, src.conditions.clone()));
                }
            }
            // Explicit logsource fields on the event.
            let mut explicit = Vec::new();
            for (field, val) in [
                ("product", &ls.product),
                ("category", &ls.category),
                ("service", &ls.service),
            ] {
                if let Some(v) = val {
                    explicit.push(crate::mapping::Condition {
                        field: field.into(),
                        values: Some(vec![v.clone()]),
                    });
                }
            }
            let v = variant_for(&identity, &mut fields);
            alternatives.push((ri, v, explicit));
            rules.push(CompiledRule {
                has_clause: false,
                needs_all: false,
                literal_fields: Vec::new(),
                standalone: true,
                variants: variants.into_iter().map(|(_, v)| v).collect(),
                def,
            });
        }
        let _ = (p, c, s);
        for f in &set.filters {
            for r in &f.rules {
                if !used_filter_refs.contains(r) {
                    report.warnings.push(RuleError {
                        file: f.meta.file.clone(),
                        line: f.meta.line,
                        reason: format!("filter `{}` names rule `{r}`, which is not loaded", f.meta.title),
                    });
                }
            }
        }

        // Routing tables.
        let mut router = Router::default();
        for (rule, variant, conds) in alternatives {
            let mut eq: Vec<(u32, Vec<String>)> = Vec::new();
            let mut present = Vec::new();
            for c in conds {
                let id = fields.intern(&c.field);
                match c.values {
                    Some(v) => eq.push((id, v)),
                    None => present.push(id),
                }
            }
            if eq.is_empty() {
                router.always.routes.push(Route { rule, variant, present });
                continue;
            }
            eq.sort_by_key(|(f, _)| *f);
            let sig_fields: Vec<u32> = eq.iter().map(|(f, _)| *f).collect();
            let si = match router.sigs.iter().position(|s| s.fields == sig_fields) {
                Some(i) => i,
                None => {
                    router.sigs.push(Sig {
                        fields: sig_fields,
                        table: FxHashMap::default(),
                    });
                    router.sigs.len() - 1
                }
            };
            let mut keys: Vec<Vec<u8>> = vec![Vec::new()];
            for (_, vals) in &eq {
                let mut next = Vec::new();
                for k in &keys {
                    for v in vals {
                        let mut k2 = k.clone();
                        k2.extend(lower(v.as_bytes()));
                        k2.push(0);
                        next.push(k2);
                    }
                }
                keys = next;
            }
            for k in keys {
                let set = router.sigs[si].table.entry(k).or_default();
                if !set.routes.iter().any(|r| r.rule == rule && r.variant == variant) {
                    set.routes.push(Route {
                        rule,
                        variant,
                        present: present.clone(),
                    });
                }
            }
        }

        let prefilter = match build_prefilter(&mut rules) {
            Ok(p) => p,
            Err(e) => {
                report.warnings.push(RuleError {
                    file: String::new(),
                    line: 0,
                    reason: format!("literal prefilter disabled: {e}"),
                });
                for r in &mut rules {
                    r.has_clause = false;
                    r.needs_all = false;
                }
                None
            }
        };
        for sig in &mut router.sigs {
            for set in sig.table.values_mut() {
                set.finish(&rules, fields.len());
            }
        }
        router.always.finish(&rules, fields.len());
        let n_patterns = prefilter.as_ref().map_or(0, |p| p.pat_rules.len());

        let mut engine = Engine {
            fields,
            rules,
            router,
            prefilter,
            correlations: Vec::new(),
            rule_corrs: Vec::new(),
            time_fields,
            n_patterns: 0,
        };
        compile_correlations(&mut engine, set.correlations, &mut report);
        engine.n_patterns = n_patterns;
        (engine, report)
    }

    /// Sizes of the compiled structures.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            rules: self.rules.len(),
            correlations: self.correlations.len(),
            fields: self.fields.len(),
            literals: self.n_patterns,
            rules_without_literal: self.rules.iter().filter(|r| !r.has_clause).count(),
            route_keys: self.router.sigs.iter().map(|s| s.table.len()).sum(),
            prefilter_bytes: self.prefilter.as_ref().map_or(0, Prefilter::memory_usage),
        }
    }

    /// Number of detection rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Metadata of a detection rule.
    pub fn rule(&self, id: RuleId) -> Option<&RuleMeta> {
        self.rules.get(id as usize).map(|r| &*r.def.meta)
    }

    /// The interned field names (for parsing events with [`Event::parse`]).
    pub fn fields(&self) -> &FieldTable {
        &self.fields
    }

    /// Parses an event for this engine.
    pub fn parse_event<'a>(&self, json: &'a str) -> Result<Event<'a>, EventError> {
        Event::parse(json, &self.fields)
    }

    /// Parses and evaluates one JSON event, appending matches to `out`.
    pub fn evaluate_json(&self, json: &str, out: &mut Vec<Match>) -> Result<(), EventError> {
        SCRATCH.with(|cell| {
            let mut sc = cell.borrow_mut();
            let sc = &mut *sc;
            let mut bufs = std::mem::take(&mut sc.bufs);
            let ev = Event::parse_with(json, &self.fields, &mut bufs);
            let r = match ev {
                Ok(ev) => {
                    self.evaluate_in(&ev, out, sc, true);
                    ev.into_buffers(&mut bufs);
                    Ok(())
                }
                Err(e) => Err(e),
            };
            sc.bufs = bufs;
            r
        })
    }

    /// Evaluates an event parsed by [`Engine::parse_event`], appending matches to `out`.
    pub fn evaluate(&self, ev: &Event, out: &mut Vec<Match>) {
        SCRATCH.with(|cell| {
            let mut sc = cell.borrow_mut();
            self.evaluate_in(ev, out, &mut sc, true);
        })
    }

    /// The prefilter's counters of the calling thread since the last call (for every engine used on it), reset.
    pub fn take_thread_counters() -> PrefilterCounters {
        SCRATCH.with(|cell| std::mem::take(&mut cell.borrow_mut().counters))
    }

    /// Evaluates every rule routed to the event, without the literal prefilter: the reference that
    /// [`Engine::evaluate`] must agree with (for tests and diagnostics; much slower).
    pub fn evaluate_exhaustive(&self, ev: &Event, out: &mut Vec<Match>) {
        SCRATCH.with(|cell| {
            let mut sc = cell.borrow_mut();
            self.evaluate_in(ev, out, &mut sc, false);
        })
    }

    fn evaluate_in(&self, ev: &Event, out: &mut Vec<Match>, sc: &mut Scratch, prefilter: bool) {
        let n = self.rules.len();
        if sc.rule_hit.len() < n {
            sc.rule_hit.resize(n, 0);
            sc.rule_done.resize(n, 0);
            sc.rule_mask.resize(n, 0);
        }
        if let Some(pf) = &self.prefilter {
            if sc.pat_seen.len() < pf.pat_rules.len() {
                sc.pat_seen.resize(pf.pat_rules.len(), 0);
            }
        }
        sc.epoch = sc.epoch.wrapping_add(1);
        if sc.epoch == 0 {
            sc.rule_hit.iter_mut().for_each(|x| *x = 0);
            sc.rule_done.iter_mut().for_each(|x| *x = 0);
            sc.pat_seen.iter_mut().for_each(|x| *x = 0);
            sc.epoch = 1;
        }
        let epoch = sc.epoch;

        // 1. Routing: the route sets of the event's routing keys.
        let mut sets: Vec<&RouteSet> = Vec::new();
        for sig in &self.router.sigs {
            sc.key.clear();
            let mut complete = true;
            for f in &sig.fields {
                match ev.first(*f) {
                    Some(l) => {
                        sc.key.extend_from_slice(ev.lower(l));
                        sc.key.push(0);
                    }
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete {
                if let Some(set) = sig.table.get(&sc.key[..]) {
                    sets.push(set);
                }
            }
        }
        if !self.router.always.routes.is_empty() {
            sets.push(&self.router.always);
        }
        if sets.is_empty() {
            return;
        }

        if !prefilter {
            for set in &sets {
                for route in &set.routes {
                    self.try_route(route, ev, out, sc, epoch);
                }
            }
            return;
        }

        sc.counters.events += 1;
        // 2. Rules without a necessary literal.
        for set in &sets {
            for &i in &set.no_clause {
                self.try_route(&set.routes[i as usize], ev, out, sc, epoch);
            }
        }

        // 3. The literal prefilter marks candidate rules; those that are routed are evaluated.
        let Some(pf) = &self.prefilter else { return };
        if !sets.iter().any(|s| s.has_clause) {
            return;
        }
        sc.cands.clear();
        self.scan_routed_fields(pf, &sets, ev, sc, epoch);
        if let Some(scanner) = pf.keywords.as_ref().filter(|_| sets.iter().any(|s| s.needs_all)) {
            sc.counters.bytes_scanned += ev.haystack.len() as u64;
            pf.mark(scanner, &ev.haystack, sc, epoch);
        }
        sc.counters.rules_marked += sc.cands.len() as u64;
        for ci in 0..sc.cands.len() {
            let r = sc.cands[ci];
            for set in &sets {
                if !set.contains(r) {
                    continue;
                }
                let start = set.routes.partition_point(|x| x.rule < r);
                for route in set.routes[start..].iter().take_while(|x| x.rule == r) {
                    self.try_route(route, ev, out, sc, epoch);
                }
            }
        }
    }

    /// Scans the values of the fields the routed rules test, each with its field's automaton.
    fn scan_routed_fields(&self, pf: &Prefilter, sets: &[&RouteSet], ev: &Event, sc: &mut Scratch, epoch: u32) {
        let mut fields = std::mem::take(&mut sc.scan_fields);
        fields.clear();
        fields.resize(self.fields.len().div_ceil(64), 0);
        for set in sets.iter().filter(|s| s.has_clause) {
            for (w, b) in fields.iter_mut().zip(&set.scan_fields) {
                *w |= b;
            }
        }
        for l in ev.leaves() {
            let f = l.field as usize;
            if fields.get(f / 64).is_none_or(|w| w & (1 << (f % 64)) == 0) {
                continue;
            }
            if let Some(Some(scanner)) = pf.fields.get(f) {
                sc.counters.bytes_scanned += ev.lower(l).len() as u64;
                pf.mark(scanner, ev.lower(l), sc, epoch);
            }
        }
        sc.scan_fields = fields;
    }

    fn try_route(&self, route: &Route, ev: &Event, out: &mut Vec<Match>, sc: &mut Scratch, epoch: u32) {
        let ri = route.rule as usize;
        if sc.rule_done[ri] == epoch || !route.present.iter().all(|f| ev.first(*f).is_some()) {
            return;
        }
        sc.counters.rules_evaluated += 1;
        let rule = &self.rules[ri];
        let variant = &rule.variants[route.variant as usize];
        let det = &rule.def.detection;
        if eval_expr(&det.condition, det, &variant.ids, ev)
            && !variant
                .filters
                .iter()
                .any(|(fd, ids)| eval_expr(&fd.condition, fd, ids, ev))
        {
            sc.rule_done[ri] = epoch;
            out.push(Match {
                rule: route.rule,
                standalone: rule.standalone,
            });
        }
    }

    /// Evaluates one rule on an event regardless of routing and prefilter (for tests and diagnostics).
    pub fn rule_matches(&self, id: RuleId, ev: &Event) -> bool {
        let Some(rule) = self.rules.get(id as usize) else {
            return false;
        };
        let det = &rule.def.detection;
        rule.variants.iter().any(|v| {
            eval_expr(&det.condition, det, &v.ids, ev)
                && !v.filters.iter().any(|(fd, ids)| eval_expr(&fd.condition, fd, ids, ev))
        })
    }
}

pub(crate) fn eval_expr(e: &Expr, det: &CompiledDetection, ids: &[u32], ev: &Event) -> bool {
    match e {
        Expr::Sel(i) => det.selections[*i]
            .alts
            .iter()
            .any(|alt| alt.iter().all(|item| eval_item(item, ids, ev))),
        Expr::And(items) => items.iter().all(|i| eval_expr(i, det, ids, ev)),
        Expr::Or(items) => items.iter().any(|i| eval_expr(i, det, ids, ev)),
        Expr::Not(i) => !eval_expr(i, det, ids, ev),
        Expr::Const(b) => *b,
    }
}

fn eval_item(item: &Item, ids: &[u32], ev: &Event) -> bool {
    match (item.field.map(|f| ids[f]), &item.test) {
        (Some(f), Test::Exists(b)) => ev.first(f).is_some() == *b,
        (None, Test::Exists(b)) => !*b,
        (Some(f), test) => eval_values(test, ev.values(f).iter(), ids, ev),
        (None, test) => eval_values(test, ev.leaves().iter().filter(|l| l.kind != Kind::Null), ids, ev),
    }
}

/// A value test over the leaves it applies to (a field's values, or every value for keywords).
fn eval_values<'e>(test: &Test, leaves: impl Iterator<Item = &'e Leaf> + Clone, ids: &[u32], ev: &Event) -> bool {
    match test {
        Test::Exists(_) => false,
        Test::Null => {
            let mut any = false;
            for l in leaves {
                if l.kind == Kind::Null {
                    return true;
                }
                any = true;
            }
            !any
        }
        Test::Values { matchers, all, neq } => {
            if *neq {
                let mut seen = false;
                for l in leaves {
                    if l.kind == Kind::Null {
                        continue;
                    }
                    seen = true;
                    if matchers.iter().any(|m| match_leaf(m, l, ids, ev)) {
                        return false;
                    }
                }
                seen
            } else if *all {
                matchers
                    .iter()
                    .all(|m| leaves.clone().any(|l| match_leaf(m, l, ids, ev)))
            } else {
                let mut leaves = leaves;
                leaves.any(|l| matchers.iter().any(|m| match_leaf(m, l, ids, ev)))
            }
        }
    }
}

fn as_number(t: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(t).ok()?.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok().map(|v| v as f64);
    }
    s.parse().ok()
}

fn match_leaf(m: &Matcher, l: &Leaf, ids: &[u32], ev: &Event) -> bool {
    if l.kind == Kind::Null {
        return false;
    }
    match m {
        Matcher::Str { pat, cased } => pat.is_match(if *cased { ev.text(l) } else { ev.lower(l) }),
        Matcher::Regex(re) => re.is_match(ev.text(l)),
        Matcher::Cidr(c) => c.contains(ev.text(l)),
        Matcher::Num { op, value } => as_number(ev.text(l)).is_some_and(|v| op.apply(v, *value)),
        Matcher::Time { part, op, value } => time_part(ev.text(l), *part).is_some_and(|v| op.apply(v, *value)),
        Matcher::FieldRef { field, mode, cased } => {
            let other = ids[*field];
            ev.values(other).iter().any(|o| {
                o.kind != Kind::Null
                    && if *cased {
                        mode.apply(ev.text(l), ev.text(o))
                    } else {
                        mode.apply(ev.lower(l), ev.lower(o))
                    }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_literals() {
        assert_eq!(regex_clause(r"\\cmd\.exe$"), Some(vec![br"\cmd.exe".to_vec()]));
        assert_eq!(regex_clause(r"(?i)abc.*def"), Some(vec![b"abc".to_vec()]));
        assert_eq!(
            regex_clause(r"(foo|barbaz)x"),
            Some(vec![b"foo".to_vec(), b"barbaz".to_vec()])
        );
        assert_eq!(regex_clause(r"a?b*"), None);
    }

    #[test]
    fn engine_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
    }
}
