//! Computing a case's deadlines from a profile and the facts recorded so far.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::profile::{Anchor, Due, Profile, Stage};
use crate::reminders::reminder_times;

/// A recurring stage never yields more occurrences than this, whatever the facts say.
pub const MAX_OCCURRENCES: u32 = 400;

/// What is known about one incident case, as recorded by the platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// When the entity detected the incident.
    pub detected_at: Timestamp,
    /// How long the service interruption lasted; `None` when not (yet) known.
    pub interruption_minutes: Option<u32>,
    /// Each stage the entity sent, by stage id, in any order.
    pub submissions: Vec<(String, Timestamp)>,
    /// Each time the national CSIRT requested a stage, by stage id, in any order.
    pub csirt_requests: Vec<(String, Timestamp)>,
    /// When the case was closed.
    pub closed_at: Option<Timestamp>,
}

/// Where one occurrence of a stage stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// The anchor is not known yet (e.g. the CSIRT has not requested the stage).
    Waiting,
    /// Due in the future, not yet within its reminder window.
    Pending,
    /// Not submitted and within the largest reminder window (or the last 25% of the time when the stage
    /// has no reminders).
    DueSoon,
    /// Not submitted and past its due time.
    Overdue,
    MetOnTime,
    MetLate,
    /// The profile does not cover this incident, or the case closed (or, for a recurring stage, the next
    /// stage was submitted) before this occurrence fell due.
    NotApplicable,
}

impl DeadlineState {
    /// The snake_case name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineState::Waiting => "waiting",
            DeadlineState::Pending => "pending",
            DeadlineState::DueSoon => "due_soon",
            DeadlineState::Overdue => "overdue",
            DeadlineState::MetOnTime => "met_on_time",
            DeadlineState::MetLate => "met_late",
            DeadlineState::NotApplicable => "not_applicable",
        }
    }

    /// How much a list should draw attention to this state; higher first:
    /// Overdue > DueSoon > Pending > MetLate > Waiting > MetOnTime > NotApplicable. A late submission ranks
    /// above waiting so a case with a breach stays visible; waiting ranks above met because a request may
    /// still come.
    pub fn urgency(self) -> u8 {
        match self {
            DeadlineState::Overdue => 6,
            DeadlineState::DueSoon => 5,
            DeadlineState::Pending => 4,
            DeadlineState::MetLate => 3,
            DeadlineState::Waiting => 2,
            DeadlineState::MetOnTime => 1,
            DeadlineState::NotApplicable => 0,
        }
    }

    /// Whether the entity still has to send this occurrence (pending, due soon or overdue).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            DeadlineState::Pending | DeadlineState::DueSoon | DeadlineState::Overdue
        )
    }
}

/// One occurrence of a stage (always 1 unless the stage recurs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageStatus {
    pub stage_id: String,
    /// 1-based; a recurring stage has one status per occurrence.
    pub occurrence: u32,
    /// `None` while the anchor is unknown (see [`DeadlineState::Waiting`]).
    pub due_at: Option<Timestamp>,
    pub submitted_at: Option<Timestamp>,
    pub state: DeadlineState,
    /// The next reminder or "missed" notification after `now`, for open occurrences.
    pub next_reminder_at: Option<Timestamp>,
}

/// A case's deadlines under one profile, as of the `now` it was computed for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub profile_id: String,
    /// False when the profile does not cover the incident; every stage is then `NotApplicable`.
    pub applicable: bool,
    /// In profile order, occurrences of a recurring stage in order.
    pub stages: Vec<StageStatus>,
}

impl Schedule {
    /// The state a case list shows: the most urgent of all stages by [`DeadlineState::urgency`];
    /// `NotApplicable` for a profile without stages.
    pub fn worst(&self) -> DeadlineState {
        self.stages
            .iter()
            .map(|s| s.state)
            .max_by_key(|s| s.urgency())
            .unwrap_or(DeadlineState::NotApplicable)
    }

    /// The open occurrence with the earliest due time, overdue ones included: what the entity must send
    /// first.
    pub fn next_due(&self) -> Option<&StageStatus> {
        self.stages
            .iter()
            .filter(|s| s.state.is_open() && s.due_at.is_some())
            .min_by_key(|s| s.due_at)
    }
}

