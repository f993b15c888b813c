//! Audit digests as the shipped binary computes them. This crate's build links `evtx`, which turns on
//! serde_json's `preserve_order`: here a JSON object keeps its keys in insertion order, as it does in
//! the running server, so a digest that depended on key order would show it here.
#![allow(clippy::unwrap_used)]

use baluarte_core::audit;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The same record state, with its keys (and a nested object's) inserted in the given order.
fn state(order: &[&str]) -> Option<Value> {
    let mut inner = Map::new();
    for k in order {
        inner.insert(format!("n_{k}"), json!(k.len()));
    }
    let mut map = Map::new();
    for k in order {
        let v = if *k == "tlp" {
            Value::Object(inner.clone())
        } else {
            json!(format!("v-{k}"))
        };
        map.insert((*k).to_string(), v);
    }
    Some(Value::Object(map))
}

#[test]
fn a_digest_does_not_depend_on_key_order() {
    let a = state(&["name", "tlp", "active", "email"]);
    let b = state(&["email", "active", "tlp", "name"]);
    assert_eq!(a, b, "the same content");
    assert_eq!(audit::digest(&a), audit::digest(&b));
    // And it is the SHA-256 of the canonical text: keys sorted at every level, no whitespace.
    let canonical = r#"{"active":"v-active","email":"v-email","name":"v-name","tlp":{"n_active":6,"n_email":5,"n_name":4,"n_tlp":3}}"#;
    assert_eq!(audit::digest(&a), hex::encode(Sha256::digest(canonical)));
}

#[test]
fn changed_fields_do_not_depend_on_key_order() {
    let before = state(&["name", "tlp", "active", "email"]);
    let mut after = state(&["email", "active", "tlp", "name"]);
    if let Some(Value::Object(m)) = &mut after {
        m.insert("active".into(), json!(false));
    }
    assert_eq!(audit::changed_fields(&before, &after), vec!["active"]);
    assert!(audit::changed_fields(&before, &state(&["tlp", "name", "email", "active"])).is_empty());
}
