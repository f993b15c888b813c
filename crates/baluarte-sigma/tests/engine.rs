//! End-to-end behaviour of the engine: modifiers, conditions, routing, filters, correlations, output.

use baluarte_sigma::{Correlator, Detection, Engine, EngineBuilder, Match, Summary};

fn engine(rules: &str) -> Engine {
    let mut b = EngineBuilder::new();
    b.add_yaml("test.yml", rules);
    let (e, report) = b.build();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    e
}

fn flat(rule_body: &str) -> Engine {
    engine(&format!(
        "title: T\nid: r1\nlevel: high\ntags: [attack.t1059]\nlogsource: {{product: test}}\ndetection:\n{rule_body}"
    ))
}

fn hits(e: &Engine, json: &str) -> usize {
    let mut out: Vec<Match> = Vec::new();
    e.evaluate_json(json, &mut out).map(|_| out.len()).unwrap_or(usize::MAX)
}

fn ev(fields: &str) -> String {
    format!(r#"{{"product":"test",{fields}}}"#)
}

#[test]
fn string_modifiers_and_case() {
    let e = flat("  sel:\n    CommandLine|contains|all: ['-enc', 'hidden']\n    Image|endswith: '\\powershell.exe'\n  condition: sel\n");
    assert_eq!(
        hits(
            &e,
            &ev(r#""CommandLine":"x -ENC y -w Hidden","Image":"C:\\WINDOWS\\PowerShell.exe""#)
        ),
        1
    );
    assert_eq!(
        hits(
            &e,
            &ev(r#""CommandLine":"x -ENC y","Image":"C:\\WINDOWS\\PowerShell.exe""#)
        ),
        0
    );
    let e = flat("  sel:\n    A|cased: 'Foo'\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"Foo""#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":"foo""#)), 0);
    let e = flat("  sel:\n    A|startswith: 'ab'\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"ABc""#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":"cab""#)), 0);
}

#[test]
fn windash_base64_and_wide() {
    let e = flat("  sel:\n    CommandLine|windash|contains: ' -exec '\n  condition: sel\n");
    for v in [
        " -exec ",
        " /exec ",
        " \u{2013}exec ",
        " \u{2014}exec ",
        " \u{2015}exec ",
    ] {
        assert_eq!(hits(&e, &ev(&format!(r#""CommandLine":"a{v}b""#))), 1, "{v}");
    }
    let e = flat("  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n");
    for prefix in ["", "a", "ab", "abc"] {
        let enc = base64_encode(format!("{prefix}http://x").as_bytes());
        assert_eq!(hits(&e, &ev(&format!(r#""CommandLine":"ps -e {enc}""#))), 1, "{prefix}");
    }
    let e = flat("  sel:\n    CommandLine|wide|base64offset|contains: 'ping'\n  condition: sel\n");
    let wide: Vec<u8> = "xping".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    assert_eq!(
        hits(&e, &ev(&format!(r#""CommandLine":"{}""#, base64_encode(&wide)))),
        1
    );
    let e = flat("  sel:\n    A|base64: 'cmd'\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"Y21k""#)), 1);
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn regex_cidr_numbers_exists_null_fieldref() {
    let e = flat("  sel:\n    A|re: '^ab+c$'\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"abbbc""#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":"ABC""#)), 0);
    let e = flat("  sel:\n    A|re|i: '^ab+c$'\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"ABC""#)), 1);
    let e = flat("  sel:\n    A|re|s: 'a.b'\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"a\nb""#)), 1);
    let e = flat("  sel:\n    A|re|m: '^b$'\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"a\nb""#)), 1);
    let e = flat("  sel:\n    Ip|cidr: ['10.0.0.0/8', 'fe80::/10']\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""Ip":"10.2.3.4""#)), 1);
    assert_eq!(hits(&e, &ev(r#""Ip":"fe80::1""#)), 1);
    assert_eq!(hits(&e, &ev(r#""Ip":"11.2.3.4""#)), 0);
    let e = flat("  sel:\n    N|gte: 10\n    N|lt: 20\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""N":15"#)), 1);
    assert_eq!(hits(&e, &ev(r#""N":"10""#)), 1);
    assert_eq!(hits(&e, &ev(r#""N":20"#)), 0);
    let e = flat("  sel:\n    A|exists: true\n  f:\n    B|exists: false\n  condition: sel and f\n");
    assert_eq!(hits(&e, &ev(r#""A":null"#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":1,"B":2"#)), 0);
    let e = flat("  sel:\n    A: null\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""B":1"#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":null"#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":"""#)), 0);
    let e = flat("  sel:\n    A: ''\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"""#)), 1);
    assert_eq!(hits(&e, &ev(r#""B":"""#)), 0);
    let e = flat("  sel:\n    A|fieldref: B\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"x","B":"X""#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":"x","B":"y""#)), 0);
    let e = flat("  sel:\n    A|neq: x\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""A":"y""#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":"x""#)), 0);
    assert_eq!(hits(&e, &ev(r#""B":"y""#)), 0);
    let e = flat("  sel:\n    T|hour|gte: 20\n  condition: sel\n");
    assert_eq!(hits(&e, &ev(r#""T":"2024-01-01T21:00:00Z""#)), 1);
    assert_eq!(hits(&e, &ev(r#""T":"2024-01-01T09:00:00Z""#)), 0);
}

#[test]
fn expand_with_placeholders() {
    let mut table = std::collections::HashMap::new();
    table.insert("Admins".to_string(), vec!["adm_*".to_string(), "root".to_string()]);
    let mut b = EngineBuilder::new().placeholders(table);
    b.add_yaml(
        "t.yml",
        "title: T\nlogsource: {product: test}\ndetection:\n  sel:\n    User|expand: '%Admins%'\n  condition: sel\n",
    );
    let (e, rep) = b.build();
    assert!(rep.failures.is_empty());
    assert_eq!(hits(&e, &ev(r#""User":"adm_bob""#)), 1);
    assert_eq!(hits(&e, &ev(r#""User":"Root""#)), 1);
    assert_eq!(hits(&e, &ev(r#""User":"bob""#)), 0);
}

#[test]
fn keywords_lists_maps_and_conditions() {
    let e = flat("  keywords:\n    - 'event::clear'\n    - 'drop'\n  condition: keywords\n");
    assert_eq!(hits(&e, &ev(r#""Msg":"x EVENT::CLEAR y""#)), 1);
    assert_eq!(hits(&e, &ev(r#""Msg":"nothing""#)), 0);
    let e = flat("  kw:\n    '|all':\n      - 'Oab'\n      - ' -ExternalUrl '\n  condition: kw\n");
    assert_eq!(
        hits(&e, &ev(r#""A":"Set-OabVirtualDirectory","B":"x -ExternalUrl y""#)),
        1
    );
    assert_eq!(hits(&e, &ev(r#""A":"Set-OabVirtualDirectory""#)), 0);
    let e = flat(
        "  selection_a:\n    A: 1\n  selection_b:\n    - B: 2\n    - C: 3\n  filter_x:\n    D: 4\n  _helper:\n    E: 5\n  condition: all of selection_* and not 1 of filter_*\n",
    );
    assert_eq!(hits(&e, &ev(r#""A":1,"C":3"#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":1,"C":3,"D":4"#)), 0);
    assert_eq!(hits(&e, &ev(r#""A":1"#)), 0);
    let e = flat("  a:\n    A: 1\n  b:\n    B: 2\n  c:\n    C: 3\n  condition: a and (b or c) and not (b and c)\n");
    assert_eq!(hits(&e, &ev(r#""A":1,"B":2"#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":1,"B":2,"C":3"#)), 0);
    let e = flat("  a:\n    A: 1\n  _b:\n    B: 2\n  condition: 1 of them\n");
    assert_eq!(hits(&e, &ev(r#""B":2"#)), 0);
    assert_eq!(hits(&e, &ev(r#""A":1"#)), 1);
    let e = flat("  a:\n    A: 1\n  b:\n    B: 2\n  condition: all of them\n");
    assert_eq!(hits(&e, &ev(r#""A":1,"B":2"#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":1"#)), 0);
    let e = flat("  a:\n    A: 'x*y?z'\n  condition:\n    - a\n");
    assert_eq!(hits(&e, &ev(r#""A":"xABCyQz""#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":"xyz""#)), 0);
}

#[test]
fn windows_routing_and_mapping() {
    let e = engine(
        "title: P\nid: p1\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n",
    );
    let sysmon = r#"{"Event":{"System":{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1},"EventData":{"Image":"C:\\Windows\\whoami.exe"}}}"#;
    let security = r#"{"Event":{"System":{"Channel":"Security","EventID":4688},"EventData":{"NewProcessName":"C:\\Windows\\whoami.exe"}}}"#;
    let other = r#"{"Event":{"System":{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":11},"EventData":{"Image":"C:\\Windows\\whoami.exe"}}}"#;
    let flat = r#"{"product":"windows","category":"process_creation","Image":"C:\\Windows\\whoami.exe"}"#;
    assert_eq!(hits(&e, sysmon), 1);
    assert_eq!(hits(&e, security), 1);
    assert_eq!(hits(&e, other), 0);
    assert_eq!(hits(&e, flat), 1);
    let e = engine(
        "title: S\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    EventID: 1102\n  condition: sel\n",
    );
    let flattened = r#"{"Event_attributes":{"xmlns":"x"},"Event":{"System":{"Provider_attributes":{"Name":"Microsoft-Windows-Eventlog"},"EventID":1102,"Channel":"Security"},"UserData":{"LogFileCleared":{"SubjectUserName":"bob"}}}}"#;
    assert_eq!(hits(&e, flattened), 1);
}

#[test]
fn filters_exclude_matches() {
    let e = engine(
        "title: R\nid: rule-1\nlogsource: {product: test}\ndetection:\n  sel:\n    A: x\n  condition: sel\n---\ntitle: F\nlogsource: {product: test}\nfilter:\n  rules: [rule-1]\n  selection:\n    User|startswith: adm_\n  condition: selection\n",
    );
    assert_eq!(hits(&e, &ev(r#""A":"x","User":"bob""#)), 1);
    assert_eq!(hits(&e, &ev(r#""A":"x","User":"adm_bob""#)), 0);
}

#[test]
fn event_count_correlation_and_output() {
    let e = engine(
        "title: Failed\nid: failed\nname: failed_login\nlogsource: {product: test}\ndetection:\n  sel:\n    Outcome: failure\n  condition: sel\n---\ntitle: Many failed\nid: many\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 1m\n  condition:\n    gte: 3\n",
    );
    let mut corr = Correlator::new(&e);
    let mut fired = Vec::new();
    let mut out = Vec::new();
    for (i, user) in ["bob", "bob", "eve", "bob"].iter().enumerate() {
        let json = format!(
            r#"{{"product":"test","Outcome":"failure","User":"{user}","@timestamp":"2024-01-01T00:00:{:02}Z"}}"#,
            i * 10
        );
        let event = e.parse_event(&json).unwrap_or_default();
        out.clear();
        e.evaluate(&event, &mut out);
        assert_eq!(out.len(), 1);
        assert!(!out[0].standalone, "referenced rules feed the correlation only");
        corr.process(&event, &out, &mut fired);
    }
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].group, vec![("User".to_string(), "bob".to_string())]);
    assert_eq!(
        e.correlation(fired[0].correlation).map(|m| m.title.as_str()),
        Some("Many failed")
    );
    // Outside the timespan nothing fires.
    let mut corr = Correlator::new(&e);
    fired.clear();
    for i in 0..3 {
        let json =
            format!(r#"{{"product":"test","Outcome":"failure","User":"x","@timestamp":"2024-01-01T0{i}:00:00Z"}}"#);
        let event = e.parse_event(&json).unwrap_or_default();
        out.clear();
        e.evaluate(&event, &mut out);
        corr.process(&event, &out, &mut fired);
    }
    assert!(fired.is_empty());
    assert!(corr.stats().groups <= 1);
}

#[test]
fn temporal_ordered_and_value_count() {
    let e = engine(
        "title: A\nname: a\nlogsource: {product: test}\ndetection:\n  s:\n    K: a\n  condition: s\n---\ntitle: B\nname: b\nlogsource: {product: test}\ndetection:\n  s:\n    K: b\n  condition: s\n---\ntitle: AB\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  group-by: [H]\n  timespan: 5m\n---\ntitle: V\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [H]\n  timespan: 5m\n  condition:\n    field: U\n    gte: 2\n",
    );
    let run = |events: &[(&str, &str, u32)]| -> Vec<String> {
        let mut corr = Correlator::new(&e);
        let mut fired = Vec::new();
        for (k, u, t) in events {
            let json = format!(r#"{{"product":"test","K":"{k}","U":"{u}","H":"h1","timestamp":{t}}}"#);
            let event = e.parse_event(&json).unwrap_or_default();
            let mut out = Vec::new();
            e.evaluate(&event, &mut out);
            corr.process(&event, &out, &mut fired);
        }
        fired
            .iter()
            .filter_map(|f| e.correlation(f.correlation).map(|m| m.title.clone()))
            .collect()
    };
    assert_eq!(
        run(&[("b", "x", 1_700_000_000), ("a", "x", 1_700_000_010)]),
        Vec::<String>::new()
    );
    assert_eq!(run(&[("a", "x", 1_700_000_000), ("b", "x", 1_700_000_010)]), vec!["AB"]);
    assert_eq!(
        run(&[("a", "x", 1_700_000_000), ("b", "x", 1_700_001_000)]),
        Vec::<String>::new()
    );
    assert_eq!(run(&[("a", "x", 1_700_000_000), ("a", "y", 1_700_000_010)]), vec!["V"]);
}

#[test]
fn detection_json_line_and_summary() {
    let e = flat("  sel:\n    A: x\n  condition: sel\n");
    let json = ev(r#""A":"x""#);
    let mut out = Vec::new();
    assert!(e.evaluate_json(&json, &mut out).is_ok());
    let line = Detection::new(&e, &out[0], &json)
        .map(|d| d.to_json_line())
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
    assert_eq!(v["rule_id"], "r1");
    assert_eq!(v["level"], "high");
    assert_eq!(v["tags"][0], "attack.t1059");
    assert_eq!(v["event"]["A"], "x");
    let mut s = Summary::new(&e);
    s.add(&out[0]);
    let rows = s.rows(&e);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].matches, 1);
}

#[test]
fn bad_rules_are_reported_and_others_load() {
    let mut b = EngineBuilder::new();
    b.add_yaml(
        "a.yml",
        "title: ok\nlogsource: {product: test}\ndetection:\n  s:\n    A: 1\n  condition: s\n",
    );
    b.add_yaml(
        "b.yml",
        "title: bad\nlogsource: {product: test}\ndetection:\n  s:\n    A|nosuch: 1\n  condition: s\n",
    );
    b.add_yaml(
        "c.yml",
        "title: bad2\nlogsource: {product: test}\ndetection:\n  s:\n    A|re: '(?<=x)y'\n  condition: s\n",
    );
    b.add_yaml(
        "d.yml",
        "title: bad3\nlogsource: {product: test}\ndetection:\n  s:\n    A: 1\n  condition: s | count() > 5\n",
    );
    b.add_yaml("e.yml", "title: [unclosed\n");
    let (e, rep) = b.build();
    assert_eq!(rep.loaded, 1);
    assert_eq!(e.rule_count(), 1);
    let files: Vec<&str> = rep.failures.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files, vec!["b.yml", "c.yml", "d.yml", "e.yml"]);
    assert!(rep.failures.iter().all(|f| f.line > 0 && !f.reason.is_empty()));
}

#[test]
fn malformed_events_are_errors() {
    let e = flat("  sel:\n    A: x\n  condition: sel\n");
    let mut out = Vec::new();
    assert!(e.evaluate_json("{\"A\":", &mut out).is_err());
    assert!(e.evaluate_json("[1]", &mut out).is_err());
    assert!(out.is_empty());
}
