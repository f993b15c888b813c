//! Deadline profiles: the data that says which stages a regulation requires and when each is due.
//!
//! Profiles are loaded from TOML (an array `[[profiles]]`, each with `[[profiles.stages]]`) and validated on
//! load, so that the scheduler only meets well-formed data. See `profiles.toml` in this crate for the
//! shipped profiles.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The shipped profiles, embedded so that a binary works without any data file next to it.
const BUILTIN_TOML: &str = include_str!("../profiles.toml");

/// Upper bounds that keep every deadline inside jiff's representable range (years -9999..=9999) for any
/// realistic anchor; a regulation asking for more than ten years is a typo.
pub const MAX_HOURS: u32 = 87_600;
/// See [`MAX_HOURS`].
pub const MAX_BUSINESS_DAYS: u32 = 2_600;
/// See [`MAX_HOURS`].
pub const MAX_MONTHS: u32 = 120;

/// A regulation's reporting workflow: the ordered stages an entity must send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub id: String,
    pub name_es: String,
    pub name_en: String,
    #[serde(default)]
    pub description_es: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub applies: Applicability,
    pub stages: Vec<Stage>,
}

impl Profile {
    /// The stage with this id, if the profile has one.
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }
}

/// Which incidents a profile covers. The default covers every incident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicability {
    /// The profile applies only when the service interruption lasted at least this many minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_interruption_minutes: Option<u32>,
}

impl Applicability {
    /// Whether an incident with this interruption is covered. An unknown interruption (`None`) is covered:
    /// the clock starts at detection, and hiding a deadline until the duration is known could make the entity
    /// miss it.
    pub fn covers(&self, interruption_minutes: Option<u32>) -> bool {
        match (self.min_interruption_minutes, interruption_minutes) {
            (Some(min), Some(actual)) => actual >= min,
            _ => true,
        }
    }
}

/// One document the entity must send (initial notification, update, final report...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub id: String,
    pub name_es: String,
    pub name_en: String,
    pub anchor: Anchor,
    pub due: Due,
    /// Hours before the due time at which to remind the entity.
    #[serde(default)]
    pub reminders_hours_before: Vec<u32>,
    /// A recurring stage (e.g. daily updates) is due again every this many hours after its first due time,
    /// until the next stage of the profile is submitted or the case is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_every_hours: Option<u32>,
}

/// The instant a stage's deadline counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// When the entity detected the incident.
    Detection,
    /// When the previous stage was submitted. While it is not submitted, its due time stands in, so that
    /// the whole chain can be shown in advance; the deadline moves once the real submission is known.
    PreviousStage,
    /// When the national CSIRT requested this stage; until then the stage is `Waiting`.
    CsirtRequest,
}

impl Anchor {
    /// The name used in TOML and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Anchor::Detection => "detection",
            Anchor::PreviousStage => "previous_stage",
            Anchor::CsirtRequest => "csirt_request",
        }
    }
}

/// How long after the anchor a stage is due. Written in TOML as `{ hours = 24 }`,
/// `{ business_days = 5 }` or `{ months = 1 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// Exact elapsed time: 24 hours are 24 real hours even across a DST change.
    Hours(u32),
    /// The end of the local day (23:59:59 in the entity's zone) of the Nth business day after the anchor's
    /// local date. Counting starts with the business day after that date, so an anchor on a weekend or
    /// holiday gains nothing: Saturday + 1 business day is Monday's end, like Friday + 1.
    BusinessDays(u32),
    /// Civil months in the entity's zone at the same wall-clock time; a day missing from the target month
    /// is clamped (31 Jan + 1 month = end of February) and a gap or fold is resolved with jiff's
    /// "compatible" disambiguation (later time in a gap, earlier in a fold).
    Months(u32),
}

impl Due {
    fn field(self) -> &'static str {
        match self {
            Due::Hours(_) => "due.hours",
            Due::BusinessDays(_) => "due.business_days",
            Due::Months(_) => "due.months",
        }
    }

    fn amount_and_max(self) -> (u32, u32) {
        match self {
            Due::Hours(n) => (n, MAX_HOURS),
            Due::BusinessDays(n) => (n, MAX_BUSINESS_DAYS),
            Due::Months(n) => (n, MAX_MONTHS),
        }
    }
}

