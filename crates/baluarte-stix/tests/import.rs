#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Import: round trip of our own bundles, and what a partner's odd or hostile bundle does.

mod common;

use baluarte_stix::{export_campaign, export_incident, parse_bundle, Limits, StixError, Tlp};
use serde_json::{json, Value};

use common::*;

const BUNDLE_ID: &str = "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d";
const TLP2_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP1_RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
const TLP1_WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";

fn parse(v: &Value) -> baluarte_stix::Imported {
    parse_bundle(v.to_string().as_bytes(), &Limits::default()).unwrap()
}

fn bundle(objects: Vec<Value>) -> Value {
    json!({ "type": "bundle", "id": BUNDLE_ID, "objects": objects })
}

fn indicator(n: u8, pattern: &str, markings: &[&str]) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd{n:02x}"),
        "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z",
        "name": format!("indicator {n}"), "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2026-01-05T10:00:00Z", "object_marking_refs": markings,
    })
}

// ---- round trip ---------------------------------------------------------------------------------------

#[test]
fn our_incident_bundle_reads_back_whole() {
    let inc = incident();
    let imported = parse(&export_incident(&producer(), &inc));
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
    assert_eq!(imported.incidents.len(), 1);
    let got = &imported.incidents[0];
    assert_eq!(got.name, inc.title);
    assert_eq!(got.description.as_deref(), Some(inc.description.as_str()));
    assert_eq!(got.created, ts("2026-02-10T15:20:00.123Z"));
    assert_eq!(got.tlp, Some(Tlp::Amber));
    assert_eq!(got.created_by.as_deref(), Some("CSIRT Nacional de México"));

    let stix_observables: Vec<_> = inc.observables.iter().filter(|o| o.kind != "cve").collect();
    assert_eq!(imported.indicators.len(), stix_observables.len());
    for o in &inc.observables {
        let pair = (o.kind.clone(), o.value.clone());
        let seen = imported
            .observables
            .iter()
            .find(|i| i.kind == o.kind && i.value == o.value);
        assert_eq!(seen.map(|s| s.tlp), Some(Some(Tlp::Amber)), "observable {pair:?}");
        if o.kind != "cve" {
            let ind = imported.indicators.iter().find(|i| i.observables == vec![pair.clone()]);
            let ind = ind.unwrap_or_else(|| panic!("no indicator for {pair:?}"));
            assert_eq!(ind.tlp, Some(Tlp::Amber));
            assert_eq!(ind.valid_from, o.first_seen);
        }
    }
    assert_eq!(imported.observables.len(), inc.observables.len());
}

#[test]
fn our_campaign_bundle_keeps_each_incident_tlp() {
    let c = campaign();
    let imported = parse(&export_campaign(&producer(), &c));
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
    for inc in &c.incidents {
        let got = imported.incidents.iter().find(|i| i.name == inc.title).unwrap();
        assert_eq!(got.tlp, Some(inc.tlp), "{}", inc.reference);
    }
    // Shared by GREEN, AMBER and RED incidents: marked with the strictest.
    let ip = imported.observables.iter().find(|o| o.value == "198.51.100.3").unwrap();
    assert_eq!(ip.tlp, Some(Tlp::Red));
}

// ---- whole-bundle errors ------------------------------------------------------------------------------

#[test]
fn not_json_is_refused() {
    let e = parse_bundle(b"{\"type\": \"bundle\",", &Limits::default()).unwrap_err();
    assert!(matches!(e, StixError::NotJson { line: 1, .. }), "{e}");
    let e = parse_bundle(&[0x7b, 0xff, 0x7d], &Limits::default()).unwrap_err();
    assert_eq!(e, StixError::NotUtf8 { offset: 1 });
}

