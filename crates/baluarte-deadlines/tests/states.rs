//! Deadline states over a case's life, recurring stages and reminders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use baluarte_deadlines::{
    parse_profiles, reminders_between, schedule, Calendar, CaseFacts, DeadlineState, Profile, ReminderKind, Schedule,
    MAX_OCCURRENCES,
};
use common::*;
use jiff::{SignedDuration, Timestamp};

use DeadlineState::*;

fn at(profile: &Profile, case: &CaseFacts, now: Timestamp) -> Schedule {
    schedule(profile, case, &tz(CDMX), &Calendar::mexico(), now)
}

/// Monday 1 June 2026, 09:00 in Mexico City.
fn detection() -> Timestamp {
    local(CDMX, 2026, 6, 1, 9, 0)
}

#[test]
fn pending_then_due_soon_then_overdue() {
    let apf = builtin("apf");
    let t = detection();
    let case = facts(t);
    let initial_at = |now| status(&at(&apf, &case, now), "initial", 1).clone();

    let early = initial_at(t + hours(1));
    assert_eq!((early.state, early.due_at), (Pending, Some(t + hours(24))));
    assert_eq!(early.next_reminder_at, Some(t + hours(18)), "6 h before");
    assert_eq!(initial_at(t + hours(18) - SignedDuration::from_secs(1)).state, Pending);

    let soon = initial_at(t + hours(18));
    assert_eq!(soon.state, DueSoon, "inside the largest reminder window");
    assert_eq!(soon.next_reminder_at, Some(t + hours(23)), "1 h before");
    let last = initial_at(t + hours(23) + SignedDuration::from_mins(30));
    assert_eq!(
        (last.state, last.next_reminder_at),
        (DueSoon, Some(t + hours(24))),
        "then the missed notice"
    );
    assert_eq!(
        initial_at(t + hours(24)).state,
        DueSoon,
        "the due instant itself is still in time"
    );

    let late = initial_at(t + hours(24) + SignedDuration::from_secs(1));
    assert_eq!((late.state, late.next_reminder_at), (Overdue, None));
    let s = at(&apf, &case, t + hours(25));
    assert_eq!(s.worst(), Overdue);
    assert_eq!(s.next_due().map(|n| n.stage_id.as_str()), Some("initial"));
}

#[test]
fn without_reminders_due_soon_is_the_last_quarter() {
    let nis2 = builtin("nis2");
    let t = detection();
    let s = at(&nis2, &facts(t), t + hours(18));
    assert_eq!(status(&s, "early_warning", 1).state, DueSoon, "18 of 24 h");
    assert_eq!(status(&s, "notification", 1).state, Pending, "due soon from 54 of 72 h");
    assert_eq!(
        status(&at(&nis2, &facts(t), t + hours(54)), "notification", 1).state,
        DueSoon
    );
    // The final report is chained on the notification's due time until it is submitted.
    assert_eq!(status(&s, "final", 1).due_at, Some(local(CDMX, 2026, 7, 4, 9, 0)));
}

#[test]
fn met_on_time_versus_met_late() {
    let apf = builtin("apf");
    let t = detection();
    let mut case = facts(t);
    case.submissions = vec![submitted("initial", t + hours(23))];
    let s = at(&apf, &case, t + hours(30));
    assert_eq!(status(&s, "initial", 1).state, MetOnTime);
    assert_eq!(status(&s, "initial", 1).next_reminder_at, None);
    assert_eq!(s.worst(), Waiting, "the final report may still be requested");

    case.submissions = vec![submitted("initial", t + hours(26)), submitted("initial", t + hours(20))];
    let s = at(&apf, &case, t + hours(30));
    assert_eq!(
        status(&s, "initial", 1).state,
        MetOnTime,
        "the earliest submission counts"
    );

    case.submissions = vec![submitted("initial", t + hours(26))];
    let s = at(&apf, &case, t + hours(30));
    assert_eq!(status(&s, "initial", 1).state, MetLate);
    assert_eq!(s.worst(), MetLate, "a breach outranks waiting");
    assert!(s.next_due().is_none());
}

#[test]
fn csirt_request_stage_waits_until_requested() {
    let apf = builtin("apf");
    let t = detection();
    let mut case = facts(t);
    case.submissions = vec![submitted("initial", t + hours(2))];
    let final_report = status(&at(&apf, &case, t + hours(400)), "final", 1).clone();
    assert_eq!(
        (final_report.state, final_report.due_at, final_report.next_reminder_at),
        (Waiting, None, None)
    );

    // Requested Wednesday 3 June at 10:00: five business days is the end of Wednesday 10 June.
    case.csirt_requests = vec![submitted("final", local(CDMX, 2026, 6, 3, 10, 0))];
    let s = at(&apf, &case, local(CDMX, 2026, 6, 4, 10, 0));
    let final_report = status(&s, "final", 1);
    assert_eq!(
        final_report.due_at,
        Some(local(CDMX, 2026, 6, 10, 23, 59) + SignedDuration::from_secs(59))
    );
    assert_eq!(final_report.state, Pending);
    assert_eq!(s.worst(), Pending);
}

