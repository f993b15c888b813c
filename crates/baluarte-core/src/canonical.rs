//! Canonical JSON: object keys sorted (by bytes) at every level, no insignificant whitespace, strings
//! and numbers as serde_json writes them. The same value gives the same text whatever order its maps
//! keep their keys in (serde_json's `preserve_order`, turned on by some dependency or not), so digests
//! and signatures over it are stable.

use serde_json::Value;

/// The canonical text of `v`.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write(out, value);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    #[test]
    fn keys_are_sorted_at_every_level_whatever_order_they_came_in() {
        let mut inner = Map::new();
        inner.insert("z".into(), json!(1));
        inner.insert("y".into(), json!("é\n\"q\""));
        let mut outer = Map::new();
        outer.insert("b".into(), json!([Value::Object(inner), 2.5, null, true]));
        outer.insert("a".into(), json!({}));
        assert_eq!(
            canonical_json(&Value::Object(outer)),
            r#"{"a":{},"b":[{"y":"é\n\"q\"","z":1},2.5,null,true]}"#
        );
    }
}