impl Due {
    /// The due time for an anchor, computed in the entity's zone `tz`. `None` only when the result falls
    /// outside the range jiff represents (years -9999..=9999).
    pub fn after(self, anchor: Timestamp, tz: &TimeZone, cal: &Calendar) -> Option<Timestamp> {
        match self {
            Due::Hours(n) => anchor.checked_add(SignedDuration::from_hours(i64::from(n))).ok(),
            Due::BusinessDays(n) => {
                let day = cal.add_business_days(tz.to_datetime(anchor).date(), n)?;
                end_of_local_day(day, tz)
            }
            Due::Months(n) => {
                let span = Span::new().try_months(i64::from(n)).ok()?;
                let local = tz.to_datetime(anchor).checked_add(span).ok()?;
                tz.to_ambiguous_timestamp(local).compatible().ok()
            }
        }
    }
}

/// 23:59:59 local. Mexican zones change clocks at 02:00, so this time always exists; `compatible` would
/// still resolve a zone that did otherwise.
fn end_of_local_day(day: Date, tz: &TimeZone) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(day.at(23, 59, 59, 0)).compatible().ok()
}

/// Computes every stage's deadline and state for a case, in the entity's time zone `tz`, as of `now`.
///
/// Rules beyond those documented on [`Anchor`] and [`Due`]:
/// - a stage anchored on `previous_stage` whose previous stage recurs counts from that stage's first
///   occurrence;
/// - when a stage was submitted more than once, the earliest submission counts (a recurring stage matches
///   submissions to occurrences in time order); the earliest CSIRT request counts;
/// - once the case is closed, an unsubmitted occurrence that was not yet due at closing becomes
///   `NotApplicable` and no longer reminds; one already overdue stays `Overdue`.
pub fn schedule(profile: &Profile, facts: &CaseFacts, tz: &TimeZone, cal: &Calendar, now: Timestamp) -> Schedule {
    let applicable = profile.applies.covers(facts.interruption_minutes);
    let ctx = Ctx { facts, tz, cal, now };
    let mut stages = Vec::new();
    // The instant the previous stage completed, or its due time while it has not.
    let mut previous_done: Option<Timestamp> = None;
    for (index, stage) in profile.stages.iter().enumerate() {
        let statuses = if applicable {
            ctx.stage_statuses(profile, index, stage, previous_done)
        } else {
            vec![ctx.not_applicable(stage)]
        };
        previous_done = statuses.first().and_then(|s| s.submitted_at.or(s.due_at));
        stages.extend(statuses);
    }
    Schedule {
        profile_id: profile.id.clone(),
        applicable,
        stages,
    }
}

struct Ctx<'a> {
    facts: &'a CaseFacts,
    tz: &'a TimeZone,
    cal: &'a Calendar,
    now: Timestamp,
}

/// One occurrence being evaluated. `start` is when its time began to run (the anchor, or the previous
/// occurrence's due time), used for the 25% due-soon window.
struct Occurrence {
    number: u32,
    start: Option<Timestamp>,
    due: Option<Timestamp>,
    submitted: Option<Timestamp>,
}

