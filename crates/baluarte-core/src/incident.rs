//! Incident records as the service layer returns them, their vocabularies, and the Reference Security
//! Incident Taxonomy (RSIT) the reports are classified by.

use crate::model::Tlp;
use crate::time::{rfc3339_serde, Micros};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use utoipa::ToSchema;

crate::model::vocabulary! {
    /// Where an incident is in its handling. `closed`, `rejected` and `merged` are final.
    Status {
        New => "new",
        Triage => "triage",
        InProgress => "in_progress",
        Containment => "containment",
        Eradication => "eradication",
        Recovery => "recovery",
        Closed => "closed",
        Rejected => "rejected",
        Merged => "merged",
    }
}

impl Status {
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Rejected | Status::Merged)
    }
    /// The statuses an analyst sets directly; the final ones have their own acts (close, reject, merge).
    pub const WORKING: &'static [Status] = &[
        Status::New,
        Status::Triage,
        Status::InProgress,
        Status::Containment,
        Status::Eradication,
        Status::Recovery,
    ];
}

crate::model::vocabulary! {
    Severity {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
}

impl Severity {
    pub fn rank(self) -> u8 {
        match self {
            Severity::Low => 0,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        }
    }
}

crate::model::vocabulary! {
    /// Permissible Actions Protocol: what a recipient may do with the information.
    Pap {
        Red => "RED",
        Amber => "AMBER",
        Green => "GREEN",
        Clear => "CLEAR",
    }
}

/// One RSIT class with its types, in both languages.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TaxonomyClass {
    pub id: String,
    pub en: String,
    pub es: String,
    pub types: Vec<TaxonomyType>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TaxonomyType {
    pub id: String,
    pub en: String,
    pub es: String,
}

#[derive(Deserialize)]
struct TaxonomyFile {
    classes: Vec<TaxonomyClass>,
}

/// The RSIT classes and types (the project's copy, with Spanish names).
pub fn rsit() -> &'static [TaxonomyClass] {
    static RSIT: OnceLock<Vec<TaxonomyClass>> = OnceLock::new();
    RSIT.get_or_init(|| {
        serde_json::from_str::<TaxonomyFile>(include_str!("taxonomy/rsit.json"))
            .map(|f| f.classes)
            .unwrap_or_default()
    })
}

/// Whether `class`/`type` is a type of that class in the taxonomy.
pub fn rsit_valid(class: &str, kind: &str) -> bool {
    rsit()
        .iter()
        .any(|c| c.id == class && c.types.iter().any(|t| t.id == kind))
}

/// The label of a class or a type, in the language asked for ("es" or "en").
pub fn rsit_label(class: &str, kind: Option<&str>, lang: &str) -> String {
    let Some(c) = rsit().iter().find(|c| c.id == class) else {
        return class.to_string();
    };
    let pick = |en: &str, es: &str| if lang == "en" { en.to_string() } else { es.to_string() };
    match kind {
        None => pick(&c.en, &c.es),
        Some(k) => c
            .types
            .iter()
            .find(|t| t.id == k)
            .map(|t| pick(&t.en, &t.es))
            .unwrap_or_else(|| k.to_string()),
    }
}

/// An incident as its readers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Incident {
    pub id: String,
    /// Human reference, e.g. `BAL-2026-000123`.
    pub reference: String,
    pub entity_id: String,
    pub entity_name: String,
    pub reported_by_label: String,
    /// `web`, `api` or `stix`.
    pub channel: String,
    pub title: String,
    pub description: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub detected_at: Micros,
    #[serde(with = "rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Micros>,
    pub rsit_class: String,
    pub rsit_type: String,
    pub severity: Severity,
    pub tlp: Tlp,
    pub pap: Pap,
    pub affected_services: String,
    pub affected_systems: String,
    pub interruption_minutes: Option<i64>,
    pub people_affected: Option<i64>,
    pub data_compromised: bool,
    /// Personal data involved (LFPDPPP).
    pub personal_data: bool,
    pub status: Status,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub merged_into: Option<String>,
    pub campaign_id: Option<String>,
    pub resolution: Option<String>,
    pub lessons_learned: Option<String>,
    pub profile_id: Option<String>,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Micros,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Micros,
    #[serde(with = "rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Micros>,
    #[serde(with = "rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Micros>,
    /// The entity's IANA time zone, in which its deadlines run.
    pub time_zone: String,
}

/// A stage the reporting side sent, with its signed receipt.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Submission {
    pub id: String,
    pub incident_id: String,
    pub stage_id: String,
    /// SHA-256 (hex) of the exact report bytes.
    pub digest: String,
    pub submitted_by: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: Micros,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObservableRecord {
    pub id: String,
    pub kind: String,
    pub value: String,
    pub tlp: Tlp,
}

