//! `baluarte hunt` as an analyst runs it: over a directory of .evtx files and a JSON-lines file, and over
//! malformed inputs, which are named (file and offset) while the rest is still read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn hunt(rules: &Path, inputs: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .args(["hunt", "--no-progress", "--rules"])
        .arg(rules)
        .args(inputs)
        .output()
        .expect("run baluarte hunt")
}

fn detections(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn hunts_a_directory_of_evtx_files_and_a_jsonl_file() {
    let Some(corpus) = common::corpus() else { return };
    let rules = corpus.join("sigma/rules/windows");
    let o = hunt(&rules, &[&corpus.join("evtx/EVTX-ATTACK-SAMPLES")]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("events from 283 files"),
        "the 277 .evtx files and the folder's other logs: {stderr}"
    );
    assert!(
        stderr.contains("hunt: skipped:") && stderr.contains("access_log.txt: not an event file"),
        "names what it cannot read: {stderr}"
    );
    assert!(!stderr.contains(" INFO "), "no library chatter: {stderr}");
    assert!(
        stderr.contains("rules by matches:"),
        "the summary lists rules: {stderr}"
    );
    let found = detections(&o);
    assert!(found.len() > 1000, "{} detections", found.len());
    for d in &found {
        for key in ["rule_id", "title", "level", "tags", "event", "source"] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
    }
    let from_evtx: Vec<&Value> = found
        .iter()
        .filter(|d| d["source"]["path"].as_str().is_some_and(|p| p.ends_with(".evtx")))
        .collect();
    assert!(
        from_evtx.len() > 1000,
        "{} detections from .evtx files",
        from_evtx.len()
    );
    assert!(
        from_evtx.iter().all(|d| d["source"]["record"].as_u64().is_some()),
        "EVTX detections name their record"
    );
    // The same events rendered as JSON lines give the detections of the same rules.
    let o2 = hunt(&rules, &[&corpus.join("evtx/EVTX-ATTACK-SAMPLES.jsonl")]);
    assert!(o2.status.success());
    let rules_of = |v: &[&Value]| {
        v.iter()
            .filter_map(|d| d["rule_id"].as_str().map(str::to_string))
            .collect::<std::collections::BTreeSet<_>>()
    };
    let jsonl = detections(&o2);
    let (a, b) = (rules_of(&from_evtx), rules_of(&jsonl.iter().collect::<Vec<_>>()));
    let only_one: Vec<_> = a.symmetric_difference(&b).collect();
    assert!(
        only_one.len() <= a.len() / 20,
        "rules found in one rendering only: {only_one:?}"
    );
}

#[test]
fn malformed_inputs_are_named_and_the_rest_is_read() {
    let Some(corpus) = common::corpus() else { return };
    let rules = corpus.join("sigma/rules/windows");
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string(corpus.join("evtx/EVTX-ATTACK-SAMPLES.jsonl")).unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    // A JSON-lines file with a broken line in the middle.
    let bad = dir.path().join("bad.jsonl");
    let mut f = std::fs::File::create(&bad).unwrap();
    writeln!(
        f,
        "{}\n{{\"Event\": {{ broken\n{}",
        lines[..200].join("\n"),
        lines[200..400].join("\n")
    )
    .unwrap();
    // An .evtx file cut inside its second chunk: the first chunk's records are still read.
    let evtx = corpus.join("evtx/EVTX-ATTACK-SAMPLES/Persistence/persistence_sysmon_11_13_1_shime_appfix.evtx");
    let bytes = std::fs::read(&evtx).unwrap();
    let cut = dir.path().join("cut.evtx");
    std::fs::write(&cut, &bytes[..4096 + 65536 + 30000]).unwrap();
    let o = hunt(&rules, &[dir.path()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "malformed input does not stop the hunt: {stderr}");
    assert!(
        stderr.contains("bad.jsonl") && stderr.contains("line 201"),
        "names the file and the line: {stderr}"
    );
    assert!(
        stderr.contains("cut.evtx: EVTX file truncated at byte 69632"),
        "names the truncated file and where: {stderr}"
    );
    let found = detections(&o);
    let lines_seen: Vec<u64> = found.iter().filter_map(|d| d["source"]["line"].as_u64()).collect();
    assert!(
        lines_seen.iter().any(|&l| l > 201),
        "events after the broken line are still read"
    );
    let events: u64 = stderr
        .split("hunt: ")
        .find_map(|l| l.split(" events from").next()?.parse().ok())
        .unwrap_or(0);
    assert_eq!(
        events, 450,
        "the 400 good lines and the cut file's first chunk (50 records) are read: {stderr}"
    );
}

#[test]
fn threads_change_speed_not_results() {
    let Some(corpus) = common::corpus() else { return };
    let rules = corpus.join("sigma/rules/windows");
    let events = corpus.join("evtx/EVTX-ATTACK-SAMPLES.jsonl");
    let run = |threads: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_baluarte"))
            .args(["hunt", "--no-progress", "--threads", threads, "--rules"])
            .arg(&rules)
            .arg(&events)
            .output()
            .expect("run baluarte hunt");
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let one = run("1");
    assert!(one.lines().count() > 1000);
    // Same detections, in the same (input) order.
    assert!(one == run("2"), "two threads write what one thread writes");
}
