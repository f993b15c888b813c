#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Export: strict validity (stix2-validator), determinism, spec-conformant SCO ids, content.

mod common;

use baluarte_stix::{export_campaign, export_incident, export_incident_objects, ObservableExport, Sharing, Tlp};
use serde_json::Value;

use common::*;

fn objects(bundle: &Value) -> &Vec<Value> {
    bundle["objects"].as_array().unwrap()
}

fn of_type<'a>(bundle: &'a Value, ty: &str) -> Vec<&'a Value> {
    objects(bundle).iter().filter(|o| o["type"] == ty).collect()
}

fn ids(bundle: &Value) -> Vec<&str> {
    objects(bundle).iter().map(|o| o["id"].as_str().unwrap()).collect()
}

#[test]
fn incident_bundle_passes_strict_validation() {
    let bundle = export_incident(&producer(), &incident());
    let path = write("incident.json", &serde_json::to_string_pretty(&bundle).unwrap());
    validate_strict(&path);
}

#[test]
fn campaign_bundle_passes_strict_validation() {
    let bundle = export_campaign(&producer(), &campaign());
    let path = write("campaign.json", &serde_json::to_string_pretty(&bundle).unwrap());
    validate_strict(&path);
}

#[test]
fn exporting_twice_gives_identical_bytes() {
    let a = serde_json::to_string(&export_incident(&producer(), &incident())).unwrap();
    let b = serde_json::to_string(&export_incident(&producer(), &incident())).unwrap();
    assert_eq!(a, b);
    let a = serde_json::to_string(&export_campaign(&producer(), &campaign())).unwrap();
    let b = serde_json::to_string(&export_campaign(&producer(), &campaign())).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_new_version_keeps_ids_and_changes_the_bundle_id() {
    let before = export_incident(&producer(), &incident());
    let mut changed = incident();
    changed.modified = ts("2026-02-12T08:00:00Z");
    changed.status = "closed".into();
    let after = export_incident(&producer(), &changed);
    assert_ne!(before["id"], after["id"]);
    assert_eq!(ids(&before), ids(&after));
    let incident = of_type(&after, "incident")[0];
    assert_eq!(incident["modified"], "2026-02-12T08:00:00.000Z");
    assert_eq!(incident["created"], "2026-02-10T15:20:00.123Z");
}

/// Ids printed by the python `stix2` library (3.0.2) for the same values, e.g.
/// `stix2.IPv4Address(value="198.51.100.3").id`.
#[test]
fn sco_ids_match_the_stix2_library() {
    let expected = [
        (
            "ipv4",
            "198.51.100.3",
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
        ),
        (
            "cidr",
            "198.51.100.0/24",
            "ipv4-addr--1ea47840-aa39-5aa8-b4a2-cd203eb6662a",
        ),
        ("ipv6", "2001:db8::1", "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26"),
        (
            "domain",
            "example.com",
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7",
        ),
        (
            "domain",
            "méxico.example",
            "domain-name--9e4d7a13-c49e-5e70-85e9-3b938b23b765",
        ),
        (
            "url",
            "https://example.com/a?b=c",
            "url--3bd48f67-7da9-5d3a-9512-26490dda399b",
        ),
        (
            "email",
            "a@example.com",
            "email-addr--8f5f7fba-cc24-5e3f-aca4-f7194112e042",
        ),
        ("sha256", &"a".repeat(64), "file--75cb38d5-2055-5354-b75a-8299a2d670b5"),
        ("md5", &"a".repeat(32), "file--5e2c1e38-1672-579d-beda-536a486bf06f"),
        (
            "asn",
            "AS64496",
            "autonomous-system--9ad79ee3-2fde-5015-b0cc-7a96404effca",
        ),
    ];
    let mut inc = incident();
    inc.observables = expected
        .iter()
        .map(|(kind, value, _)| ObservableExport {
            kind: kind.to_string(),
            value: value.to_string(),
            first_seen: inc.created,
        })
        .collect();
    let bundle = export_incident(&producer(), &inc);
    let ids = ids(&bundle);
    for (kind, value, id) in expected {
        assert!(ids.contains(&id), "{kind} {value}: expected {id}");
    }
}

#[test]
fn incident_carries_the_core_extension_and_our_properties() {
    let bundle = export_incident(&producer(), &incident());
    let inc = of_type(&bundle, "incident")[0];
    let core = &inc["extensions"]["extension-definition--ef765651-680c-498d-9894-99799f2fa126"];
    assert_eq!(core["extension_type"], "property-extension");
    assert_eq!(core["determination"], "confirmed");
    assert_eq!(core["investigation_status"], "open");
    assert_eq!(core["criticality"], 70);
    assert_eq!(core["incident_types"], serde_json::json!(["infected-by-known-malware"]));
    assert_eq!(core["impacted_entity_counts"]["individual"], 1500);
    let task_id = core["tasks"][0]["task_ref"].as_str().unwrap();
    let task = objects(&bundle).iter().find(|o| o["id"] == task_id).unwrap();
    assert_eq!(task["task_types"], serde_json::json!(["detected"]));
    assert_eq!(task["start_time"], "2026-02-10T14:03:27.512Z");
    assert_eq!(inc["x_baluarte_rsit_type"], "infected-system");
    assert_eq!(inc["x_baluarte_service_interruption_minutes"], 240);
    assert_eq!(inc["x_baluarte_personal_data"], true);
    assert_eq!(inc["external_references"][0]["external_id"], "BAL-2026-000123");
    assert!(inc["description"]
        .as_str()
        .unwrap()
        .contains("«LÉEME.txt» en C:\\Users"));
}

#[test]
fn every_object_is_marked_and_created_by_the_producer() {
    let bundle = export_incident(&producer(), &incident());
    let producer_id = of_type(&bundle, "identity")
        .iter()
        .find(|i| i["name"] == "CSIRT Nacional de México")
        .unwrap()["id"]
        .clone();
    let amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    for o in objects(&bundle) {
        let ty = o["type"].as_str().unwrap();
        if ty == "marking-definition" {
            continue;
        }
        assert!(o["object_marking_refs"].is_array(), "{} unmarked", o["id"]);
        let is_sco = [
            "ipv4-addr",
            "ipv6-addr",
            "domain-name",
            "url",
            "email-addr",
            "file",
            "autonomous-system",
        ]
        .contains(&ty);
        if !is_sco {
            assert_eq!(o["created_by_ref"], producer_id, "{}", o["id"]);
        }
        if ty == "indicator" || ty == "incident" || ty == "report" {
            assert_eq!(o["object_marking_refs"][0], amber);
        }
    }
    let markings: Vec<&str> = of_type(&bundle, "marking-definition")
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(markings, ["TLP:CLEAR", "TLP:AMBER"]);
}

#[test]
fn indicators_escape_pattern_strings() {
    let mut inc = incident();
    inc.observables.push(ObservableExport {
        kind: "url".into(),
        value: "http://198.51.100.3/c\\windows\\temp".into(),
        first_seen: inc.created,
    });
    let bundle = export_incident(&producer(), &inc);
    let patterns: Vec<&str> = of_type(&bundle, "indicator")
        .iter()
        .map(|i| i["pattern"].as_str().unwrap())
        .collect();
    assert_eq!(
        patterns.len(),
        inc.observables.len() - 1,
        "one indicator per observable except the CVE"
    );
    assert!(patterns
        .contains(&r"[url:value = 'https://actualizacion-sat.example/descarga?archivo=factura\'2026\'.zip&id=7']"));
    assert!(patterns.contains(&r"[url:value = 'http://198.51.100.3/c\\windows\\temp']"));
    assert!(patterns.contains(&"[ipv4-addr:value ISSUBSET '203.0.113.0/24']"));
    assert!(patterns
        .contains(&"[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']"));
    assert!(patterns.contains(&"[autonomous-system:number = 64496]"));
}

#[test]
fn cve_becomes_a_vulnerability_with_its_reference() {
    let bundle = export_incident(&producer(), &incident());
    let v = of_type(&bundle, "vulnerability");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["name"], "CVE-2023-4966");
    assert_eq!(
        v[0]["external_references"],
        serde_json::json!([{ "source_name": "cve", "external_id": "CVE-2023-4966" }])
    );
}

