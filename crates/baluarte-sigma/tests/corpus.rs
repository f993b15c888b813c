//! The whole SigmaHQ rule set loads, and the SigmaHQ regression suite passes from its JSON renderings.
#![allow(clippy::print_stdout)]

mod common;

use std::path::Path;

use baluarte_sigma::yaml::{parse_documents, Node, NodeKind};
use baluarte_sigma::{Engine, EngineBuilder};

/// Rules of `sigma/rules` that load (all 3,141 at this snapshot).
const EXPECTED_LOADED: usize = 3141;

#[test]
fn loads_the_sigmahq_rules() {
    let Some(corpus) = common::corpus() else { return };
    let start = std::time::Instant::now();
    let mut b = EngineBuilder::new();
    b.add_path(&corpus.join("sigma/rules"));
    let (engine, report) = b.build();
    println!(
        "loaded {} rules in {:?}; {} failed",
        report.loaded,
        start.elapsed(),
        report.failures.len()
    );
    for f in &report.failures {
        println!("  {f}");
        assert!(!f.reason.trim().is_empty(), "failure without a reason: {f:?}");
        assert!(!f.file.is_empty());
    }
    assert_eq!(engine.rule_count(), report.loaded);
    assert_eq!(report.loaded, EXPECTED_LOADED, "loaded count changed");
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.file_name().is_some_and(|n| n == "info.yml") {
            out.push(p);
        }
    }
}

fn seq(n: Option<&Node>) -> &[Node] {
    match n.map(|n| &n.kind) {
        Some(NodeKind::Seq(items)) => items,
        _ => &[],
    }
}

/// An engine with every SigmaHQ rule directory: the regular, emerging-threat and threat-hunting rules.
fn all_sigmahq_rules(corpus: &Path) -> Engine {
    let mut b = EngineBuilder::new();
    for d in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        b.add_path(&corpus.join("sigma").join(d));
    }
    b.build().0
}

#[test]
fn regression_suite_from_json() {
    let Some(corpus) = common::corpus() else { return };
    let sigma = corpus.join("sigma");
    let engine = all_sigmahq_rules(&corpus);
    let by_id: std::collections::HashMap<&str, u32> = (0..engine.rule_count() as u32)
        .filter_map(|i| engine.rule(i).and_then(|m| m.id.as_deref()).map(|id| (id, i)))
        .collect();
    let mut infos = Vec::new();
    walk(&sigma.join("regression_data"), &mut infos);
    infos.sort();
    let (mut cases, mut passed) = (0, 0);
    let mut failures = Vec::new();
    for info in &infos {
        let text = std::fs::read_to_string(info).unwrap_or_default();
        let Ok(docs) = parse_documents(&text) else {
            failures.push(format!("{}: unreadable info.yml", info.display()));
            continue;
        };
        let Some(doc) = docs.first() else { continue };
        let rule_id = seq(doc.get("rule_metadata"))
            .first()
            .and_then(|m| m.get("id"))
            .and_then(|n| n.scalar_text());
        let Some(rule_id) = rule_id else { continue };
        for t in seq(doc.get("regression_tests_info")) {
            let expected = t
                .get("match_count")
                .and_then(|n| n.scalar_text())
                .and_then(|s| s.parse::<usize>().ok());
            let dir = info.parent().unwrap_or(Path::new("."));
            let json = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "json"));
            cases += 1;
            let Some(json) = json else {
                failures.push(format!("{rule_id}: no JSON rendering in {}", dir.display()));
                continue;
            };
            let Some(&rule) = by_id.get(rule_id) else {
                failures.push(format!("{rule_id}: rule not loaded"));
                continue;
            };
            let text = std::fs::read_to_string(&json).unwrap_or_default();
            let mut count = 0;
            let mut matches = Vec::new();
            let stream = serde_json::Deserializer::from_str(&text).into_iter::<&serde_json::value::RawValue>();
            for raw in stream.flatten() {
                matches.clear();
                if let Err(e) = engine.evaluate_json(raw.get(), &mut matches) {
                    failures.push(format!("{rule_id}: {e}"));
                }
                count += matches.iter().filter(|m| m.rule == rule).count();
            }
            let want = expected.unwrap_or(1);
            // As in SigmaHQ's runner: fewer matches than expected fail, more only warn.
            if count >= want {
                passed += 1;
                if count > want {
                    println!("note: {rule_id}: {count} matches, {want} expected");
                }
            } else {
                let title = engine.rule(rule).map(|m| m.title.clone()).unwrap_or_default();
                failures.push(format!(
                    "{rule_id} ({title}): {count} matches, expected {want} — {}",
                    json.display()
                ));
            }
        }
    }
    println!("regression: {passed}/{cases} cases pass");
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(cases >= 200, "only {cases} regression cases found");
    assert!(failures.is_empty(), "{} regression failures", failures.len());
}

/// The literal prefilter only skips rules that cannot match: over every EVTX-ATTACK-SAMPLES event, the
/// engine's detections equal those of evaluating every rule routed to the event.
#[test]
fn prefilter_never_drops_a_detection() {
    let Some(corpus) = common::corpus() else { return };
    let engine = all_sigmahq_rules(&corpus);
    let text = std::fs::read_to_string(corpus.join("evtx/EVTX-ATTACK-SAMPLES.jsonl")).unwrap_or_default();
    let (mut events, mut detections) = (0, 0);
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    let mut evaluated = (0u64, 0u64);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(ev) = engine.parse_event(line) else { continue };
        fast.clear();
        slow.clear();
        Engine::take_thread_counters();
        engine.evaluate(&ev, &mut fast);
        evaluated.0 += Engine::take_thread_counters().rules_evaluated;
        engine.evaluate_exhaustive(&ev, &mut slow);
        evaluated.1 += Engine::take_thread_counters().rules_evaluated;
        let ids = |v: &[baluarte_sigma::Match]| {
            let mut ids: Vec<u32> = v.iter().map(|m| m.rule).collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(ids(&fast), ids(&slow), "event {events}: {line}");
        events += 1;
        detections += fast.len();
    }
    println!("{events} events, {detections} detections, the same with and without the prefilter");
    assert!(
        events > 8000 && detections > 1000,
        "{events} events, {detections} detections"
    );
    println!(
        "rules evaluated: {} with the prefilter, {} without",
        evaluated.0, evaluated.1
    );
    // And it does filter: the point of it is that most routed rules are never evaluated.
    assert!(evaluated.0 * 20 < evaluated.1, "rules evaluated: {evaluated:?}");
}