/// Other reports that share an observable with this one, as far as the reader may know of them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CorrelationHint {
    pub observable: String,
    /// Incidents of other entities (and partner bundles) the reader may know about.
    pub other_reports: i64,
    /// Distinct other entities among them.
    pub other_entities: i64,
    /// Only for the national CSIRT: the incidents themselves.
    pub incidents: Vec<RelatedIncident>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RelatedIncident {
    pub id: String,
    pub reference: String,
    pub entity_name: String,
    pub title: String,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attachment {
    pub id: String,
    pub incident_id: String,
    pub sha256: String,
    pub filename: String,
    pub media_type: String,
    pub size: i64,
    pub uploaded_by: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Micros,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Task {
    pub id: String,
    pub incident_id: String,
    pub title: String,
    pub assignee_id: Option<String>,
    pub done: bool,
    pub created_by: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Micros,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JournalEntry {
    pub id: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Micros,
    pub author_label: String,
    /// `note`, `status`, `assignment`, `request`, `answer`, `stage`, `merge`, `close`, `campaign`…
    pub kind: String,
    pub body: String,
    /// Visible to the reporting entity.
    pub shared: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InfoRequest {
    pub id: String,
    pub incident_id: String,
    pub question: String,
    pub asked_by: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub asked_at: Micros,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    #[serde(with = "rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub answered_at: Option<Micros>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tlp: Tlp,
    pub incident_count: i64,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Micros,
}

/// The deadline of one stage as both sides see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageDeadline {
    pub stage_id: String,
    pub name_es: String,
    pub name_en: String,
    pub occurrence: u32,
    #[serde(with = "rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Micros>,
    #[serde(with = "rfc3339_serde::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<Micros>,
    pub state: DeadlineState,
}

/// Where a deadline stands, as the entity and the CSIRT both see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// The stage's anchor is not known yet (the CSIRT has not requested it).
    Waiting,
    /// Due in the future, not yet within its reminder window.
    Pending,
    /// Not submitted and close to its due time.
    DueSoon,
    /// Not submitted and past its due time.
    Overdue,
    MetOnTime,
    MetLate,
    /// The profile does not cover this incident, or the case ended before the stage fell due.
    NotApplicable,
}

impl DeadlineState {
    pub const ALL: [DeadlineState; 7] = [
        DeadlineState::Waiting,
        DeadlineState::Pending,
        DeadlineState::DueSoon,
        DeadlineState::Overdue,
        DeadlineState::MetOnTime,
        DeadlineState::MetLate,
        DeadlineState::NotApplicable,
    ];

    /// The snake_case name of JSON, CSV and CSS classes.
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

    /// Still to be submitted and already running: pending, due soon or overdue.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            DeadlineState::Pending | DeadlineState::DueSoon | DeadlineState::Overdue
        )
    }
}

impl From<baluarte_deadlines::DeadlineState> for DeadlineState {
    fn from(s: baluarte_deadlines::DeadlineState) -> Self {
        use baluarte_deadlines::DeadlineState as E;
        match s {
            E::Waiting => DeadlineState::Waiting,
            E::Pending => DeadlineState::Pending,
            E::DueSoon => DeadlineState::DueSoon,
            E::Overdue => DeadlineState::Overdue,
            E::MetOnTime => DeadlineState::MetOnTime,
            E::MetLate => DeadlineState::MetLate,
            E::NotApplicable => DeadlineState::NotApplicable,
        }
    }
}

impl std::fmt::Display for DeadlineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deadlines {
    pub profile_id: Option<String>,
    pub profile_name_es: Option<String>,
    pub profile_name_en: Option<String>,
    pub applicable: bool,
    /// The state a list shows for the incident (the worst of its stages).
    pub state: DeadlineState,
    pub stages: Vec<StageDeadline>,
}

/// The whole case file of one incident, as far as the reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseFile {
    pub incident: Incident,
    pub deadlines: Deadlines,
    pub submissions: Vec<Submission>,
    pub observables: Vec<ObservableRecord>,
    pub correlations: Vec<CorrelationHint>,
    pub attachments: Vec<Attachment>,
    /// Only the CSIRT's readers see tasks.
    pub tasks: Vec<Task>,
    pub journal: Vec<JournalEntry>,
    pub requests: Vec<InfoRequest>,
    /// Incidents merged into this one.
    pub merged: Vec<RelatedIncident>,
}

/// A notification shown in the application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub incident_id: Option<String>,
    pub title: String,
    #[serde(with = "rfc3339_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Micros,
    pub read: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_taxonomy_has_every_rsit_class_and_type_in_both_languages() {
        let classes = rsit();
        assert_eq!(classes.len(), 11);
        assert_eq!(classes.iter().map(|c| c.types.len()).sum::<usize>(), 39);
        assert!(rsit_valid("fraud", "phishing"));
        assert!(!rsit_valid("fraud", "ddos"));
        assert_eq!(
            rsit_label("availability", Some("ddos"), "es"),
            "Denegación de servicio distribuida"
        );
        assert_eq!(rsit_label("availability", None, "en"), "Availability");
    }
}
