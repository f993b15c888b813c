//! Reading partners' bundles.
//!
//! The bundle as a whole must be readable (size, UTF-8, JSON, a 2.1 bundle, object count): otherwise the
//! import stops with a [`StixError`]. Each object is then checked on its own; one that fails (bad id,
//! missing or malformed property, broken pattern) is skipped with its index, id and reason, and the rest
//! imports.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::error::StixError;
use crate::model::{Imported, ImportedIncident, ImportedIndicator, ImportedObservable, Skipped, Tlp};
use crate::pattern::{hash_kind, pattern_observables};
use crate::tlp;

/// Bounds on what one import may cost, and the TLP for objects without a TLP marking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest bundle read, in bytes (default 10 MiB).
    pub max_bytes: usize,
    /// Most entries in `objects` (default 10,000).
    pub max_objects: usize,
    /// The TLP given to objects that carry no TLP marking we recognise (default `None`: left unset for the
    /// caller to decide).
    pub default_tlp: Option<Tlp>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 10 * 1024 * 1024,
            max_objects: 10_000,
            default_tlp: None,
        }
    }
}

/// STIX 2.1 domain objects and relationship objects: these must say `spec_version: "2.1"` and have
/// `created`/`modified`.
const SDO_SRO_TYPES: [&str; 21] = [
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
    "relationship",
    "sighting",
];

/// Longest object id repeated in a skip reason; a hostile bundle should not fill our logs.
const MAX_ID_SHOWN: usize = 300;

/// Reads a STIX 2.1 bundle. See the module documentation for what stops the import and what skips an object.
pub fn parse_bundle(bytes: &[u8], limits: &Limits) -> Result<Imported, StixError> {
    let root = read_json(bytes, limits.max_bytes)?;
    let (bundle_id, objects) = bundle_parts(&root)?;
    if objects.len() > limits.max_objects {
        return Err(StixError::TooManyObjects {
            count: objects.len(),
            max: limits.max_objects,
        });
    }
    let mut out = Imported {
        bundle_id: bundle_id.to_string(),
        object_count: objects.len(),
        incidents: Vec::new(),
        indicators: Vec::new(),
        observables: Vec::new(),
        skipped: Vec::new(),
    };
    let mut checked = Vec::with_capacity(objects.len());
    for (index, value) in objects.iter().enumerate() {
        match check_object(value) {
            Ok(c) => checked.push(c),
            Err(fault) => out.skipped.push(Skipped {
                index,
                id: shown_id(value),
                reason: fault.0,
            }),
        }
    }
    let ctx = Context::new(&checked, limits.default_tlp);
    let mut latest = Latest::default();
    for c in &checked {
        ctx.convert(c, &mut out, &mut latest);
    }
    Ok(out)
}

fn read_json(bytes: &[u8], max_bytes: usize) -> Result<Value, StixError> {
    if bytes.len() > max_bytes {
        return Err(StixError::TooLarge {
            size: bytes.len(),
            max: max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| StixError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    // Some Windows tools start files with a byte-order mark, which JSON does not allow but means nothing.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| StixError::NotJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
    })
}

fn bundle_parts(root: &Value) -> Result<(&str, &[Value]), StixError> {
    let not = |why: String| StixError::NotABundle(why);
    let bundle = root
        .as_object()
        .ok_or_else(|| not("the top-level value is not an object".into()))?;
    match bundle.get("type") {
        Some(Value::String(t)) if t == "bundle" => {}
        Some(Value::String(t)) => return Err(not(format!("type is {:?}, expected \"bundle\"", clip(t)))),
        _ => return Err(not("type: missing or not a string".into())),
    }
    if bundle.get("spec_version").and_then(Value::as_str) == Some("2.0") {
        return Err(not("spec_version is \"2.0\"; only STIX 2.1 is read".into()));
    }
    let id = bundle
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| not("id: missing or not a string".into()))?;
    check_identifier(id, Some("bundle")).map_err(|e| not(format!("id: {e}")))?;
    let objects = match bundle.get("objects") {
        None => &[][..],
        Some(Value::Array(items)) => items.as_slice(),
        Some(_) => return Err(not("objects: not a list".into())),
    };
    Ok((id, objects))
}

