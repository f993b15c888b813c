//! Reminder notifications derived from a schedule.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::profile::{Profile, Stage};
use crate::schedule::Schedule;

/// A notification to send about one occurrence of a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub stage_id: String,
    pub occurrence: u32,
    pub due_at: Timestamp,
    /// When the notification is due to be sent.
    pub at: Timestamp,
    pub kind: ReminderKind,
}

/// Why a reminder is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// The deadline is this many hours away.
    Approaching { hours_before: u32 },
    /// The deadline passed without a submission (sent at the due time).
    Missed,
}

/// The reminders whose time falls in `(since, until]`, for occurrences still open in `schedule`.
///
/// A worker that runs periodically calls this with consecutive windows (`since` = the previous `until`) and
/// a schedule computed with `now = until`; each reminder then comes out exactly once. Submitted, waiting
/// and not-applicable occurrences (including everything after a case is closed) yield nothing, and so does
/// a schedule of another profile. Sorted by time.
pub fn reminders_between(schedule: &Schedule, profile: &Profile, since: Timestamp, until: Timestamp) -> Vec<Reminder> {
    if schedule.profile_id != profile.id || !schedule.applicable {
        return Vec::new();
    }
    let mut out = Vec::new();
    for status in schedule
        .stages
        .iter()
        .filter(|s| s.state.is_open() && s.submitted_at.is_none())
    {
        let (Some(due_at), Some(stage)) = (status.due_at, profile.stage(&status.stage_id)) else {
            continue;
        };
        for (at, kind) in reminder_times(stage, due_at) {
            if since < at && at <= until {
                out.push(Reminder {
                    stage_id: stage.id.clone(),
                    occurrence: status.occurrence,
                    due_at,
                    at,
                    kind,
                });
            }
        }
    }
    // Stable, so reminders at the same instant keep profile order.
    out.sort_by_key(|r| r.at);
    out
}

/// Every notification time of one occurrence, earliest first: one per distinct reminder, then the "missed"
/// notification at the due time.
pub(crate) fn reminder_times(stage: &Stage, due: Timestamp) -> Vec<(Timestamp, ReminderKind)> {
    let mut hours = stage.reminders_hours_before.clone();
    hours.sort_unstable_by(|a, b| b.cmp(a));
    hours.dedup();
    let mut times: Vec<(Timestamp, ReminderKind)> = hours
        .into_iter()
        .filter(|&h| h > 0)
        .filter_map(|h| {
            let at = due.checked_sub(SignedDuration::from_hours(i64::from(h))).ok()?;
            Some((at, ReminderKind::Approaching { hours_before: h }))
        })
        .collect();
    times.push((due, ReminderKind::Missed));
    times
}
