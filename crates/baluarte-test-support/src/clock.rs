//! The test clock.
//!
//! Every test store starts its manual [`Clock`] at the same instant, [`DEFAULT_NOW`], so a run is
//! repeatable. `BALUARTE_TEST_NOW` (RFC 3339) moves that instant: running the whole suite with it set a
//! year ahead shows that no test depends on the day it was written.

use baluarte_core::time::{self, Clock, Micros};

/// A Tuesday afternoon in Mexico City (17:00 UTC is 11:00 there), away from holidays and DST changes.
pub const DEFAULT_NOW: &str = "2027-06-15T17:00:00Z";

/// The variable that moves the start of every test clock.
pub const NOW_VARIABLE: &str = "BALUARTE_TEST_NOW";

/// The instant test clocks start at: `BALUARTE_TEST_NOW` when set, [`DEFAULT_NOW`] otherwise.
///
/// # Panics
/// When the variable is set but is not an RFC 3339 time: a mistyped value must not pass silently.
pub fn start() -> Micros {
    match std::env::var(NOW_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => time::parse_rfc3339(&text)
            .unwrap_or_else(|| panic!("{NOW_VARIABLE}={text:?} is not an RFC 3339 time such as {DEFAULT_NOW}")),
        _ => time::parse_rfc3339(DEFAULT_NOW).unwrap_or_default(),
    }
}

/// A new manual clock at [`start`].
pub fn clock() -> Clock {
    Clock::manual(start())
}

/// `hours` before the test clock's start, as the civil time a person types in `zone`
/// (`2027-06-14T11:00`, a form's `datetime-local` value).
pub fn local_hours_ago(hours: i64, zone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    time::to_timestamp(start() - hours * time::HOUR)
        .to_zoned(tz)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

/// `hours` before the test clock's start, in RFC 3339 (UTC).
pub fn rfc3339_hours_ago(hours: i64) -> String {
    time::rfc3339(start() - hours * time::HOUR)
}