fn shown_id(value: &Value) -> Option<String> {
    value.get("id").and_then(Value::as_str).map(clip)
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_ID_SHOWN) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Checking one object

/// Why an object was skipped: `property: problem`.
#[derive(Debug)]
struct Fault(String);

fn fault<T>(property: &str, problem: impl std::fmt::Display) -> Result<T, Fault> {
    Err(Fault(if property.is_empty() {
        problem.to_string()
    } else {
        format!("{property}: {problem}")
    }))
}

/// An object that passed its checks, with what we read from it.
struct Checked<'a> {
    id: &'a str,
    map: &'a Map<String, Value>,
    modified: Option<Timestamp>,
    content: Content,
}

enum Content {
    Incident {
        name: String,
        description: Option<String>,
        created: Timestamp,
    },
    Indicator {
        name: Option<String>,
        pattern: String,
        valid_from: Timestamp,
        observables: Vec<(String, String)>,
    },
    Observables(Vec<(String, String)>),
    Identity {
        name: String,
    },
    Marking(Option<Tlp>),
    Other,
}

fn check_object(value: &Value) -> Result<Checked<'_>, Fault> {
    let Some(map) = value.as_object() else {
        return fault("", "not a JSON object");
    };
    let ty = required_str(map, "type")?;
    check_type_name(ty).or_else(|e| fault("type", e))?;
    let id = required_str(map, "id")?;
    check_identifier(id, Some(ty)).or_else(|e| fault("id", e))?;
    let mut modified = None;
    if SDO_SRO_TYPES.contains(&ty) {
        spec_version(map, true)?;
        required_time(map, "created")?;
        modified = Some(required_time(map, "modified")?);
    }
    if map.contains_key("created_by_ref") {
        check_ref(map, "created_by_ref", Some("identity"))?;
    }
    id_list(map, "object_marking_refs", Some("marking-definition"), false)?;
    let content = check_content(ty, map)?;
    Ok(Checked {
        id,
        map,
        modified,
        content,
    })
}

fn check_content(ty: &str, map: &Map<String, Value>) -> Result<Content, Fault> {
    let content = match ty {
        "incident" => Content::Incident {
            name: required_str(map, "name")?.to_string(),
            description: optional_str(map, "description")?.map(str::to_string),
            created: required_time(map, "created")?,
        },
        "indicator" => check_indicator(map)?,
        "identity" => Content::Identity {
            name: required_str(map, "name")?.to_string(),
        },
        "marking-definition" => check_marking(map)?,
        "sighting" => check_sighting(map)?,
        "relationship" => {
            required_str(map, "relationship_type")?;
            check_ref(map, "source_ref", None)?;
            check_ref(map, "target_ref", None)?;
            Content::Other
        }
        "report" => {
            required_str(map, "name")?;
            required_time(map, "published")?;
            id_list(map, "object_refs", None, true)?;
            Content::Other
        }
        "grouping" => {
            required_str(map, "context")?;
            id_list(map, "object_refs", None, true)?;
            Content::Other
        }
        "campaign" => {
            required_str(map, "name")?;
            Content::Other
        }
        "vulnerability" => Content::Observables(cve_of(map, required_str(map, "name")?).into_iter().collect()),
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" | "file" | "autonomous-system" => {
            spec_version(map, false)?;
            Content::Observables(check_sco(ty, map)?)
        }
        _ => Content::Other,
    };
    Ok(content)
}

fn check_indicator(map: &Map<String, Value>) -> Result<Content, Fault> {
    let name = optional_str(map, "name")?.map(str::to_string);
    let pattern = required_str(map, "pattern")?;
    let pattern_type = required_str(map, "pattern_type")?;
    let valid_from = required_time(map, "valid_from")?;
    if let Some(until) = optional_time(map, "valid_until")? {
        if until <= valid_from {
            return fault("valid_until", "not after valid_from");
        }
    }
    // Other pattern languages (sigma, snort, yara, ...) are kept as text; we read only STIX patterns.
    let observables = match pattern_type {
        "stix" => pattern_observables(pattern).or_else(|e| fault("pattern", e))?,
        _ => Vec::new(),
    };
    Ok(Content::Indicator {
        name,
        pattern: pattern.to_string(),
        valid_from,
        observables,
    })
}