/// A profile file that could not be loaded. The message names the source, then the profile, stage and
/// field concerned, then what is wrong with them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {location}{kind}")]
pub struct ProfileError {
    /// The file or resource name given to [`parse_profiles`].
    pub source_name: String,
    /// Boxed to keep `Result<_, ProfileError>` small.
    pub location: Box<Location>,
    pub kind: ProfileErrorKind,
}

/// Where in a profile file a problem is. Profiles and stages are named by id, or by 1-based position
/// (`#2`) when the id itself is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub profile: Option<String>,
    pub stage: Option<String>,
    pub field: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            ("profile", &self.profile),
            ("stage", &self.stage),
            ("field", &self.field),
        ];
        let named: Vec<String> = parts
            .iter()
            .filter_map(|(what, v)| v.as_ref().map(|v| format!("{what} `{v}`")))
            .collect();
        if named.is_empty() {
            return Ok(());
        }
        write!(f, "{}: ", named.join(", "))
    }
}

/// What is wrong in a profile file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileErrorKind {
    #[error("not valid TOML: {0}")]
    Syntax(String),
    #[error("{0}")]
    Invalid(String),
    #[error("unknown top-level key (expected only `profiles`)")]
    UnknownTopLevelKey,
    #[error("`profiles` must be an array of tables (`[[profiles]]`)")]
    ProfilesNotArray,
    #[error("each `[[profiles]]` entry must be a table")]
    ProfileNotTable,
    #[error("duplicate profile id")]
    DuplicateProfileId,
    #[error("duplicate stage id")]
    DuplicateStageId,
    #[error("must be 1 to 64 characters among a-z, A-Z, 0-9, `_` and `-`")]
    BadId,
    #[error("must not be empty")]
    Empty,
    #[error("a profile needs at least one stage")]
    NoStages,
    #[error("anchor `previous_stage` is not allowed on the first stage: there is no previous stage")]
    PreviousStageOnFirst,
    #[error("must not be zero")]
    Zero,
    #[error("{value} is above the maximum of {max}")]
    TooLarge { value: u32, max: u32 },
    #[error("reminder {hours} h before is listed twice")]
    DuplicateReminder { hours: u32 },
    #[error("reminder {hours} h before must be below the {limit} h it is counted within")]
    ReminderNotBelowDue { hours: u32, limit: u32 },
}

/// The profiles shipped with Baluarte (`apf`, `nis2`, `financiero`).
pub fn builtin_profiles() -> Vec<Profile> {
    // The embedded file is checked by a unit test, so the empty fallback is never reached in a release; it
    // only keeps this function total.
    static BUILTIN: LazyLock<Vec<Profile>> =
        LazyLock::new(|| parse_profiles(BUILTIN_TOML, "builtin profiles.toml").unwrap_or_default());
    BUILTIN.clone()
}

/// Parses and validates a profile file. `source_name` (a path or label) prefixes every error message.
pub fn parse_profiles(toml_text: &str, source_name: &str) -> Result<Vec<Profile>, ProfileError> {
    let fail = |location: Location, kind: ProfileErrorKind| ProfileError {
        source_name: source_name.to_owned(),
        location: Box::new(location),
        kind,
    };
    let document: toml::Table =
        toml::from_str(toml_text).map_err(|e| fail(Location::default(), ProfileErrorKind::Syntax(e.to_string())))?;
    let mut profiles = Vec::new();
    for (key, value) in document {
        if key != "profiles" {
            let location = Location {
                field: Some(key),
                ..Location::default()
            };
            return Err(fail(location, ProfileErrorKind::UnknownTopLevelKey));
        }
        let toml::Value::Array(entries) = value else {
            return Err(fail(Location::default(), ProfileErrorKind::ProfilesNotArray));
        };
        for (index, entry) in entries.into_iter().enumerate() {
            let profile = deserialize_profile(entry, index).map_err(|(loc, kind)| fail(loc, kind))?;
            profiles.push(profile);
        }
    }
    validate_all(&profiles).map_err(|(loc, kind)| fail(loc, kind))?;
    Ok(profiles)
}

/// Checks a set of profiles as [`parse_profiles`] does, for profiles built in code or read from elsewhere
/// (for example JSON stored in a database). `source_name` prefixes the error message.
pub fn validate_profiles(profiles: &[Profile], source_name: &str) -> Result<(), ProfileError> {
    validate_all(profiles).map_err(|(location, kind)| ProfileError {
        source_name: source_name.to_owned(),
        location: Box::new(location),
        kind,
    })
}

