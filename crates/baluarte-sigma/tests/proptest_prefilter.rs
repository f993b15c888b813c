//! Property test: the literal prefilter never changes a result. Random rules (field tests with every string
//! modifier, regular expressions, keywords, and/or/not and `1 of`/`all of` conditions) over random events
//! give the same detections through `evaluate` as when every routed rule is evaluated.

use baluarte_sigma::{Engine, EngineBuilder, Match};
use proptest::prelude::*;

/// Words that overlap (`ab` in `abc`, `cmd` in `cmd.exe`) so that literals hit in the wrong field or value.
const WORDS: &[&str] = &[
    "cmd.exe",
    "cmd",
    "powershell",
    "-enc",
    "ab",
    "abc",
    "xyz",
    "C:\\Windows\\",
    "rundll32",
    "Mimikatz",
];
const REGEXES: &[&str] = &[r"cmd\.exe$", r"(?i)power.*shell", r"ab+c", r"^C:\\windows", r"x(yz|q)"];
const FIELDS: &[&str] = &["a", "b", "c"];
const MODIFIERS: &[&str] = &[
    "",
    "|contains",
    "|startswith",
    "|endswith",
    "|contains|all",
    "|contains|cased",
    "|endswith|cased",
    "|re",
];
const CONDITIONS: &[&str] = &[
    "sel1",
    "sel1 and sel2",
    "sel1 or sel2",
    "sel1 and not sel2",
    "1 of sel*",
    "all of sel*",
    "kw",
    "kw and sel1",
    "sel1 and (sel2 or kw)",
    "not sel1",
    "sel2 and not kw",
];

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One item of a selection: `field|modifiers: [values]` (`all` takes two or more).
fn item(f: usize) -> impl Strategy<Value = String> {
    (
        0..MODIFIERS.len(),
        prop::collection::vec(0..WORDS.len(), 2..4),
        1..3usize,
    )
        .prop_map(move |(m, mut vals, n)| {
            if !MODIFIERS[m].ends_with("|all") {
                vals.truncate(n);
            }
            let values: Vec<String> = if MODIFIERS[m] == "|re" {
                vals.iter().map(|v| quote(REGEXES[v % REGEXES.len()])).collect()
            } else {
                vals.iter().map(|v| quote(WORDS[*v])).collect()
            };
            format!("{}{}: [{}]", FIELDS[f], MODIFIERS[m], values.join(", "))
        })
}

fn selection(name: &'static str) -> impl Strategy<Value = String> {
    (
        prop::option::of(item(0)),
        prop::option::of(item(1)),
        item(2),
        any::<bool>(),
    )
        .prop_map(move |(a, b, c, with_c)| {
            let mut items: Vec<String> = [a, b].into_iter().flatten().collect();
            if with_c || items.is_empty() {
                items.push(c);
            }
            let body: Vec<String> = items.iter().map(|i| format!("    {i}")).collect();
            format!("  {name}:\n{}\n", body.join("\n"))
        })
}

fn rule() -> impl Strategy<Value = String> {
    (
        selection("sel1"),
        selection("sel2"),
        prop::collection::vec(0..WORDS.len(), 1..3),
        0..CONDITIONS.len(),
    )
        .prop_map(|(s1, s2, kw, c)| {
            let kw: Vec<String> = kw.iter().map(|w| format!("    - {}", quote(WORDS[*w]))).collect();
            format!("{s1}{s2}  kw:\n{}\n  condition: {}\n", kw.join("\n"), CONDITIONS[c])
        })
}

/// A value: a few words joined by separators, in any case.
fn value() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((0..WORDS.len(), any::<bool>()), 0..4),
        prop_oneof![Just(""), Just(" "), Just("\\"), Just("/")],
    )
        .prop_map(|(words, sep)| {
            let parts: Vec<String> = words
                .iter()
                .map(|(w, upper)| {
                    if *upper {
                        WORDS[*w].to_uppercase()
                    } else {
                        WORDS[*w].to_string()
                    }
                })
                .collect();
            parts.join(sep)
        })
}

/// An event with some of the fields `a`, `b`, `c` (one of them possibly a list) and an untested field `d`.
fn event() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::option::of(value()), 3),
        prop::collection::vec(value(), 0..3),
        value(),
    )
        .prop_map(|(fields, list, d)| {
            let mut obj = serde_json::Map::new();
            obj.insert("product".into(), "test".into());
            for (name, v) in FIELDS.iter().zip(fields) {
                if let Some(v) = v {
                    obj.insert((*name).into(), v.into());
                }
            }
            if !list.is_empty() {
                obj.insert("c".into(), list.into());
            }
            obj.insert("d".into(), d.into());
            serde_json::Value::Object(obj).to_string()
        })
}

fn engine(rules: &[String]) -> Engine {
    let mut b = EngineBuilder::new();
    for (i, body) in rules.iter().enumerate() {
        b.add_yaml(
            &format!("r{i}.yml"),
            &format!("title: R{i}\nid: r{i}\nlogsource: {{product: test}}\ndetection:\n{body}"),
        );
    }
    let (engine, report) = b.build();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    engine
}

fn detected(engine: &Engine, json: &str, exhaustive: bool) -> Result<Vec<u32>, String> {
    let ev = engine.parse_event(json).map_err(|e| e.to_string())?;
    let mut out: Vec<Match> = Vec::new();
    if exhaustive {
        engine.evaluate_exhaustive(&ev, &mut out);
    } else {
        engine.evaluate(&ev, &mut out);
    }
    let mut ids: Vec<u32> = out.iter().map(|m| m.rule).collect();
    ids.sort_unstable();
    Ok(ids)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn prefilter_agrees_with_exhaustive_evaluation(
        rules in prop::collection::vec(rule(), 1..5),
        events in prop::collection::vec(event(), 1..8),
    ) {
        let engine = engine(&rules);
        for json in &events {
            prop_assert_eq!(detected(&engine, json, false), detected(&engine, json, true), "event {}", json);
        }
    }
}
