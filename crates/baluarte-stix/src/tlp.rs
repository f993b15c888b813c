//! TLP markings: the TLP 2.0 marking definitions OASIS publishes, and the STIX 2.1 built-in TLP 1.0 ones.

use serde_json::{json, Map, Value};

use crate::model::Tlp;

/// The OASIS extension that carries the TLP 2.0 level in a marking definition.
pub(crate) const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// Every level, for lookups in both directions.
const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

/// The marking-definition id OASIS assigned to a TLP 2.0 level (cti-stix-common-objects, tlp-2.0).
pub(crate) fn marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The value of the extension's `tlp_2_0` property.
fn tlp2_value(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "clear",
        Tlp::Green => "green",
        Tlp::Amber => "amber",
        Tlp::AmberStrict => "amber+strict",
        Tlp::Red => "red",
    }
}

/// The marking-definition object exactly as OASIS publishes it for `tlp`.
pub(crate) fn marking_definition(tlp: Tlp) -> Map<String, Value> {
    let value = json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": tlp.label(),
        "extensions": {
            TLP2_EXTENSION: { "extension_type": "property-extension", "tlp_2_0": tlp2_value(tlp) }
        }
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The level of a well-known marking-definition id: TLP 2.0, or the STIX 2.1 built-in TLP 1.0 markings
/// (§7.2.1.4), where WHITE became CLEAR.
pub(crate) fn well_known(id: &str) -> Option<Tlp> {
    if let Some(tlp) = ALL.into_iter().find(|t| marking_id(*t) == id) {
        return Some(tlp);
    }
    match id {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" => Some(Tlp::Clear),
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" => Some(Tlp::Green),
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" => Some(Tlp::Amber),
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" => Some(Tlp::Red),
        _ => None,
    }
}

/// The level a marking-definition object in a partner's bundle states, if it is a TLP marking: either the
/// TLP 2.0 extension or a STIX 2.1 `definition_type: tlp` definition.
pub(crate) fn from_definition(obj: &Map<String, Value>) -> Option<Tlp> {
    let tlp2 = obj
        .get("extensions")
        .and_then(|e| e.get(TLP2_EXTENSION))
        .and_then(|e| e.get("tlp_2_0"));
    if let Some(v) = tlp2.and_then(Value::as_str) {
        return ALL.into_iter().find(|t| tlp2_value(*t).eq_ignore_ascii_case(v));
    }
    if obj.get("definition_type").and_then(Value::as_str) != Some("tlp") {
        return None;
    }
    match obj
        .get("definition")
        .and_then(|d| d.get("tlp"))
        .and_then(Value::as_str)?
        .to_ascii_lowercase()
        .as_str()
    {
        "white" | "clear" => Some(Tlp::Clear),
        "green" => Some(Tlp::Green),
        "amber" => Some(Tlp::Amber),
        "amber+strict" => Some(Tlp::AmberStrict),
        "red" => Some(Tlp::Red),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_published_taxonomy_file() {
        // Copied from tlp2-stix-marking-ids.json (FIRST TLP 2.0 / OASIS tlp-2.0 extension).
        let published = [
            ("TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
            ("TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
            ("TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
            (
                "TLP:AMBER+STRICT",
                "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            ),
            ("TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
        ];
        for (tlp, (label, id)) in ALL.into_iter().zip(published) {
            assert_eq!(tlp.label(), label);
            assert_eq!(marking_id(tlp), id);
            assert_eq!(well_known(id), Some(tlp));
            assert_eq!(from_definition(&marking_definition(tlp)), Some(tlp));
        }
    }

    #[test]
    fn tlp1_white_is_clear() {
        assert_eq!(
            well_known("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Some(Tlp::Clear)
        );
        let def = json!({"definition_type": "tlp", "definition": {"tlp": "white"}});
        assert_eq!(from_definition(def.as_object().unwrap()), Some(Tlp::Clear));
    }
}
