//! The served OpenAPI document against the server's own serde: every vocabulary's schema lists exactly
//! the values the server writes and reads.

use baluarte_core::incident::{DeadlineState, Pap, Severity, Status};
use baluarte_core::model::{EntityKind, Purpose, Role, Tlp};
use baluarte_core::FieldCode;
use serde::Serialize;
use serde_json::Value;

fn document() -> Value {
    serde_json::to_value(super::openapi()).unwrap_or_default()
}

/// The `enum` of a component schema, as strings.
fn schema_enum(doc: &Value, name: &str) -> Vec<String> {
    doc["components"]["schemas"][name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("components.schemas.{name} has no enum"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

/// What serde writes for each value.
fn wire<T: Serialize>(all: &[T]) -> Vec<String> {
    all.iter()
        .map(|v| match serde_json::to_value(v) {
            Ok(Value::String(s)) => s,
            other => panic!("not a string: {other:?}"),
        })
        .collect()
}

#[test]
fn vocabulary_schemas_list_the_wire_names() {
    let doc = document();
    let cases: Vec<(&str, Vec<String>, Vec<&str>)> = vec![
        ("Role", wire(Role::ALL), Role::ALL.iter().map(|v| v.as_str()).collect()),
        (
            "EntityKind",
            wire(EntityKind::ALL),
            EntityKind::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        ("Tlp", wire(Tlp::ALL), Tlp::ALL.iter().map(|v| v.as_str()).collect()),
        (
            "Purpose",
            wire(Purpose::ALL),
            Purpose::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "Status",
            wire(Status::ALL),
            Status::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        (
            "Severity",
            wire(Severity::ALL),
            Severity::ALL.iter().map(|v| v.as_str()).collect(),
        ),
        ("Pap", wire(Pap::ALL), Pap::ALL.iter().map(|v| v.as_str()).collect()),
        (
            "FieldCode",
            wire(FieldCode::ALL),
            FieldCode::ALL.iter().map(|v| v.as_str()).collect(),
        ),
    ];
    for (name, serde_names, as_str) in cases {
        assert_eq!(serde_names, as_str, "{name}: serde and as_str disagree");
        assert_eq!(
            schema_enum(&doc, name),
            serde_names,
            "{name}: the document's enum is not serde's"
        );
    }
    assert_eq!(schema_enum(&doc, "DeadlineState"), wire(&DeadlineState::ALL));
}

/// Every vocabulary value the server reads back parses from the document's names.
#[test]
fn vocabulary_schema_values_deserialize() {
    let doc = document();
    for name in ["Role", "EntityKind", "Tlp", "Purpose", "Status", "Severity", "Pap"] {
        for v in schema_enum(&doc, name) {
            let json = Value::String(v.clone());
            let ok = match name {
                "Role" => serde_json::from_value::<Role>(json).is_ok(),
                "EntityKind" => serde_json::from_value::<EntityKind>(json).is_ok(),
                "Tlp" => serde_json::from_value::<Tlp>(json).is_ok(),
                "Purpose" => serde_json::from_value::<Purpose>(json).is_ok(),
                "Status" => serde_json::from_value::<Status>(json).is_ok(),
                "Severity" => serde_json::from_value::<Severity>(json).is_ok(),
                _ => serde_json::from_value::<Pap>(json).is_ok(),
            };
            assert!(ok, "{name}: the document offers {v:?}, which the server refuses");
        }
    }
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Every operation of the document: (`METHOD /path`, the operation).
fn operations(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((format!("{} {path}", m.to_uppercase()), op.clone()));
            }
        }
    }
    out
}

/// Errors are served as `application/problem+json` with the Problem schema: so the document says.
#[test]
fn every_error_response_is_problem_json() {
    let doc = document();
    for (name, op) in operations(&doc) {
        for (status, res) in op["responses"].as_object().into_iter().flatten() {
            if !status.starts_with('4') && !status.starts_with('5') {
                continue;
            }
            let content = res["content"].as_object().cloned().unwrap_or_default();
            let types: Vec<&String> = content.keys().collect();
            assert_eq!(types, ["application/problem+json"], "{name} {status}: content types");
            assert_eq!(
                content["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                "{name} {status}: schema"
            );
            assert!(
                res["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{name} {status}: no description"
            );
        }
    }
}

/// What every operation of a given shape can answer whatever its handler: 401 without valid
/// credentials, 400/413/415/422 for a JSON body (malformed, too large, not JSON, wrong fields), 400 for
/// a query string that does not parse.
#[test]
fn standard_error_responses_are_documented() {
    let doc = document();
    for (name, op) in operations(&doc) {
        let responses = op["responses"].as_object().cloned().unwrap_or_default();
        let has = |s: &str| responses.contains_key(s);
        let public = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().all(|r| r == &serde_json::json!({})));
        if !public {
            assert!(has("401"), "{name}: 401 undocumented");
        }
        let json_body = op["requestBody"]["content"].get("application/json").is_some();
        if json_body {
            for s in ["400", "413", "415", "422"] {
                assert!(has(s), "{name}: {s} undocumented for its JSON body");
            }
        }
        let query = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
        if query {
            assert!(has("400"), "{name}: 400 undocumented for its query string");
        }
    }
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// What the services refuse, the request schemas state (schemathesis found each of these accepted by
/// the document and refused by the server).
#[test]
fn request_schemas_state_the_service_rules() {
    let doc = document();
    assert_eq!(
        strings(&schema(&doc, "MePatch")["properties"]["lang"]["enum"]),
        ["es", "en"]
    );
    let working: Vec<&str> = Status::WORKING.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        strings(&schema(&doc, "StatusInput")["properties"]["status"]["enum"]),
        working
    );
    let contact_tlp = strings(&schema(&doc, "ContactInput")["properties"]["tlp"]["enum"]);
    assert!(
        !contact_tlp.is_empty() && !contact_tlp.contains(&"RED".to_string()),
        "{contact_tlp:?}"
    );
    let days = &schema(&doc, "TokenInput")["properties"]["expires_in_days"];
    assert_eq!(
        (days["minimum"].as_i64(), days["maximum"].as_i64()),
        (Some(1), Some(365))
    );
    assert_eq!(schema(&doc, "TokenInput")["properties"]["purposes"]["minItems"], 1);
    for (name, field, min) in [
        ("NoteInput", "body", 1),
        ("TaskInput", "title", 2),
        ("RejectInput", "reason", 3),
        ("CampaignInput", "name", 3),
        ("SectorInput", "name_es", 2),
        ("ContactInput", "phone", 5),
        ("UserInput", "name", 2),
        ("ReportInput", "title", 3),
        ("CloseInput", "resolution", 3),
    ] {
        let p = &schema(&doc, name)["properties"][field];
        assert_eq!(p["minLength"], min, "{name}.{field}: {p}");
        assert!(
            p["pattern"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}.{field}: no pattern"
        );
    }
    let classes: Vec<String> = baluarte_core::incident::rsit().iter().map(|c| c.id.clone()).collect();
    assert_eq!(
        strings(&schema(&doc, "TriageInput")["properties"]["rsit_class"]["enum"]),
        classes
    );
    // The verdicts particular to an operation.
    assert!(doc["paths"]["/me/totp/confirm"]["post"]["responses"]
        .get("409")
        .is_some());
    for path in ["/users", "/tokens", "/audit"] {
        assert!(
            doc["paths"][path]["get"]["responses"].get("404").is_some(),
            "{path}: 404"
        );
    }
}