#[test]
fn financial_profile_needs_an_hour_of_interruption() {
    let fin = builtin("financiero");
    let t = detection();
    let mut case = facts(t);
    case.interruption_minutes = Some(59);
    let s = at(&fin, &case, t + hours(30));
    assert!(!s.applicable);
    assert!(s
        .stages
        .iter()
        .all(|st| st.state == NotApplicable && st.due_at.is_none()));
    assert_eq!(s.worst(), NotApplicable);
    assert!(s.next_due().is_none());
    assert!(reminders_between(&s, &fin, t, t + hours(400)).is_empty());

    case.interruption_minutes = Some(60);
    let s = at(&fin, &case, t + hours(30));
    assert!(s.applicable);
    assert_eq!(status(&s, "initial", 1).state, Overdue);
}

fn financial_case(t: Timestamp) -> CaseFacts {
    let mut case = facts(t);
    case.interruption_minutes = Some(120);
    case
}

fn updates(s: &Schedule) -> Vec<(u32, Option<Timestamp>, DeadlineState)> {
    s.stages
        .iter()
        .filter(|st| st.stage_id == "update")
        .map(|st| (st.occurrence, st.due_at, st.state))
        .collect()
}

#[test]
fn recurring_updates_run_every_24_hours_from_the_initial_notification() {
    let fin = builtin("financiero");
    let t = detection();
    let mut case = financial_case(t);
    case.submissions = vec![
        submitted("initial", t + hours(10)),
        submitted("update", t + hours(30)),
        submitted("update", t + hours(60)),
    ];
    // First update due 24 h after the initial submission (T+34 h), then every 24 h.
    let s = at(&fin, &case, t + hours(90));
    assert_eq!(
        updates(&s),
        [
            (1, Some(t + hours(34)), MetOnTime),
            (2, Some(t + hours(58)), MetLate),
            (3, Some(t + hours(82)), Overdue),
            (4, Some(t + hours(106)), Pending),
        ],
        "up to the first open occurrence after now"
    );
    assert_eq!(status(&s, "update", 4).next_reminder_at, Some(t + hours(106)));
    assert_eq!(
        s.next_due().map(|n| (n.stage_id.as_str(), n.occurrence)),
        Some(("update", 3))
    );
}

#[test]
fn recurring_updates_stop_once_the_root_cause_report_is_submitted() {
    let fin = builtin("financiero");
    let t = detection();
    let mut case = financial_case(t);
    case.submissions = vec![
        submitted("initial", t + hours(10)),
        submitted("root_cause", t + hours(95)),
    ];
    let expected = [
        (1, Some(t + hours(34)), Overdue),
        (2, Some(t + hours(58)), Overdue),
        (3, Some(t + hours(82)), Overdue),
    ];
    for days_later in [5, 30, 400] {
        let s = at(&fin, &case, t + hours(24 * days_later));
        assert_eq!(
            updates(&s),
            expected,
            "occurrences due before the report stay; none after ({days_later} days)"
        );
    }
    // Reported before the first update fell due: the update is shown but no longer owed.
    case.submissions = vec![
        submitted("initial", t + hours(10)),
        submitted("root_cause", t + hours(20)),
    ];
    let s = at(&fin, &case, t + hours(24 * 30));
    assert_eq!(updates(&s), [(1, Some(t + hours(34)), NotApplicable)]);
    assert!(reminders_between(&s, &fin, t, t + hours(24 * 30)).is_empty());
}

#[test]
fn recurring_occurrences_are_bounded() {
    let fin = builtin("financiero");
    let t = detection();
    let mut case = financial_case(t);
    case.submissions = vec![submitted("initial", t + hours(1))];
    let s = at(&fin, &case, t + hours(24 * 1000));
    let all = updates(&s);
    assert_eq!(all.len(), MAX_OCCURRENCES as usize);
    assert!(all.iter().all(|(_, _, state)| *state == Overdue));
}

#[test]
fn closing_the_case_ends_the_obligations() {
    let fin = builtin("financiero");
    let t = detection();
    let mut case = financial_case(t);
    case.submissions = vec![submitted("initial", t + hours(10))];
    case.closed_at = Some(t + hours(70));
    let s = at(&fin, &case, t + hours(24 * 30));
    assert_eq!(
        updates(&s),
        [(1, Some(t + hours(34)), Overdue), (2, Some(t + hours(58)), Overdue)],
        "no occurrence after closing"
    );
    assert_eq!(
        status(&s, "root_cause", 1).state,
        NotApplicable,
        "closed before it fell due"
    );
    assert!(reminders_between(&s, &fin, t + hours(70), t + hours(24 * 30)).is_empty());

    // Closed before anything fell due: nothing is owed and nothing reminds.
    let apf = builtin("apf");
    let mut case = facts(t);
    case.closed_at = Some(t + hours(2));
    let s = at(&apf, &case, t + hours(20));
    assert!(s
        .stages
        .iter()
        .all(|st| st.state == NotApplicable && st.next_reminder_at.is_none()));
    assert!(reminders_between(&s, &apf, t, t + hours(100)).is_empty());
}

