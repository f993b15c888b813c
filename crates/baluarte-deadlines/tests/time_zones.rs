//! Deadlines computed in the entity's zone: Mexico spans several, and Tijuana follows US daylight saving time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baluarte_deadlines::{parse_profiles, schedule, Calendar, Profile};
use common::*;
use jiff::civil::date;
use jiff::tz::Offset;

/// One stage due `due` after detection, for checking a single rule in isolation.
fn single_stage(due: &str) -> Profile {
    let text = format!(
        r#"
        [[profiles]]
        id = "test"
        name_es = "Prueba"
        name_en = "Test"
        [[profiles.stages]]
        id = "report"
        name_es = "Informe"
        name_en = "Report"
        anchor = "detection"
        due = {due}
        "#
    );
    parse_profiles(&text, "test").unwrap().remove(0)
}

fn report_due(profile: &Profile, detected: jiff::Timestamp, zone: &str) -> jiff::Zoned {
    let s = schedule(profile, &facts(detected), &tz(zone), &Calendar::mexico(), detected);
    zoned(due(&s, "report"), zone)
}

#[test]
fn the_same_instant_gives_the_same_24_hour_deadline_in_every_zone() {
    let apf = builtin("apf");
    let detected = local(TIJUANA, 2026, 1, 15, 23, 30);
    for zone in [CDMX, TIJUANA, CANCUN] {
        let s = schedule(&apf, &facts(detected), &tz(zone), &Calendar::mexico(), detected);
        assert_eq!(due(&s, "initial"), detected + hours(24), "{zone}");
        assert_eq!(due(&s, "initial").to_string(), "2026-01-17T07:30:00Z", "{zone}");
    }
}

#[test]
fn business_day_deadlines_count_from_the_local_date() {
    let profile = single_stage("{ business_days = 5 }");
    // Thursday 23:30 in Tijuana is already Friday in Mexico City (01:30) and Cancún (02:30).
    let detected = local(TIJUANA, 2026, 1, 15, 23, 30);
    let tijuana = report_due(&profile, detected, TIJUANA);
    let cdmx = report_due(&profile, detected, CDMX);
    let cancun = report_due(&profile, detected, CANCUN);
    // Thursday + 5: Fri 16, Mon 19, Tue 20, Wed 21, Thu 22. Friday + 5: Mon 19 ... Fri 23.
    assert_eq!(tijuana.datetime(), date(2026, 1, 22).at(23, 59, 59, 0));
    assert_eq!(tijuana.offset(), Offset::constant(-8));
    assert_eq!(cdmx.datetime(), date(2026, 1, 23).at(23, 59, 59, 0));
    assert_eq!(cdmx.offset(), Offset::constant(-6));
    assert_eq!(cancun.datetime(), date(2026, 1, 23).at(23, 59, 59, 0));
    assert_eq!(cancun.offset(), Offset::constant(-5));
}

#[test]
fn a_weekend_anchor_counts_from_the_next_business_day() {
    let profile = single_stage("{ business_days = 5 }");
    // Friday 23:30 in Tijuana is Saturday 02:30 in Cancún; both count Mon 19 .. Fri 23 and end that day.
    let detected = local(TIJUANA, 2026, 1, 16, 23, 30);
    let tijuana = report_due(&profile, detected, TIJUANA);
    let cancun = report_due(&profile, detected, CANCUN);
    assert_eq!(tijuana.date(), date(2026, 1, 23));
    assert_eq!(cancun.date(), date(2026, 1, 23));
    // Same local date, different instants: the end of the day comes three hours later in Tijuana.
    assert_eq!(tijuana.timestamp().duration_since(cancun.timestamp()), hours(3));
}

#[test]
fn month_deadlines_follow_the_local_date() {
    let profile = single_stage("{ months = 1 }");
    // 30 March 23:30 in Tijuana is 31 March 01:30 in Cancún; April has no 31st, so Cancún clamps to the 30th.
    let detected = local(TIJUANA, 2026, 3, 30, 23, 30);
    let tijuana = report_due(&profile, detected, TIJUANA);
    let cancun = report_due(&profile, detected, CANCUN);
    assert_eq!(tijuana.datetime(), date(2026, 4, 30).at(23, 30, 0, 0));
    assert_eq!(cancun.datetime(), date(2026, 4, 30).at(1, 30, 0, 0));
    assert_eq!(tijuana.timestamp().duration_since(cancun.timestamp()), hours(24));
}