fn validate_all(profiles: &[Profile]) -> Result<(), Failure> {
    let mut seen = HashSet::new();
    for profile in profiles {
        validate_profile(profile)?;
        if !seen.insert(profile.id.as_str()) {
            return Err((at_profile(profile, None), ProfileErrorKind::DuplicateProfileId));
        }
    }
    Ok(())
}

type Failure = (Location, ProfileErrorKind);

/// Deserializes one `[[profiles]]` entry, naming the profile and stage by id when a field is wrong.
fn deserialize_profile(entry: toml::Value, index: usize) -> Result<Profile, Failure> {
    let toml::Value::Table(table) = &entry else {
        return Err((
            Location {
                profile: Some(ordinal(index)),
                ..Location::default()
            },
            ProfileErrorKind::ProfileNotTable,
        ));
    };
    let label = id_or_ordinal(table, index);
    let stage_labels: Vec<String> = match table.get("stages") {
        Some(toml::Value::Array(stages)) => stages
            .iter()
            .enumerate()
            .map(|(i, s)| s.as_table().map_or_else(|| ordinal(i), |t| id_or_ordinal(t, i)))
            .collect(),
        _ => Vec::new(),
    };
    serde_path_to_error::deserialize::<_, Profile>(entry).map_err(|err| {
        let location = locate(label, &stage_labels, err.path());
        // `message` leaves out the key path toml appends: the location above is more precise (it names the stage).
        (
            location,
            ProfileErrorKind::Invalid(err.into_inner().message().to_owned()),
        )
    })
}

/// Turns a serde path such as `stages[1].due.hours` into profile, stage and field names.
fn locate(profile: String, stage_labels: &[String], path: &serde_path_to_error::Path) -> Location {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let (stage, rest) = match segments.as_slice() {
        [Segment::Map { key }, Segment::Seq { index }, rest @ ..] if key == "stages" => (
            Some(stage_labels.get(*index).cloned().unwrap_or_else(|| ordinal(*index))),
            rest,
        ),
        all => (None, all),
    };
    let field: Vec<String> = rest
        .iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(key.clone()),
            Segment::Seq { index } => Some(format!("[{index}]")),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect();
    let field = (!field.is_empty()).then(|| field.join("."));
    Location {
        profile: Some(profile),
        stage,
        field,
    }
}

fn id_or_ordinal(table: &toml::Table, index: usize) -> String {
    match table.get("id") {
        Some(toml::Value::String(id)) if !id.is_empty() => id.clone(),
        _ => ordinal(index),
    }
}

fn ordinal(index: usize) -> String {
    format!("#{}", index + 1)
}

fn at_profile(profile: &Profile, field: Option<&str>) -> Location {
    Location {
        profile: Some(profile.id.clone()),
        stage: None,
        field: field.map(str::to_owned),
    }
}

fn at_stage(profile: &Profile, stage: &Stage, field: &str) -> Location {
    Location {
        profile: Some(profile.id.clone()),
        stage: Some(stage.id.clone()),
        field: Some(field.to_owned()),
    }
}

fn validate_profile(profile: &Profile) -> Result<(), Failure> {
    check_id(&profile.id).map_err(|kind| (at_profile(profile, Some("id")), kind))?;
    for (field, value) in [("name_es", &profile.name_es), ("name_en", &profile.name_en)] {
        if value.trim().is_empty() {
            return Err((at_profile(profile, Some(field)), ProfileErrorKind::Empty));
        }
    }
    if profile.stages.is_empty() {
        return Err((at_profile(profile, Some("stages")), ProfileErrorKind::NoStages));
    }
    let mut seen = HashSet::new();
    for (index, stage) in profile.stages.iter().enumerate() {
        validate_stage(profile, stage, index)?;
        if !seen.insert(stage.id.as_str()) {
            return Err((at_stage(profile, stage, "id"), ProfileErrorKind::DuplicateStageId));
        }
    }
    Ok(())
}

