//! Business-day deadlines against Mexico's statutory calendar.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baluarte_deadlines::{schedule, Calendar, DeadlineState};
use common::*;
use jiff::civil::date;

#[test]
fn root_cause_skips_the_weekend_and_the_third_monday_of_november() {
    let mut case = facts(local(CDMX, 2026, 11, 13, 10, 0)); // a Friday
    case.interruption_minutes = Some(90);
    let s = schedule(
        &builtin("financiero"),
        &case,
        &tz(CDMX),
        &Calendar::mexico(),
        case.detected_at,
    );
    // 17-20 Nov (4), 23-27 (9), 30 Nov - 4 Dec (14), Mon 7 Dec (15); Mon 16 Nov is a rest day.
    let due_at = zoned(due(&s, "root_cause"), CDMX);
    assert_eq!(due_at.datetime(), date(2026, 12, 7).at(23, 59, 59, 0));
    assert_eq!(due_at.timestamp().to_string(), "2026-12-08T05:59:59Z");
}

#[test]
fn an_extra_holiday_pushes_the_deadline() {
    let mut case = facts(local(CDMX, 2026, 11, 13, 10, 0));
    case.interruption_minutes = Some(90);
    let cal = Calendar::with_extra_holidays(vec![date(2026, 11, 20), date(2026, 12, 5)]);
    let s = schedule(&builtin("financiero"), &case, &tz(CDMX), &cal, case.detected_at);
    // Friday 20 Nov no longer counts (5 Dec is a Saturday and changes nothing).
    assert_eq!(zoned(due(&s, "root_cause"), CDMX).date(), date(2026, 12, 8));
    assert!(!cal.is_business_day(date(2026, 11, 20)));
    assert!(
        cal.is_holiday(date(2026, 11, 16)),
        "extra days add to the statutory ones"
    );
}

#[test]
fn christmas_and_new_year() {
    let cal = Calendar::mexico();
    assert!(cal.is_business_day(date(2026, 12, 24)));
    assert!(!cal.is_business_day(date(2026, 12, 25)));
    // Wed 23 Dec + 3: Thu 24, (Fri 25 Christmas, weekend), Mon 28, Tue 29.
    assert_eq!(cal.add_business_days(date(2026, 12, 23), 3), Some(date(2026, 12, 29)));
    // Thu 31 Dec + 1: Fri 1 Jan is New Year, then the weekend.
    assert_eq!(cal.add_business_days(date(2026, 12, 31), 1), Some(date(2027, 1, 4)));
}

#[test]
fn first_of_october_only_in_transfer_of_power_years() {
    let cal = Calendar::mexico();
    assert!(
        !cal.is_business_day(date(2030, 10, 1)),
        "Tuesday 1 Oct 2030: transfer of federal executive power"
    );
    assert!(
        cal.is_business_day(date(2026, 10, 1)),
        "Thursday 1 Oct 2026 is an ordinary day"
    );
    assert_eq!(cal.add_business_days(date(2030, 9, 30), 1), Some(date(2030, 10, 2)));
    assert_eq!(cal.add_business_days(date(2026, 9, 30), 1), Some(date(2026, 10, 1)));
}

#[test]
fn other_monday_rest_days_and_fixed_days() {
    let cal = Calendar::mexico();
    for rest in [
        date(2026, 2, 2),
        date(2026, 3, 16),
        date(2026, 5, 1),
        date(2026, 9, 16),
        date(2027, 2, 1),
    ] {
        assert!(!cal.is_business_day(rest), "{rest}");
    }
    // 5 February (Constitution Day) is commemorated on the first Monday instead.
    assert!(cal.is_business_day(date(2026, 2, 5)));
}

#[test]
fn apf_final_report_counts_from_the_csirt_request() {
    let apf = builtin("apf");
    let mut case = facts(local(CDMX, 2026, 1, 28, 9, 0));
    case.submissions = vec![submitted("initial", local(CDMX, 2026, 1, 28, 20, 0))];
    case.csirt_requests = vec![submitted("final", local(CDMX, 2026, 1, 30, 18, 0))]; // a Friday
    let now = local(CDMX, 2026, 2, 1, 12, 0);
    let s = schedule(&apf, &case, &tz(CDMX), &Calendar::mexico(), now);
    // Mon 2 Feb is a rest day: Tue 3, Wed 4, Thu 5, Fri 6, Mon 9.
    let final_report = status(&s, "final", 1);
    assert_eq!(
        zoned(final_report.due_at.unwrap(), CDMX).datetime(),
        date(2026, 2, 9).at(23, 59, 59, 0)
    );
    assert_eq!(final_report.state, DeadlineState::Pending);

    // A request made on the Saturday gains nothing over the Friday.
    case.csirt_requests = vec![submitted("final", local(CDMX, 2026, 1, 31, 10, 0))];
    let s = schedule(&apf, &case, &tz(CDMX), &Calendar::mexico(), now);
    assert_eq!(zoned(due(&s, "final"), CDMX).date(), date(2026, 2, 9));
}