#[test]
fn not_a_bundle_is_refused() {
    for (v, needle) in [
        (json!([]), "top-level value is not an object"),
        (json!({"type": "report", "id": BUNDLE_ID}), "type is \"report\""),
        (json!({"id": BUNDLE_ID}), "type: missing"),
        (json!({"type": "bundle", "id": "bundle--not-a-uuid"}), "id:"),
        (
            json!({"type": "bundle", "id": "report--5d0092c5-5f74-4287-9642-33f4c354e56d"}),
            "id:",
        ),
        (
            json!({"type": "bundle", "id": BUNDLE_ID, "objects": {}}),
            "objects: not a list",
        ),
        (
            json!({"type": "bundle", "id": BUNDLE_ID, "spec_version": "2.0", "objects": []}),
            "2.0",
        ),
    ] {
        let e = parse_bundle(v.to_string().as_bytes(), &Limits::default()).unwrap_err();
        assert!(
            matches!(e, StixError::NotABundle(_)) && e.to_string().contains(needle),
            "{v}: {e}"
        );
    }
}

#[test]
fn limits_are_enforced_before_reading() {
    let text = export_incident(&producer(), &incident()).to_string();
    let limits = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    let e = parse_bundle(text.as_bytes(), &limits).unwrap_err();
    assert_eq!(
        e,
        StixError::TooLarge {
            size: text.len(),
            max: 1000
        }
    );
    let limits = Limits {
        max_objects: 5,
        ..Limits::default()
    };
    assert!(matches!(
        parse_bundle(text.as_bytes(), &limits),
        Err(StixError::TooManyObjects { max: 5, .. })
    ));
}

#[test]
fn an_empty_bundle_is_fine() {
    let imported = parse(&json!({ "type": "bundle", "id": BUNDLE_ID }));
    assert_eq!(imported.bundle_id, BUNDLE_ID);
    assert_eq!(imported.object_count, 0);
}

// ---- objects skipped, the rest kept -------------------------------------------------------------------

#[test]
fn a_broken_pattern_skips_only_that_indicator() {
    let imported = parse(&bundle(vec![
        indicator(1, "[ipv4-addr:value = '203.0.113.9']", &[]),
        indicator(2, "[domain-name:value = 'bad.example'", &[]),
        indicator(
            3,
            "[url:value = 'http://x.example/'] FOLLOWEDBY [domain-name:value = 'x.example']",
            &[],
        ),
    ]));
    assert_eq!(imported.indicators.len(), 2);
    assert_eq!(
        imported.indicators[0].observables,
        vec![("ipv4".to_string(), "203.0.113.9".to_string())]
    );
    assert!(
        imported.indicators[1].observables.is_empty(),
        "complex patterns are kept as text only"
    );
    assert_eq!(imported.skipped.len(), 1);
    let s = &imported.skipped[0];
    assert_eq!(s.index, 1);
    assert_eq!(s.id.as_deref(), Some("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd02"));
    assert_eq!(
        s.to_string(),
        "objects[1] (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd02): pattern: unbalanced brackets: \
         the bracket at offset 0 is never closed"
    );
}

#[test]
fn bad_ids_and_timestamps_skip_the_object() {
    let mut bad_id = indicator(1, "[ipv4-addr:value = '203.0.113.9']", &[]);
    bad_id["id"] = json!("indicator--1234");
    let mut wrong_type = indicator(2, "[ipv4-addr:value = '203.0.113.9']", &[]);
    wrong_type["id"] = json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    let mut bad_time = indicator(3, "[ipv4-addr:value = '203.0.113.9']", &[]);
    bad_time["modified"] = json!("2026-01-05 10:00");
    let mut no_version = indicator(4, "[ipv4-addr:value = '203.0.113.9']", &[]);
    no_version.as_object_mut().unwrap().remove("spec_version");
    let mut no_pattern = indicator(5, "[ipv4-addr:value = '203.0.113.9']", &[]);
    no_pattern.as_object_mut().unwrap().remove("pattern");
    let good = indicator(6, "[ipv4-addr:value = '203.0.113.9']", &[]);
    let imported = parse(&bundle(vec![
        bad_id,
        wrong_type,
        bad_time,
        no_version,
        no_pattern,
        json!("text"),
        good,
    ]));
    assert_eq!(imported.object_count, 7);
    assert_eq!(imported.indicators.len(), 1);
    let reasons: Vec<String> = imported.skipped.iter().map(ToString::to_string).collect();
    let expected = [
        "objects[0] (indicator--1234): id: \"indicator--1234\" does not end in a UUID",
        "objects[1] (malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f): id: \"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\" \
         does not start with \"indicator--\"",
        "objects[2] (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd03): modified: \"2026-01-05 10:00\" is not an RFC 3339 timestamp",
        "objects[3] (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd04): spec_version: missing (STIX 2.0 objects are not read)",
        "objects[4] (indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd05): pattern: missing",
        "objects[5]: not a JSON object",
    ];
    assert_eq!(reasons, expected);
}

