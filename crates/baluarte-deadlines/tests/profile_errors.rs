//! Profile files that must be rejected, with messages that say where and what.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use baluarte_deadlines::{builtin_profiles, parse_profiles, validate_profiles, ProfileError, ProfileErrorKind};

/// A one-profile file named `bank` whose stages are `stages` (TOML `[[profiles.stages]]` tables).
fn with_stages(stages: &str) -> String {
    format!(
        r#"
[[profiles]]
id = "bank"
name_es = "Banco"
name_en = "Bank"
{stages}
"#
    )
}

fn stage(id: &str, anchor: &str, due: &str, extra: &str) -> String {
    format!(
        r#"
[[profiles.stages]]
id = "{id}"
name_es = "Etapa"
name_en = "Stage"
anchor = "{anchor}"
due = {due}
{extra}
"#
    )
}

fn rejected(text: &str) -> ProfileError {
    parse_profiles(text, "bank.toml").expect_err("the file should be rejected")
}

/// The message names the source, the profile and the stage, and the expected text.
fn assert_names(err: &ProfileError, stage: &str, needles: &[&str]) {
    let message = err.to_string();
    for needle in ["bank.toml: ", "profile `bank`", &format!("stage `{stage}`")]
        .iter()
        .chain(needles)
    {
        assert!(message.contains(needle), "`{needle}` missing from: {message}");
    }
}

#[test]
fn duplicate_stage_id() {
    let stages =
        stage("initial", "detection", "{ hours = 24 }", "") + &stage("initial", "detection", "{ hours = 48 }", "");
    let err = rejected(&with_stages(&stages));
    assert_eq!(err.kind, ProfileErrorKind::DuplicateStageId);
    assert_names(&err, "initial", &["duplicate stage id"]);
}

#[test]
fn bad_anchor() {
    let err = rejected(&with_stages(&stage("initial", "whenever", "{ hours = 24 }", "")));
    assert_names(
        &err,
        "initial",
        &["field `anchor`", "unknown variant `whenever`", "previous_stage"],
    );
}

#[test]
fn zero_durations() {
    for (due, field) in [
        ("{ hours = 0 }", "due.hours"),
        ("{ business_days = 0 }", "due.business_days"),
        ("{ months = 0 }", "due.months"),
    ] {
        let err = rejected(&with_stages(&stage("initial", "detection", due, "")));
        assert_eq!(err.kind, ProfileErrorKind::Zero, "{due}");
        assert_names(&err, "initial", &[&format!("field `{field}`"), "must not be zero"]);
    }
    let err = rejected(&with_stages(&stage(
        "update",
        "detection",
        "{ hours = 24 }",
        "repeat_every_hours = 0",
    )));
    assert_names(&err, "update", &["field `repeat_every_hours`", "must not be zero"]);
}

#[test]
fn the_failing_stage_is_named_even_after_valid_ones() {
    let stages = stage("initial", "detection", "{ hours = 24 }", "") + &stage("final", "detection", "{ days = 3 }", "");
    let err = rejected(&with_stages(&stages));
    assert_names(&err, "final", &["field `due`", "unknown variant `days`"]);
}

#[test]
fn previous_stage_on_the_first_stage() {
    let err = rejected(&with_stages(&stage("initial", "previous_stage", "{ hours = 24 }", "")));
    assert_eq!(err.kind, ProfileErrorKind::PreviousStageOnFirst);
    assert_names(&err, "initial", &["field `anchor`", "first stage"]);
}

