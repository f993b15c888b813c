//! Deterministic STIX identifiers and timestamp formatting.

use jiff::Timestamp;
use serde_json::Value;
use uuid::Uuid;

/// Namespace under which Baluarte derives the ids of its SDOs, SROs, SMOs and bundles from its own ids.
/// Fixed forever: changing it would give every object we ever shared a new identity.
const BALUARTE_NAMESPACE: Uuid = uuid::uuid!("222896df-6945-47d9-b704-032c9bda41b6");

/// The namespace STIX 2.1 §2.9 fixes for deterministic SCO ids.
const SCO_NAMESPACE: Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// Created/modified time of objects whose content does not depend on one incident (identities, the
/// vulnerability for a CVE, our extension definition). A fixed value keeps every export of the same object
/// the same version, whichever incident it travels with.
pub(crate) const EPOCH: &str = "2026-01-01T00:00:00.000Z";

/// The id of a non-SCO object of `stix_type`, derived from `parts` (our ids and the like).
///
/// The bytes are a UUIDv5 of the parts under [`BALUARTE_NAMESPACE`], stamped as version 4: STIX 2.1 says
/// SDOs, SROs and bundles SHOULD use UUIDv4 and stix2-validator's strict mode enforces it (check 103), while
/// re-exporting must give the same id. A hash output is as unpredictable as the random bits v4 asks for.
pub(crate) fn object_id(stix_type: &str, parts: &[&str]) -> String {
    let name: Vec<Value> = std::iter::once(stix_type)
        .chain(parts.iter().copied())
        .map(Value::from)
        .collect();
    let hashed = Uuid::new_v5(&BALUARTE_NAMESPACE, Value::Array(name).to_string().as_bytes());
    let uuid = uuid::Builder::from_random_bytes(hashed.into_bytes()).into_uuid();
    format!("{stix_type}--{uuid}")
}

/// The STIX 2.1 §2.9 id of an SCO whose ID contributing properties, serialised as canonical JSON (RFC 8785),
/// are `canonical`.
pub(crate) fn sco_id(stix_type: &str, canonical: &str) -> String {
    format!("{stix_type}--{}", Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes()))
}

/// `{"<key>":<string>}` in canonical JSON. serde_json escapes strings exactly as RFC 8785 does (short escapes,
/// lowercase `\u00xx` for other controls, everything else literal UTF-8).
pub(crate) fn canonical_single(key: &str, value: &str) -> String {
    format!("{{{}:{}}}", Value::from(key), Value::from(value))
}

/// A STIX timestamp: UTC, millisecond precision, `Z`.
pub(crate) fn stix_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_stable_v4_shaped_and_distinct() {
        let a = object_id("incident", &["x"]);
        assert_eq!(a, object_id("incident", &["x"]));
        assert_ne!(a, object_id("incident", &["y"]));
        assert_ne!(object_id("report", &["a", "b"]), object_id("report", &["ab"]));
        let uuid = Uuid::parse_str(a.trim_start_matches("incident--")).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
    }

    #[test]
    fn timestamps_have_millisecond_precision() {
        let ts: Timestamp = "2026-03-04T05:06:07.123456789Z".parse().unwrap();
        assert_eq!(stix_time(ts), "2026-03-04T05:06:07.123Z");
        let ts: Timestamp = "2026-03-04T05:06:07Z".parse().unwrap();
        assert_eq!(stix_time(ts), "2026-03-04T05:06:07.000Z");
        // Out of STIX's range, but formatting must not panic.
        assert!(!stix_time(Timestamp::MIN).is_empty());
        assert!(!stix_time(Timestamp::MAX).is_empty());
    }

    #[test]
    fn canonical_json_escapes_like_rfc8785() {
        assert_eq!(
            canonical_single("value", "a\"b\\c\u{1}é"),
            "{\"value\":\"a\\\"b\\\\c\\u0001é\"}"
        );
    }
}