#[test]
fn required_properties_of_consumed_types_are_checked() {
    let base = json!({"spec_version": "2.1", "created": "2026-01-05T10:00:00Z", "modified": "2026-01-05T10:00:00Z"});
    let with = |extra: Value| {
        let mut o = base.clone();
        o.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        o
    };
    let imported = parse(&bundle(vec![
        with(json!({"type": "incident", "id": "incident--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a01"})),
        with(json!({"type": "sighting", "id": "sighting--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a02"})),
        with(
            json!({"type": "relationship", "id": "relationship--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a03", "relationship_type": "related-to", "source_ref": "x", "target_ref": "incident--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a01"}),
        ),
        with(
            json!({"type": "report", "id": "report--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a04", "name": "r", "published": "2026-01-05T10:00:00Z", "object_refs": []}),
        ),
        json!({"type": "ipv4-addr", "id": "ipv4-addr--0f8e2c7a-3c57-5e44-9a59-0d6f6f7b7a05"}),
        json!({"type": "autonomous-system", "id": "autonomous-system--0f8e2c7a-3c57-5e44-9a59-0d6f6f7b7a06", "number": -1}),
        json!({"type": "file", "id": "file--0f8e2c7a-3c57-5e44-9a59-0d6f6f7b7a07"}),
        json!({"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a08", "created": "2026-01-05T10:00:00Z"}),
        with(
            json!({"type": "incident", "id": "incident--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a09", "name": "n", "object_marking_refs": ["identity--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a0a"]}),
        ),
    ]));
    let reasons: Vec<&str> = imported.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "name: missing",
            "sighting_of_ref: missing",
            "source_ref: \"x\" is not of the form <type>--<uuid>",
            "object_refs: empty",
            "value: missing",
            "number: not an integer from 0 to 4294967295",
            "hashes: missing (a file needs hashes or a name)",
            "definition_type: missing",
            "object_marking_refs[0]: \"identity--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a0a\" does not start with \"marking-definition--\"",
        ]
    );
}

#[test]
fn non_stix_patterns_are_kept_as_text() {
    let mut sigma = indicator(1, "title: x\ndetection: {}\n", &[]);
    sigma["pattern_type"] = json!("sigma");
    let imported = parse(&bundle(vec![sigma]));
    assert_eq!(imported.indicators.len(), 1);
    assert_eq!(imported.indicators[0].pattern, "title: x\ndetection: {}\n");
    assert!(imported.indicators[0].observables.is_empty());
}

// ---- markings -----------------------------------------------------------------------------------------

