//! Times are stored as microseconds since the Unix epoch, UTC; civil time is computed with jiff in the
//! entity's IANA time zone.

use jiff::{tz::TimeZone, Timestamp};

pub type Micros = i64;

pub fn now() -> Micros {
    Timestamp::now().as_microsecond()
}

pub fn to_timestamp(us: Micros) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// RFC 3339 in UTC, for APIs.
pub fn rfc3339(us: Micros) -> String {
    to_timestamp(us).strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// "2026-11-21 08:31" in the given zone, for pages.
pub fn local_display(us: Micros, zone: &str) -> String {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    to_timestamp(us).to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

pub fn is_valid_zone(zone: &str) -> bool {
    TimeZone::get(zone).is_ok()
}

pub const HOUR: Micros = 3_600_000_000;
pub const DAY: Micros = 24 * HOUR;

/// Serde for [`Micros`] as RFC 3339 text, so API clients see times, not integers.
pub mod rfc3339_serde {
    use super::Micros;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(us: &Micros, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339(*us))
    }

    pub mod option {
        use super::super::Micros;
        use serde::Serializer;
        pub fn serialize<S: Serializer>(us: &Option<Micros>, s: S) -> Result<S::Ok, S::Error> {
            match us {
                Some(us) => s.serialize_str(&super::super::rfc3339(*us)),
                None => s.serialize_none(),
            }
        }
    }
}