fn validate_stage(profile: &Profile, stage: &Stage, index: usize) -> Result<(), Failure> {
    let at = |field: &str| at_stage(profile, stage, field);
    check_id(&stage.id).map_err(|kind| (at("id"), kind))?;
    for (field, value) in [("name_es", &stage.name_es), ("name_en", &stage.name_en)] {
        if value.trim().is_empty() {
            return Err((at(field), ProfileErrorKind::Empty));
        }
    }
    if index == 0 && stage.anchor == Anchor::PreviousStage {
        return Err((at("anchor"), ProfileErrorKind::PreviousStageOnFirst));
    }
    let (amount, max) = stage.due.amount_and_max();
    check_amount(amount, max).map_err(|kind| (at(stage.due.field()), kind))?;
    if let Some(every) = stage.repeat_every_hours {
        check_amount(every, MAX_HOURS).map_err(|kind| (at("repeat_every_hours"), kind))?;
    }
    validate_reminders(stage).map_err(|kind| (at("reminders_hours_before"), kind))
}

fn validate_reminders(stage: &Stage) -> Result<(), ProfileErrorKind> {
    let mut seen = HashSet::new();
    for &hours in &stage.reminders_hours_before {
        if hours == 0 {
            // A reminder at the due time duplicates the "missed" notification sent then.
            return Err(ProfileErrorKind::Zero);
        }
        if !seen.insert(hours) {
            return Err(ProfileErrorKind::DuplicateReminder { hours });
        }
        // Only hour deadlines have a fixed length; business-day and month deadlines vary with the anchor.
        let limits = [
            match stage.due {
                Due::Hours(n) => Some(n),
                _ => None,
            },
            stage.repeat_every_hours,
        ];
        if let Some(limit) = limits.into_iter().flatten().find(|&limit| hours >= limit) {
            return Err(ProfileErrorKind::ReminderNotBelowDue { hours, limit });
        }
    }
    Ok(())
}

fn check_amount(value: u32, max: u32) -> Result<(), ProfileErrorKind> {
    match value {
        0 => Err(ProfileErrorKind::Zero),
        v if v > max => Err(ProfileErrorKind::TooLarge { value: v, max }),
        _ => Ok(()),
    }
}

/// Ids end up in URLs, database rows and notification keys, so they are kept to a safe alphabet.
fn check_id(id: &str) -> Result<(), ProfileErrorKind> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if id.is_empty() || id.len() > 64 || !id.chars().all(allowed) {
        return Err(ProfileErrorKind::BadId);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn builtin_file_parses_and_validates() {
        let profiles = parse_profiles(BUILTIN_TOML, "builtin").unwrap();
        let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["apf", "nis2", "financiero"]);
        assert_eq!(builtin_profiles(), profiles);
    }

    #[test]
    fn builtin_stages_match_the_regulations() {
        let profiles = builtin_profiles();
        let apf = &profiles[0];
        let initial = apf.stage("initial").unwrap();
        assert_eq!((initial.anchor, initial.due), (Anchor::Detection, Due::Hours(24)));
        assert_eq!(initial.reminders_hours_before, [6, 1]);
        let final_report = apf.stage("final").unwrap();
        assert_eq!(
            (final_report.anchor, final_report.due),
            (Anchor::CsirtRequest, Due::BusinessDays(5))
        );

        let nis2 = &profiles[1];
        let dues: Vec<(&str, Anchor, Due)> = nis2.stages.iter().map(|s| (s.id.as_str(), s.anchor, s.due)).collect();
        assert_eq!(
            dues,
            [
                ("early_warning", Anchor::Detection, Due::Hours(24)),
                ("notification", Anchor::Detection, Due::Hours(72)),
                ("final", Anchor::PreviousStage, Due::Months(1)),
            ]
        );

        let fin = &profiles[2];
        assert_eq!(fin.applies.min_interruption_minutes, Some(60));
        let update = fin.stage("update").unwrap();
        assert_eq!(
            (update.anchor, update.due, update.repeat_every_hours),
            (Anchor::PreviousStage, Due::Hours(24), Some(24))
        );
        assert_eq!(fin.stage("root_cause").unwrap().due, Due::BusinessDays(15));
    }

    #[test]
    fn applicability_treats_unknown_interruption_as_covered() {
        let applies = Applicability {
            min_interruption_minutes: Some(60),
        };
        assert!(applies.covers(None));
        assert!(applies.covers(Some(60)));
        assert!(!applies.covers(Some(59)));
        assert!(Applicability::default().covers(Some(0)));
    }

    #[test]
    fn location_display_lists_only_known_parts() {
        let loc = Location {
            profile: Some("p".into()),
            stage: None,
            field: Some("id".into()),
        };
        assert_eq!(loc.to_string(), "profile `p`, field `id`: ");
        assert_eq!(Location::default().to_string(), "");
    }
}
