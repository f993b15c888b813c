//! Baluarte's deadline engine: when an entity must send each stage of an incident report.
//!
//! Regulations differ in what they ask and when, so deadlines are data: a [`Profile`] lists ordered
//! [`Stage`]s, each due a duration ([`Due`]) after an [`Anchor`] (detection, the previous stage, or a CSIRT
//! request). Shipped profiles come from the embedded `profiles.toml` ([`builtin_profiles`]); more can be
//! loaded with [`parse_profiles`], which validates them.
//!
//! [`schedule`] turns a profile and a case's [`CaseFacts`] into a [`Schedule`] of due times and
//! [`DeadlineState`]s, computed in the entity's time zone with a business-day [`Calendar`];
//! [`reminders_between`] says which notifications to send in a time window. The crate is pure: no clock,
//! database or I/O; callers pass `now`.
//!
//! Time rules, in short: hour deadlines are exact elapsed time (DST changes do not stretch them);
//! business-day deadlines end at 23:59:59 local time on the Nth business day after the anchor's local date;
//! month deadlines keep the local wall-clock time.

mod calendar;
mod profile;
mod reminders;
mod schedule;

pub use calendar::Calendar;
pub use profile::{
    builtin_profiles, parse_profiles, validate_profiles, Anchor, Applicability, Due, Location, Profile, ProfileError,
    ProfileErrorKind, Stage, MAX_BUSINESS_DAYS, MAX_HOURS, MAX_MONTHS,
};
pub use reminders::{reminders_between, Reminder, ReminderKind};
pub use schedule::{schedule, CaseFacts, DeadlineState, Schedule, StageStatus, MAX_OCCURRENCES};