#[test]
fn unknown_keys_are_rejected() {
    let err = rejected(&with_stages(&stage(
        "initial",
        "detection",
        "{ hours = 24 }",
        "reminder_hours = [1]",
    )));
    assert_names(&err, "initial", &["unknown field `reminder_hours`"]);

    let err = rejected(&with_stages(&stage(
        "initial",
        "detection",
        "{ hours = 24, months = 1 }",
        "",
    )));
    assert_names(&err, "initial", &["field `due`"]);

    let err = rejected("[[profiles]]\nid = \"bank\"\nname_es = \"B\"\nname_en = \"B\"\nstages = []\nsector = \"x\"\n");
    assert!(
        err.to_string()
            .contains("profile `bank`, field `sector`: unknown field"),
        "{err}"
    );

    let err = rejected("profile = []\n");
    assert_eq!(err.kind, ProfileErrorKind::UnknownTopLevelKey);
}

#[test]
fn reminders_must_fall_inside_an_hour_deadline() {
    let err = rejected(&with_stages(&stage(
        "initial",
        "detection",
        "{ hours = 24 }",
        "reminders_hours_before = [6, 24]",
    )));
    assert_eq!(err.kind, ProfileErrorKind::ReminderNotBelowDue { hours: 24, limit: 24 });
    assert_names(&err, "initial", &["field `reminders_hours_before`", "24 h"]);

    let recurring = "repeat_every_hours = 12\nreminders_hours_before = [12]";
    let err = rejected(&with_stages(&stage("update", "detection", "{ hours = 24 }", recurring)));
    assert_eq!(err.kind, ProfileErrorKind::ReminderNotBelowDue { hours: 12, limit: 12 });

    // Business-day and month deadlines have no fixed length: a long reminder is accepted.
    let ok = with_stages(&stage(
        "final",
        "detection",
        "{ business_days = 1 }",
        "reminders_hours_before = [48]",
    ));
    assert!(parse_profiles(&ok, "bank.toml").is_ok());
}

#[test]
fn out_of_range_values_are_rejected_without_panicking() {
    let err = rejected(&with_stages(&stage("initial", "detection", "{ hours = -1 }", "")));
    assert_names(&err, "initial", &["field `due.hours`", "expected u32"]);
    let err = rejected(&with_stages(&stage(
        "initial",
        "detection",
        "{ months = 4000000000 }",
        "",
    )));
    assert_eq!(
        err.kind,
        ProfileErrorKind::TooLarge {
            value: 4_000_000_000,
            max: 120
        }
    );
}

#[test]
fn profile_level_problems_name_the_profile() {
    let one = with_stages(&stage("initial", "detection", "{ hours = 24 }", ""));
    let err = rejected(&format!("{one}\n{one}"));
    assert_eq!(err.kind, ProfileErrorKind::DuplicateProfileId);
    assert!(err.to_string().starts_with("bank.toml: profile `bank`"), "{err}");

    let err = rejected("[[profiles]]\nname_es = \"B\"\n");
    assert!(
        err.to_string().contains("profile `#1`") && err.to_string().contains("missing field `id`"),
        "{err}"
    );

    let err = rejected(&with_stages(""));
    assert!(err.to_string().contains("missing field `stages`"), "{err}");

    let err = rejected("[[profiles]]\nid = \"bank\"\nname_es = \"B\"\nname_en = \"B\"\nstages = []\n");
    assert_eq!(err.kind, ProfileErrorKind::NoStages);

    let err = rejected(&with_stages(&stage("bad id", "detection", "{ hours = 24 }", "")));
    assert_eq!(err.kind, ProfileErrorKind::BadId);
}

#[test]
fn syntax_errors_name_the_source() {
    let err = rejected("[[profiles]\n");
    assert!(matches!(err.kind, ProfileErrorKind::Syntax(_)));
    assert!(err.to_string().starts_with("bank.toml: not valid TOML"), "{err}");
}

#[test]
fn builtin_profiles_round_trip_through_json() {
    let profiles = builtin_profiles();
    let json = serde_json::to_string(&profiles).unwrap();
    let back: Vec<baluarte_deadlines::Profile> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, profiles);
    assert!(validate_profiles(&back, "json").is_ok());
    assert!(json.contains(r#""due":{"hours":24}"#), "{json}");
}