impl Ctx<'_> {
    fn stage_statuses(
        &self,
        profile: &Profile,
        index: usize,
        stage: &Stage,
        previous_done: Option<Timestamp>,
    ) -> Vec<StageStatus> {
        let anchor = self.anchor_time(stage, index, previous_done);
        let first_due = anchor.and_then(|a| stage.due.after(a, self.tz, self.cal));
        let submissions = submissions_of(self.facts, &stage.id);
        match (first_due, stage.repeat_every_hours) {
            // A zero period (only in an unvalidated profile) would repeat at the same instant: not recurring.
            (Some(first_due), Some(every)) if every > 0 => {
                let ended_at = earliest(self.facts.closed_at, next_stage_submitted(self.facts, profile, index));
                self.recurring(stage, anchor, first_due, every, &submissions, ended_at)
            }
            _ => {
                let occ = Occurrence {
                    number: 1,
                    start: anchor,
                    due: first_due,
                    submitted: submissions.first().copied(),
                };
                vec![self.status(stage, occ, self.facts.closed_at)]
            }
        }
    }

    fn anchor_time(&self, stage: &Stage, index: usize, previous_done: Option<Timestamp>) -> Option<Timestamp> {
        match stage.anchor {
            Anchor::Detection => Some(self.facts.detected_at),
            // Only an unvalidated profile puts this on its first stage; nothing precedes detection.
            Anchor::PreviousStage if index == 0 => Some(self.facts.detected_at),
            Anchor::PreviousStage => previous_done,
            Anchor::CsirtRequest => self
                .facts
                .csirt_requests
                .iter()
                .filter(|(id, _)| *id == stage.id)
                .map(|(_, at)| *at)
                .min(),
        }
    }

    /// Occurrences from the first due time every `every` hours: all those due up to `now` or already
    /// submitted, then the first open one after `now`, and none due after `ended_at` unless submitted.
    fn recurring(
        &self,
        stage: &Stage,
        anchor: Option<Timestamp>,
        first_due: Timestamp,
        every: u32,
        submissions: &[Timestamp],
        ended_at: Option<Timestamp>,
    ) -> Vec<StageStatus> {
        let step = SignedDuration::from_hours(i64::from(every));
        let mut out = Vec::new();
        let (mut start, mut due) = (anchor, first_due);
        for number in 1..=MAX_OCCURRENCES {
            let submitted = submissions.get(number as usize - 1).copied();
            if number > 1 && submitted.is_none() && ended_at.is_some_and(|end| due > end) {
                break;
            }
            out.push(self.status(
                stage,
                Occurrence {
                    number,
                    start,
                    due: Some(due),
                    submitted,
                },
                ended_at,
            ));
            if submitted.is_none() && due > self.now {
                break;
            }
            start = Some(due);
            match due.checked_add(step) {
                Ok(next) => due = next,
                Err(_) => break,
            }
        }
        out
    }

    fn status(&self, stage: &Stage, occ: Occurrence, ended_at: Option<Timestamp>) -> StageStatus {
        let state = state_of(stage, &occ, ended_at, self.now);
        let next_reminder_at = match occ.due {
            Some(due) if state.is_open() => reminder_times(stage, due)
                .into_iter()
                .map(|(at, _)| at)
                .find(|at| *at > self.now),
            _ => None,
        };
        StageStatus {
            stage_id: stage.id.clone(),
            occurrence: occ.number,
            due_at: occ.due,
            submitted_at: occ.submitted,
            state,
            next_reminder_at,
        }
    }

    fn not_applicable(&self, stage: &Stage) -> StageStatus {
        StageStatus {
            stage_id: stage.id.clone(),
            occurrence: 1,
            due_at: None,
            submitted_at: submissions_of(self.facts, &stage.id).first().copied(),
            state: DeadlineState::NotApplicable,
            next_reminder_at: None,
        }
    }
}

fn state_of(stage: &Stage, occ: &Occurrence, ended_at: Option<Timestamp>, now: Timestamp) -> DeadlineState {
    if let Some(submitted) = occ.submitted {
        return match occ.due {
            Some(due) if submitted > due => DeadlineState::MetLate,
            _ => DeadlineState::MetOnTime,
        };
    }
    let Some(due) = occ.due else {
        // Nothing will start the clock any more once the obligation has ended.
        return if ended_at.is_some() {
            DeadlineState::NotApplicable
        } else {
            DeadlineState::Waiting
        };
    };
    if ended_at.is_some_and(|end| due > end) {
        DeadlineState::NotApplicable
    } else if now > due {
        DeadlineState::Overdue
    } else if now >= due_soon_from(stage, occ.start, due) {
        DeadlineState::DueSoon
    } else {
        DeadlineState::Pending
    }
}

/// Start of the due-soon window: the largest reminder before `due`, else the last quarter of the time
/// between `start` and `due`.
fn due_soon_from(stage: &Stage, start: Option<Timestamp>, due: Timestamp) -> Timestamp {
    let window = match (stage.reminders_hours_before.iter().max(), start) {
        (Some(&hours), _) => SignedDuration::from_hours(i64::from(hours)),
        (None, Some(start)) => due.duration_since(start) / 4,
        (None, None) => SignedDuration::ZERO,
    };
    due.checked_sub(window).unwrap_or(Timestamp::MIN)
}

/// Submission times of a stage, earliest first.
fn submissions_of(facts: &CaseFacts, stage_id: &str) -> Vec<Timestamp> {
    let mut times: Vec<Timestamp> = facts
        .submissions
        .iter()
        .filter(|(id, _)| id == stage_id)
        .map(|(_, at)| *at)
        .collect();
    times.sort();
    times
}

fn next_stage_submitted(facts: &CaseFacts, profile: &Profile, index: usize) -> Option<Timestamp> {
    let next = profile.stages.get(index + 1)?;
    submissions_of(facts, &next.id).first().copied()
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
