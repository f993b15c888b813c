//! Times are stored as microseconds since the Unix epoch, UTC; civil time is computed with jiff in the
//! entity's IANA time zone.

use jiff::{tz::TimeZone, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub type Micros = i64;

/// The one clock the platform reads. Time enters the services only through it: the server runs on the
/// system clock, tests on a manual clock they set, so that no test depends on the day it runs.
///
/// The storage handle ([`crate::db::Db`]) carries it, so a write transaction and its audit entry read
/// the same clock as the service that opened it.
#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    System,
    Manual(AtomicI64),
}

impl Clock {
    /// The operating system's clock, for the server and the command line.
    pub fn system() -> Self {
        Clock(Arc::new(Source::System))
    }

    /// A clock that stands still at `start` until it is [`set`](Clock::set) or
    /// [`advanced`](Clock::advance); clones share it.
    pub fn manual(start: Micros) -> Self {
        Clock(Arc::new(Source::Manual(AtomicI64::new(start))))
    }

    pub fn now(&self) -> Micros {
        match &*self.0 {
            #[allow(clippy::disallowed_methods)] // The one place the wall clock is read.
            Source::System => Timestamp::now().as_microsecond(),
            Source::Manual(at) => at.load(Ordering::SeqCst),
        }
    }

    pub fn now_timestamp(&self) -> Timestamp {
        to_timestamp(self.now())
    }

    pub fn is_manual(&self) -> bool {
        matches!(&*self.0, Source::Manual(_))
    }

    /// Move a manual clock to `at`. The system clock cannot be set: the call is refused with `false`.
    pub fn set(&self, at: Micros) -> bool {
        match &*self.0 {
            Source::System => false,
            Source::Manual(t) => {
                t.store(at, Ordering::SeqCst);
                true
            }
        }
    }

    /// Move a manual clock forward (or back, with a negative span); `false` on the system clock.
    pub fn advance(&self, by: Micros) -> bool {
        match &*self.0 {
            Source::System => false,
            Source::Manual(t) => {
                t.fetch_add(by, Ordering::SeqCst);
                true
            }
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(t) => write!(f, "Clock::Manual({})", rfc3339(t.load(Ordering::SeqCst))),
        }
    }
}

/// Parse an RFC 3339 time (`2026-11-20T16:00:00Z`) into microseconds.
pub fn parse_rfc3339(text: &str) -> Option<Micros> {
    text.trim().parse::<Timestamp>().ok().map(|t| t.as_microsecond())
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

pub const SECOND: Micros = 1_000_000;
pub const MINUTE: Micros = 60 * SECOND;
pub const HOUR: Micros = 3_600_000_000;
pub const DAY: Micros = 24 * HOUR;

/// A length of time as people read it, to the unit that matters: "2 d 3 h", "1 h 30 min", "10 min",
/// "45 s".
pub fn span(us: Micros) -> String {
    let us = us.max(0);
    if us >= DAY {
        format!("{} d {} h", us / DAY, us % DAY / HOUR)
    } else if us >= HOUR {
        format!("{} h {} min", us / HOUR, us % HOUR / MINUTE)
    } else if us >= MINUTE {
        format!("{} min", us / MINUTE)
    } else {
        format!("{} s", us / SECOND)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let start = parse_rfc3339("2026-11-20T16:00:00Z").unwrap_or_default();
        let clock = Clock::manual(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        assert!(other.advance(HOUR));
        assert_eq!(clock.now(), start + HOUR);
        assert!(clock.set(start - DAY));
        assert_eq!(other.now(), start - DAY);
        assert_eq!(rfc3339(clock.now()), "2026-11-19T16:00:00.000000Z");
    }

    #[test]
    fn the_system_clock_cannot_be_set() {
        let clock = Clock::system();
        assert!(!clock.set(0));
        assert!(!clock.advance(HOUR));
        assert!(!clock.is_manual());
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(2 * DAY + 3 * HOUR + 5 * MINUTE), "2 d 3 h");
        assert_eq!(span(HOUR + 30 * MINUTE), "1 h 30 min");
        assert_eq!(span(10 * MINUTE), "10 min");
        assert_eq!(span(45 * SECOND), "45 s");
        assert_eq!(span(-5), "0 s");
    }
}
