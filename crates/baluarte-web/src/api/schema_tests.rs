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
        ("EntityKind", wire(EntityKind::ALL), EntityKind::ALL.iter().map(|v| v.as_str()).collect()),
        ("Tlp", wire(Tlp::ALL), Tlp::ALL.iter().map(|v| v.as_str()).collect()),
        ("Purpose", wire(Purpose::ALL), Purpose::ALL.iter().map(|v| v.as_str()).collect()),
        ("Status", wire(Status::ALL), Status::ALL.iter().map(|v| v.as_str()).collect()),
        ("Severity", wire(Severity::ALL), Severity::ALL.iter().map(|v| v.as_str()).collect()),
        ("Pap", wire(Pap::ALL), Pap::ALL.iter().map(|v| v.as_str()).collect()),
        ("FieldCode", wire(FieldCode::ALL), FieldCode::ALL.iter().map(|v| v.as_str()).collect()),
    ];
    for (name, serde_names, as_str) in cases {
        assert_eq!(serde_names, as_str, "{name}: serde and as_str disagree");
        assert_eq!(schema_enum(&doc, name), serde_names, "{name}: the document's enum is not serde's");
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