fn check_marking(map: &Map<String, Value>) -> Result<Content, Fault> {
    spec_version(map, true)?;
    required_time(map, "created")?;
    if !map.contains_key("extensions") {
        required_str(map, "definition_type")?;
        if !map.get("definition").is_some_and(Value::is_object) {
            return fault("definition", "missing or not an object");
        }
    }
    Ok(Content::Marking(tlp::from_definition(map)))
}

fn check_sighting(map: &Map<String, Value>) -> Result<Content, Fault> {
    check_ref(map, "sighting_of_ref", None)?;
    id_list(map, "where_sighted_refs", None, false)?;
    id_list(map, "observed_data_refs", Some("observed-data"), false)?;
    let first = optional_time(map, "first_seen")?;
    let last = optional_time(map, "last_seen")?;
    if let (Some(first), Some(last)) = (first, last) {
        if last < first {
            return fault("last_seen", "before first_seen");
        }
    }
    if let Some(count) = map.get("count") {
        if count.as_u64().is_none_or(|c| c > 999_999_999) {
            return fault("count", "not an integer from 0 to 999999999");
        }
    }
    Ok(Content::Other)
}

/// The observables of an SCO of a type we read, checking the properties STIX requires of it.
fn check_sco(ty: &str, map: &Map<String, Value>) -> Result<Vec<(String, String)>, Fault> {
    let kind = match ty {
        "ipv4-addr" | "ipv6-addr" => {
            let v = required_str(map, "value")?;
            let kind = if v.contains('/') {
                "cidr"
            } else if ty == "ipv4-addr" {
                "ipv4"
            } else {
                "ipv6"
            };
            return Ok(vec![(kind.to_string(), v.to_string())]);
        }
        "domain-name" => "domain",
        "url" => "url",
        "email-addr" => "email",
        "autonomous-system" => return asn_of(map),
        _ => return file_hashes(map),
    };
    Ok(vec![(kind.to_string(), required_str(map, "value")?.to_string())])
}

fn asn_of(map: &Map<String, Value>) -> Result<Vec<(String, String)>, Fault> {
    match map
        .get("number")
        .map(|n| n.as_u64().and_then(|n| u32::try_from(n).ok()))
    {
        Some(Some(n)) => Ok(vec![("asn".to_string(), format!("AS{n}"))]),
        Some(None) => fault("number", "not an integer from 0 to 4294967295"),
        None => fault("number", "missing"),
    }
}

fn file_hashes(map: &Map<String, Value>) -> Result<Vec<(String, String)>, Fault> {
    optional_str(map, "name")?;
    let hashes = match map.get("hashes") {
        None if map.contains_key("name") => return Ok(Vec::new()),
        None => return fault("hashes", "missing (a file needs hashes or a name)"),
        Some(Value::Object(h)) => h,
        Some(_) => return fault("hashes", "not an object"),
    };
    let mut out = Vec::new();
    for (algo, value) in hashes {
        let Some(value) = value.as_str() else {
            return fault(&format!("hashes.{algo}"), "not a string");
        };
        if let Some(kind) = hash_kind(algo) {
            out.push((kind.to_string(), value.to_string()));
        }
    }
    Ok(out)
}

/// The CVE id of a vulnerability: its `cve` external reference, else its name if that is a CVE id.
fn cve_of(map: &Map<String, Value>, name: &str) -> Option<(String, String)> {
    let from_refs = map
        .get("external_references")
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .filter(|r| {
                    r.get("source_name")
                        .and_then(Value::as_str)
                        .is_some_and(|s| s.eq_ignore_ascii_case("cve"))
                })
                .find_map(|r| r.get("external_id").and_then(Value::as_str))
        });
    let id = from_refs.filter(|c| is_cve(c)).or(Some(name).filter(|n| is_cve(n)))?;
    Some(("cve".to_string(), id.to_ascii_uppercase()))
}

fn is_cve(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    let (Some(prefix), Some(year), Some(num)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    prefix.eq_ignore_ascii_case("cve")
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------------------
// Property helpers

fn required_str<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, Fault> {
    match map.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => fault(name, "not a string"),
        None => fault(name, "missing"),
    }
}

fn optional_str<'a>(map: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Fault> {
    match map.get(name) {
        None => Ok(None),
        Some(_) => required_str(map, name).map(Some),
    }
}