#[test]
fn tijuana_spring_forward_24_hours_are_real_hours() {
    let apf = builtin("apf");
    // Clocks jump from 02:00 to 03:00 on Sunday 8 March 2026.
    let detected = local(TIJUANA, 2026, 3, 7, 12, 0);
    let s = schedule(&apf, &facts(detected), &tz(TIJUANA), &Calendar::mexico(), detected);
    let due_at = due(&s, "initial");
    assert_eq!(due_at.duration_since(detected), hours(24));
    let wall = zoned(due_at, TIJUANA);
    assert_eq!(wall.datetime(), date(2026, 3, 8).at(13, 0, 0, 0));
    assert_eq!(wall.offset(), Offset::constant(-7));
    let wall_hours = wall.datetime().duration_since(zoned(detected, TIJUANA).datetime());
    assert_eq!(wall_hours, hours(25));
}

#[test]
fn tijuana_fall_back_24_hours_are_real_hours() {
    let apf = builtin("apf");
    // Clocks go back from 02:00 to 01:00 on Sunday 1 November 2026.
    let detected = local(TIJUANA, 2026, 10, 31, 12, 0);
    let s = schedule(&apf, &facts(detected), &tz(TIJUANA), &Calendar::mexico(), detected);
    let due_at = due(&s, "initial");
    assert_eq!(due_at.duration_since(detected), hours(24));
    let wall = zoned(due_at, TIJUANA);
    assert_eq!(wall.datetime(), date(2026, 11, 1).at(11, 0, 0, 0));
    assert_eq!(wall.offset(), Offset::constant(-8));
    let wall_hours = wall.datetime().duration_since(zoned(detected, TIJUANA).datetime());
    assert_eq!(wall_hours, hours(23));
}

/// The NIS2 final report is due one month after the notification was submitted.
fn nis2_final_due(notified: jiff::Timestamp, zone: &str) -> jiff::Zoned {
    let mut case = facts(notified - hours(30));
    case.submissions = vec![
        submitted("early_warning", notified - hours(10)),
        submitted("notification", notified),
    ];
    let s = schedule(&builtin("nis2"), &case, &tz(zone), &Calendar::mexico(), notified);
    zoned(due(&s, "final"), zone)
}

#[test]
fn tijuana_month_deadlines_keep_the_wall_clock_across_dst() {
    let notified = local(TIJUANA, 2026, 2, 20, 10, 0);
    let spring = nis2_final_due(notified, TIJUANA);
    assert_eq!(spring.datetime(), date(2026, 3, 20).at(10, 0, 0, 0));
    assert_eq!(spring.timestamp().duration_since(notified), hours(28 * 24 - 1));

    let notified = local(TIJUANA, 2026, 10, 15, 10, 0);
    let fall = nis2_final_due(notified, TIJUANA);
    assert_eq!(fall.datetime(), date(2026, 11, 15).at(10, 0, 0, 0));
    assert_eq!(fall.timestamp().duration_since(notified), hours(31 * 24 + 1));
}

#[test]
fn month_deadlines_in_a_gap_or_fold_use_compatible_disambiguation() {
    // 02:30 on 8 March does not exist in Tijuana: compatible takes the later side, 03:30 PDT.
    let gap = nis2_final_due(local(TIJUANA, 2026, 2, 8, 2, 30), TIJUANA);
    assert_eq!(gap.datetime(), date(2026, 3, 8).at(3, 30, 0, 0));
    assert_eq!(gap.offset(), Offset::constant(-7));
    // 01:30 on 1 November happens twice: compatible takes the earlier, still PDT.
    let fold = nis2_final_due(local(TIJUANA, 2026, 10, 1, 1, 30), TIJUANA);
    assert_eq!(fold.datetime(), date(2026, 11, 1).at(1, 30, 0, 0));
    assert_eq!(fold.offset(), Offset::constant(-7));
}

#[test]
fn mexico_city_has_no_dst_since_2022() {
    // The first Sunday of April (5 April 2026) used to start DST; now the offset stays -06:00.
    let apf = builtin("apf");
    let detected = local(CDMX, 2026, 4, 4, 12, 0);
    let s = schedule(&apf, &facts(detected), &tz(CDMX), &Calendar::mexico(), detected);
    let wall = zoned(due(&s, "initial"), CDMX);
    assert_eq!(wall.datetime(), date(2026, 4, 5).at(12, 0, 0, 0));
    assert_eq!(wall.offset(), Offset::constant(-6));

    let notified = local(CDMX, 2026, 3, 20, 10, 0);
    let month = nis2_final_due(notified, CDMX);
    assert_eq!(month.datetime(), date(2026, 4, 20).at(10, 0, 0, 0));
    assert_eq!(month.offset(), Offset::constant(-6));
    assert_eq!(month.timestamp().duration_since(notified), hours(31 * 24));
}
