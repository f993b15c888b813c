//! The query string of the objects, manifest, object and versions endpoints: `limit`, `next` and the
//! filters of TAXII 2.1 §3.4. A value the server cannot read is a 400 whose description starts with the
//! parameter's name.

use super::{TaxiiError, TaxiiResult, DEFAULT_PAGE, MAX_PAGE};
use axum::http::StatusCode;
use baluarte_core::service::{TaxiiCursor, TaxiiFilter};
use baluarte_core::time::Micros;

/// Parsed page parameters: `limit`, `next` and the TAXII 2.1 §3.4 filters.
pub(super) struct PageArgs {
    pub limit: usize,
    pub next: Option<TaxiiCursor>,
    pub filter: TaxiiFilter,
}

fn bad_request(description: impl Into<String>) -> TaxiiError {
    TaxiiError::new(StatusCode::BAD_REQUEST, description)
}

/// The query string's parameters. A parameter given twice is refused, except the `match[...]` ones, whose
/// values add up (TAXII lists them comma-separated; some clients repeat the parameter instead). Other
/// parameters than TAXII's are ignored; an unknown `match[...]` is refused.
pub(super) fn page_args(pairs: Vec<(String, String)>) -> TaxiiResult<PageArgs> {
    let mut single: Vec<(&str, String)> = Vec::new();
    let mut matches: Vec<(&str, Vec<String>)> = Vec::new();
    for (key, value) in pairs {
        let one = match key.as_str() {
            "limit" => Some("limit"),
            "next" => Some("next"),
            "added_after" => Some("added_after"),
            _ => None,
        };
        if let Some(k) = one {
            if single.iter().any(|(n, _)| *n == k) {
                return Err(bad_request(format!("{k}: given more than once")));
            }
            single.push((k, value));
            continue;
        }
        let name = match key.as_str() {
            "match[id]" => "match[id]",
            "match[type]" => "match[type]",
            "match[version]" => "match[version]",
            "match[spec_version]" => "match[spec_version]",
            k if k.starts_with("match[") => {
                return Err(bad_request(format!(
                    "{}: this server filters on match[id], match[type], match[version] and match[spec_version]",
                    k.chars().take(60).collect::<String>()
                )))
            }
            _ => continue,
        };
        let items = value.split(',').map(|v| v.trim().to_string()).collect::<Vec<_>>();
        if items.iter().any(String::is_empty) {
            return Err(bad_request(format!("{name}: an empty value")));
        }
        match matches.iter_mut().find(|(n, _)| *n == name) {
            Some((_, all)) => all.extend(items),
            None => matches.push((name, items)),
        }
    }
    let param = |name: &str| {
        single
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let listed = |name: &str| {
        matches
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let limit = match param("limit") {
        None => DEFAULT_PAGE,
        Some(s) => match s.parse::<u64>() {
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE),
            _ => return Err(bad_request("limit: must be a positive whole number")),
        },
    };
    let next = match param("next") {
        None => None,
        Some(n) => Some(TaxiiCursor::decode(n).ok_or_else(|| bad_request("next: not a cursor this server gave"))?),
    };
    let added_after = param("added_after").map(|s| timestamp("added_after", s)).transpose()?;
    let ids = listed("match[id]");
    if let Some(bad) = ids.iter().find(|i| !is_stix_id(i)) {
        return Err(bad_request(format!(
            "match[id]: `{}` is not a STIX identifier (type--UUID)",
            clip(bad)
        )));
    }
    let types = listed("match[type]");
    if let Some(bad) = types.iter().find(|t| !is_stix_type(t)) {
        return Err(bad_request(format!(
            "match[type]: `{}` is not a STIX type (3 to 250 lowercase letters, digits and hyphens)",
            clip(bad)
        )));
    }
    let spec_versions = listed("match[spec_version]");
    if let Some(bad) = spec_versions.iter().find(|v| !is_spec_version(v)) {
        return Err(bad_request(format!(
            "match[spec_version]: `{}` is not a STIX version such as 2.1",
            clip(bad)
        )));
    }
    Ok(PageArgs {
        limit,
        next,
        filter: TaxiiFilter {
            added_after,
            ids,
            types,
            versions: versions(listed("match[version]"))?,
            spec_versions,
        },
    })
}

/// `match[version]`: `last`, `first` and `all` admit every object (we keep one version of each), so only a
/// list of nothing but timestamps filters.
fn versions(items: Vec<String>) -> TaxiiResult<Option<Vec<Micros>>> {
    let mut stamps = Vec::new();
    let mut keyword = items.is_empty();
    for v in &items {
        match v.as_str() {
            "last" | "first" | "all" => keyword = true,
            _ => stamps.push(timestamp("match[version]", v).map_err(|_| {
                bad_request(format!(
                    "match[version]: `{}` is neither last, first, all nor an RFC 3339 timestamp",
                    clip(v)
                ))
            })?),
        }
    }
    Ok((!keyword).then_some(stamps))
}

fn timestamp(param: &str, s: &str) -> TaxiiResult<Micros> {
    s.parse::<jiff::Timestamp>().map(|t| t.as_microsecond()).map_err(|_| {
        bad_request(format!(
            "{param}: must be an RFC 3339 timestamp such as 2026-01-01T00:00:00.000Z"
        ))
    })
}

/// `type--UUID`, as STIX 2.1 §2.9 writes identifiers.
fn is_stix_id(s: &str) -> bool {
    s.split_once("--")
        .is_some_and(|(t, u)| is_stix_type(t) && u.len() == 36 && uuid::Uuid::parse_str(u).is_ok())
}

/// STIX 2.1 §2.8 type names (custom ones included): 3 to 250 of a-z, 0-9 and `-`.
fn is_stix_type(s: &str) -> bool {
    (3..=250).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_spec_version(s: &str) -> bool {
    s.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && (a.len() + b.len()) <= 6
            && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    })
}

/// A caller's value, shortened for an error message.
fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}