fn spec_version(map: &Map<String, Value>, required: bool) -> Result<(), Fault> {
    match map.get("spec_version") {
        None if !required => Ok(()),
        None => fault("spec_version", "missing (STIX 2.0 objects are not read)"),
        Some(Value::String(v)) if v == "2.1" => Ok(()),
        Some(v) => fault("spec_version", format!("{} is not \"2.1\"", clip(&v.to_string()))),
    }
}

fn required_time(map: &Map<String, Value>, name: &str) -> Result<Timestamp, Fault> {
    let s = required_str(map, name)?;
    parse_time(s).ok_or_else(|| Fault(format!("{name}: {:?} is not an RFC 3339 timestamp", clip(s))))
}

fn optional_time(map: &Map<String, Value>, name: &str) -> Result<Option<Timestamp>, Fault> {
    match map.get(name) {
        None => Ok(None),
        Some(_) => required_time(map, name).map(Some),
    }
}

/// An RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`. STIX asks for `Z`, but an explicit offset
/// names the same instant, so it is not worth losing a partner's object over.
fn parse_time(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date_time = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !date_time {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let zone_ok = matches!(rest, "Z" | "z")
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest
                .bytes()
                .enumerate()
                .all(|(i, c)| i == 0 || i == 3 || c.is_ascii_digit()));
    if !zone_ok {
        return None;
    }
    s.parse().ok()
}

/// `<type>--<uuid>`, with the type part equal to `expected` when given.
fn check_identifier(id: &str, expected: Option<&str>) -> Result<(), String> {
    let Some((ty, uuid)) = id.rsplit_once("--") else {
        return Err(format!("{:?} is not of the form <type>--<uuid>", clip(id)));
    };
    if let Some(expected) = expected {
        if ty != expected {
            return Err(format!("{:?} does not start with \"{expected}--\"", clip(id)));
        }
    }
    check_type_name(ty).map_err(|e| format!("{:?}: {e}", clip(id)))?;
    // Only the hyphenated form: the uuid crate also accepts braced, URN and bare-hex forms.
    if uuid.len() != 36 || uuid::Uuid::try_parse(uuid).is_err() {
        return Err(format!("{:?} does not end in a UUID", clip(id)));
    }
    Ok(())
}

/// STIX 2.1 §3.1: 3–250 characters, lowercase ASCII letters, digits and hyphens.
fn check_type_name(ty: &str) -> Result<(), String> {
    let ok_chars = ty
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if (3..=250).contains(&ty.len()) && ok_chars && !ty.starts_with('-') && !ty.ends_with('-') {
        Ok(())
    } else {
        Err(format!("{:?} is not a valid STIX type name", clip(ty)))
    }
}

fn check_ref(map: &Map<String, Value>, name: &str, expected: Option<&str>) -> Result<(), Fault> {
    let id = required_str(map, name)?;
    check_identifier(id, expected).or_else(|e| fault(name, e))
}

