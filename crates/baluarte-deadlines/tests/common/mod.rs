//! Helpers shared by the integration tests. Not every test file uses every helper.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use baluarte_deadlines::{builtin_profiles, CaseFacts, Profile, Schedule, StageStatus};
use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

pub const CDMX: &str = "America/Mexico_City";
pub const TIJUANA: &str = "America/Tijuana";
pub const CANCUN: &str = "America/Cancun";

pub fn tz(name: &str) -> TimeZone {
    TimeZone::get(name).expect("zone in the bundled tzdb")
}

/// The instant a wall-clock time names in a zone (the times used here are never ambiguous).
pub fn local(zone: &str, y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
    date(y, m, d).at(h, min, 0, 0).in_tz(zone).unwrap().timestamp()
}

pub fn zoned(ts: Timestamp, zone: &str) -> Zoned {
    ts.to_zoned(tz(zone))
}

pub fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

pub fn builtin(id: &str) -> Profile {
    builtin_profiles().into_iter().find(|p| p.id == id).unwrap()
}

pub fn facts(detected_at: Timestamp) -> CaseFacts {
    CaseFacts {
        detected_at,
        ..CaseFacts::default()
    }
}

pub fn submitted(stage: &str, at: Timestamp) -> (String, Timestamp) {
    (stage.to_owned(), at)
}

pub fn status<'a>(schedule: &'a Schedule, stage: &str, occurrence: u32) -> &'a StageStatus {
    schedule
        .stages
        .iter()
        .find(|s| s.stage_id == stage && s.occurrence == occurrence)
        .unwrap_or_else(|| panic!("no occurrence {occurrence} of `{stage}` in {schedule:#?}"))
}

pub fn due(schedule: &Schedule, stage: &str) -> Timestamp {
    status(schedule, stage, 1).due_at.unwrap()
}