/// A profile with reminders on a recurring stage, to exercise every reminder path.
fn daily_profile() -> Profile {
    let text = r#"
        [[profiles]]
        id = "daily"
        name_es = "Diario"
        name_en = "Daily"
        [[profiles.stages]]
        id = "initial"
        name_es = "Inicial"
        name_en = "Initial"
        anchor = "detection"
        due = { hours = 24 }
        reminders_hours_before = [2]
        [[profiles.stages]]
        id = "update"
        name_es = "Actualización"
        name_en = "Update"
        anchor = "previous_stage"
        due = { hours = 24 }
        repeat_every_hours = 24
        reminders_hours_before = [3]
        [[profiles.stages]]
        id = "final"
        name_es = "Final"
        name_en = "Final"
        anchor = "detection"
        due = { months = 1 }
    "#;
    parse_profiles(text, "daily").unwrap().remove(0)
}

/// The facts as known at `now`: what happened later is not recorded yet.
fn known_at(case: &CaseFacts, now: Timestamp) -> CaseFacts {
    let mut known = case.clone();
    known.submissions.retain(|(_, when)| *when <= now);
    known.csirt_requests.retain(|(_, when)| *when <= now);
    known.closed_at = case.closed_at.filter(|when| *when <= now);
    known
}

/// Runs a reminder worker from `from` to `to` in steps of `step`, counting every reminder it emits.
fn run_worker(
    profile: &Profile,
    case: &CaseFacts,
    from: Timestamp,
    to: Timestamp,
    step: SignedDuration,
) -> HashMap<(String, u32, ReminderKind, Timestamp), u32> {
    let mut seen = HashMap::new();
    let mut since = from;
    while since < to {
        let until = (since + step).min(to);
        let s = at(profile, &known_at(case, until), until);
        for r in reminders_between(&s, profile, since, until) {
            assert!(since < r.at && r.at <= until, "{r:?} outside ({since}, {until}]");
            *seen.entry((r.stage_id, r.occurrence, r.kind, r.at)).or_insert(0) += 1;
        }
        since = until;
    }
    seen
}

#[test]
fn the_apf_worker_reminds_once_per_reminder() {
    let apf = builtin("apf");
    let t = detection();
    let seen = run_worker(&apf, &facts(t), t, t + hours(30), SignedDuration::from_mins(1));
    let approaching = |h| ReminderKind::Approaching { hours_before: h };
    let expected = HashMap::from([
        (("initial".to_owned(), 1, approaching(6), t + hours(18)), 1),
        (("initial".to_owned(), 1, approaching(1), t + hours(23)), 1),
        (("initial".to_owned(), 1, ReminderKind::Missed, t + hours(24)), 1),
    ]);
    assert_eq!(seen, expected);
}

#[test]
fn a_worker_reminds_each_occurrence_once_whatever_its_pace() {
    let profile = daily_profile();
    let t = detection();
    let mut case = facts(t);
    // Initial in time (no initial reminders fire after it); update 1 sent late; closed at T+100 h.
    case.submissions = vec![submitted("initial", t + hours(5)), submitted("update", t + hours(40))];
    case.closed_at = Some(t + hours(100));
    let approaching = ReminderKind::Approaching { hours_before: 3 };
    let mut expected = HashMap::new();
    // Updates are due at T+29, 53, 77 and 101 h; the last is after closing, so only its early reminder fires.
    for (occurrence, due_hours) in [(1, 29), (2, 53), (3, 77)] {
        expected.insert(
            ("update".to_owned(), occurrence, approaching, t + hours(due_hours - 3)),
            1,
        );
        expected.insert(
            (
                "update".to_owned(),
                occurrence,
                ReminderKind::Missed,
                t + hours(due_hours),
            ),
            1,
        );
    }
    expected.insert(("update".to_owned(), 4, approaching, t + hours(98)), 1);
    // Each window closes before the case does, so the reminder at T+98 h is not caught up on after closing.
    for step_minutes in [1, 7, 61, 120] {
        let seen = run_worker(
            &profile,
            &case,
            t,
            t + hours(24 * 10),
            SignedDuration::from_mins(step_minutes),
        );
        assert_eq!(seen, expected, "steps of {step_minutes} min");
    }
}

#[test]
fn reminders_of_another_profile_are_not_mixed_up() {
    let t = detection();
    let s = at(&builtin("apf"), &facts(t), t + hours(20));
    assert!(reminders_between(&s, &builtin("nis2"), t, t + hours(30)).is_empty());
    assert_eq!(reminders_between(&s, &builtin("apf"), t, t + hours(20)).len(), 1);
}

#[test]
fn states_serialize_in_snake_case() {
    assert_eq!(serde_json::to_string(&DueSoon).unwrap(), "\"due_soon\"");
    for state in [Waiting, Pending, DueSoon, Overdue, MetOnTime, MetLate, NotApplicable] {
        assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
    }
}