/// A list of identifiers (of type `expected` when given); `required` also makes it non-empty.
fn id_list(map: &Map<String, Value>, name: &str, expected: Option<&str>, required: bool) -> Result<(), Fault> {
    let items = match map.get(name) {
        None if !required => return Ok(()),
        None => return fault(name, "missing"),
        Some(Value::Array(items)) => items,
        Some(_) => return fault(name, "not a list"),
    };
    if required && items.is_empty() {
        return fault(name, "empty");
    }
    for (i, item) in items.iter().enumerate() {
        let Some(id) = item.as_str() else {
            return fault(&format!("{name}[{i}]"), "not a string");
        };
        check_identifier(id, expected).or_else(|e| fault(&format!("{name}[{i}]"), e))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Conversion

/// What objects refer to: marking definitions and identities, by id.
struct Context<'a> {
    markings: HashMap<&'a str, Tlp>,
    identities: HashMap<&'a str, &'a str>,
    default_tlp: Option<Tlp>,
}

/// Where the newest version of each incident and indicator id sits in the output, so that a bundle carrying
/// several versions of one object yields the latest (STIX versions by `modified`).
#[derive(Default)]
struct Latest {
    incidents: HashMap<String, (Option<Timestamp>, usize)>,
    indicators: HashMap<String, (Option<Timestamp>, usize)>,
    /// `(stix_id, kind, value)` already in the output: the same SCO may come more than once.
    observables: HashSet<(String, String, String)>,
}

impl<'a> Context<'a> {
    fn new(checked: &'a [Checked<'a>], default_tlp: Option<Tlp>) -> Self {
        let mut markings = HashMap::new();
        let mut identities = HashMap::new();
        for c in checked {
            match &c.content {
                Content::Marking(Some(tlp)) => {
                    markings.insert(c.id, *tlp);
                }
                Content::Identity { name } => {
                    identities.insert(c.id, name.as_str());
                }
                _ => {}
            }
        }
        Context {
            markings,
            identities,
            default_tlp,
        }
    }

    /// The strictest TLP among the object's markings; the default when it has none we know.
    fn tlp(&self, map: &Map<String, Value>) -> Option<Tlp> {
        let refs = map.get("object_marking_refs").and_then(Value::as_array);
        let ids = refs.into_iter().flatten().filter_map(Value::as_str);
        ids.filter_map(|id| tlp::well_known(id).or_else(|| self.markings.get(id).copied()))
            .max()
            .or(self.default_tlp)
    }

    fn convert(&self, c: &Checked<'_>, out: &mut Imported, latest: &mut Latest) {
        let tlp = self.tlp(c.map);
        match &c.content {
            Content::Incident {
                name,
                description,
                created,
            } => {
                let created_by = c.map.get("created_by_ref").and_then(Value::as_str);
                let incident = ImportedIncident {
                    stix_id: c.id.to_string(),
                    name: name.clone(),
                    description: description.clone(),
                    created: *created,
                    tlp,
                    created_by: created_by.and_then(|id| self.identities.get(id)).map(|n| n.to_string()),
                };
                keep_latest(&mut out.incidents, &mut latest.incidents, c, incident);
            }
            Content::Indicator {
                name,
                pattern,
                valid_from,
                observables,
            } => {
                let indicator = ImportedIndicator {
                    stix_id: c.id.to_string(),
                    name: name.clone(),
                    pattern: pattern.clone(),
                    valid_from: *valid_from,
                    tlp,
                    observables: observables.clone(),
                };
                keep_latest(&mut out.indicators, &mut latest.indicators, c, indicator);
            }
            Content::Observables(found) => {
                for (kind, value) in found {
                    if latest
                        .observables
                        .insert((c.id.to_string(), kind.clone(), value.clone()))
                    {
                        out.observables.push(ImportedObservable {
                            stix_id: c.id.to_string(),
                            kind: kind.clone(),
                            value: value.clone(),
                            tlp,
                        });
                    }
                }
            }
            Content::Identity { .. } | Content::Marking(_) | Content::Other => {}
        }
    }
}

fn keep_latest<T>(list: &mut Vec<T>, seen: &mut HashMap<String, (Option<Timestamp>, usize)>, c: &Checked<'_>, item: T) {
    match seen.get_mut(c.id) {
        Some((modified, i)) => {
            if c.modified > *modified {
                *modified = c.modified;
                list[*i] = item;
            }
        }
        None => {
            seen.insert(c.id.to_string(), (c.modified, list.len()));
            list.push(item);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_timestamps() {
        for ok in [
            "2026-01-02T03:04:05Z",
            "2026-01-02T03:04:05.123456Z",
            "2026-01-02t03:04:05z",
            "2026-01-02T03:04:05-06:00",
        ] {
            assert!(parse_time(ok).is_some(), "{ok}");
        }
        for bad in [
            "2026-01-02",
            "2026-01-02 03:04:05Z",
            "2026-01-02T03:04:05",
            "2026-13-02T03:04:05Z",
            "2026-01-02T03:04:05.Z",
            "2026-01-02T03:04:05+0600",
        ] {
            assert!(parse_time(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn identifiers() {
        assert!(check_identifier("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Some("indicator")).is_ok());
        assert!(check_identifier("indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f", None).is_err());
        assert!(check_identifier("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Some("indicator")).is_err());
        assert!(check_identifier("Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", None).is_err());
        assert!(check_identifier("x-acme-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", None).is_ok());
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve("CVE-2024-3094"));
        assert!(is_cve("cve-2021-44228"));
        assert!(!is_cve("CVE-24-3094"));
        assert!(!is_cve("CVE-2024-12a"));
    }
}