#[test]
fn report_lists_every_other_object() {
    let bundle = export_incident(&producer(), &incident());
    let report = of_type(&bundle, "report")[0];
    let mut listed: Vec<&str> = report["object_refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let mut others: Vec<&str> = ids(&bundle)
        .into_iter()
        .filter(|id| !id.starts_with("report--"))
        .collect();
    listed.sort();
    others.sort();
    assert_eq!(listed, others);
}

/// What a TAXII server needs to send each object once: the bundle's objects, in order, each with who shares it.
#[test]
fn incident_objects_say_who_shares_them() {
    let inc = incident();
    let bundle = export_incident(&producer(), &inc);
    let listed = export_incident_objects(&producer(), &inc);
    let listed_ids: Vec<&str> = listed.iter().map(|(o, _)| o["id"].as_str().unwrap()).collect();
    assert_eq!(listed_ids, ids(&bundle));
    for (o, sharing) in &listed {
        let expected = match o["type"].as_str().unwrap() {
            "marking-definition" | "extension-definition" => Sharing::Every,
            "identity" if o["name"] == producer().name => Sharing::Every,
            "identity" => Sharing::Reporter,
            "incident" | "task" | "indicator" | "sighting" | "relationship" | "report" => Sharing::Own,
            "vulnerability" => Sharing::Observable {
                kind: "cve".into(),
                value: "CVE-2023-4966".into(),
            },
            _ => {
                assert!(matches!(sharing, Sharing::Observable { .. }), "{o}");
                continue;
            }
        };
        assert_eq!(*sharing, expected, "{o}");
    }
    // An observable's SCO is tied to that observable.
    let ip = listed
        .iter()
        .find(|(o, _)| o["type"] == "ipv4-addr" && o["value"] == "198.51.100.3")
        .unwrap();
    assert_eq!(
        ip.1,
        Sharing::Observable {
            kind: "ipv4".into(),
            value: "198.51.100.3".into()
        }
    );
}

#[test]
fn campaign_shares_objects_and_keeps_the_strictest_marking() {
    let bundle = export_campaign(&producer(), &campaign());
    let all = ids(&bundle);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(all.len(), unique.len(), "no object twice");
    assert_eq!(of_type(&bundle, "incident").len(), 3);
    assert_eq!(of_type(&bundle, "campaign").len(), 1);
    let campaign_id = of_type(&bundle, "campaign")[0]["id"].clone();
    let links = of_type(&bundle, "relationship")
        .into_iter()
        .filter(|r| r["source_ref"] == campaign_id)
        .count();
    assert_eq!(links, 3);
    // 198.51.100.3 is in the GREEN, AMBER and RED incidents.
    let ip = objects(&bundle)
        .iter()
        .find(|o| o["id"] == "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4")
        .unwrap();
    assert_eq!(
        ip["object_marking_refs"][0],
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    );
    let report = of_type(&bundle, "report")[0];
    assert_eq!(report["report_types"], serde_json::json!(["campaign"]));
    assert_eq!(report["object_marking_refs"][0], baluarte_tlp_id(Tlp::Red));
}

fn baluarte_tlp_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        _ => unreachable!(),
    }
}