#[test]
fn markings_resolve_to_tlp_or_the_default() {
    let custom_amber_strict = json!({
        "type": "marking-definition", "spec_version": "2.1",
        "id": "marking-definition--1d4d7a6e-8b5e-4c5f-a0b1-6a2c3d4e5f60", "created": "2026-01-01T00:00:00Z",
        "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}
    });
    let statement = "marking-definition--2f6a5b4c-3d2e-4f1a-9b8c-7d6e5f4a3b2c";
    let objects = vec![
        custom_amber_strict,
        indicator(1, "[ipv4-addr:value = '203.0.113.1']", &[TLP2_GREEN]),
        indicator(2, "[ipv4-addr:value = '203.0.113.2']", &[TLP1_RED]),
        indicator(3, "[ipv4-addr:value = '203.0.113.3']", &[TLP1_WHITE]),
        indicator(
            4,
            "[ipv4-addr:value = '203.0.113.4']",
            &["marking-definition--1d4d7a6e-8b5e-4c5f-a0b1-6a2c3d4e5f60"],
        ),
        indicator(5, "[ipv4-addr:value = '203.0.113.5']", &[statement]),
        indicator(6, "[ipv4-addr:value = '203.0.113.6']", &[]),
        indicator(
            7,
            "[ipv4-addr:value = '203.0.113.7']",
            &[TLP2_GREEN, statement, TLP1_RED],
        ),
    ];
    let text = bundle(objects).to_string();
    let tlps = |default: Option<Tlp>| -> Vec<Option<Tlp>> {
        let limits = Limits {
            default_tlp: default,
            ..Limits::default()
        };
        parse_bundle(text.as_bytes(), &limits)
            .unwrap()
            .indicators
            .iter()
            .map(|i| i.tlp)
            .collect()
    };
    let g = Some(Tlp::Green);
    let r = Some(Tlp::Red);
    let a = Some(Tlp::Amber);
    assert_eq!(tlps(a), [g, r, Some(Tlp::Clear), Some(Tlp::AmberStrict), a, a, r]);
    assert_eq!(
        tlps(None),
        [g, r, Some(Tlp::Clear), Some(Tlp::AmberStrict), None, None, r]
    );
}

#[test]
fn the_newest_version_of_an_object_wins() {
    let old = indicator(1, "[ipv4-addr:value = '203.0.113.1']", &[]);
    let mut new = old.clone();
    new["modified"] = json!("2026-03-01T00:00:00Z");
    new["pattern"] = json!("[ipv4-addr:value = '203.0.113.99']");
    let imported = parse(&bundle(vec![new, old]));
    assert_eq!(imported.indicators.len(), 1);
    assert_eq!(imported.indicators[0].pattern, "[ipv4-addr:value = '203.0.113.99']");
}

#[test]
fn partner_scos_and_vulnerabilities_become_observables() {
    let imported = parse(&bundle(vec![
        json!({"type": "file", "id": "file--0f8e2c7a-3c57-5e44-9a59-0d6f6f7b7a07", "name": "x.exe",
               "hashes": {"MD5": "44d88612fea8a8f36de82e1278abb02f", "SHA-256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "TLSH": "T1…"}}),
        json!({"type": "ipv6-addr", "id": "ipv6-addr--0f8e2c7a-3c57-5e44-9a59-0d6f6f7b7a05", "value": "2001:db8::/32"}),
        json!({"type": "autonomous-system", "id": "autonomous-system--0f8e2c7a-3c57-5e44-9a59-0d6f6f7b7a06", "number": 64500}),
        json!({"type": "vulnerability", "spec_version": "2.1", "id": "vulnerability--0f8e2c7a-3c57-4e44-9a59-0d6f6f7b7a10",
               "created": "2026-01-05T10:00:00Z", "modified": "2026-01-05T10:00:00Z", "name": "Log4Shell",
               "external_references": [{"source_name": "cve", "external_id": "cve-2021-44228"}]}),
    ]));
    let got: Vec<(&str, &str)> = imported
        .observables
        .iter()
        .map(|o| (o.kind.as_str(), o.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("md5", "44d88612fea8a8f36de82e1278abb02f"),
            (
                "sha256",
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
            ),
            ("cidr", "2001:db8::/32"),
            ("asn", "AS64500"),
            ("cve", "CVE-2021-44228"),
        ]
    );
}

#[test]
fn hostile_input_does_not_panic() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(parse_bundle(deep.as_bytes(), &Limits::default()).is_err());
    let pattern = format!("{}[a:b = 1]{}", "(".repeat(5_000), ")".repeat(5_000));
    let imported = parse(&bundle(vec![indicator(1, &pattern, &[])]));
    assert!(imported.skipped[0].reason.contains("nested deeper"));
    let long_id = format!("indicator--{}", "x".repeat(10_000));
    let mut ind = indicator(2, "[a:b = 1]", &[]);
    ind["id"] = json!(long_id);
    let imported = parse(&bundle(vec![ind]));
    assert!(imported.skipped[0].to_string().len() < 1000);
}
