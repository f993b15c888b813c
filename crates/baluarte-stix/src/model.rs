//! The plain data this crate exports from and imports into. No database types: the service layer fills
//! these in and reads them back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A TLP 2.0 level. The order is the order of restriction, so `max` of two levels is the stricter one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    /// The label as FIRST writes it, e.g. `TLP:AMBER+STRICT`.
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }
}

/// An organisation: the producer (the national CSIRT) or an entity that reported an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Our id (a uuid); the STIX identity id is derived from it.
    pub id: String,
    pub name: String,
    /// STIX `industry-sector-ov` values when known; other values are exported as labels.
    pub sectors: Vec<String>,
}

/// What an incident did to the reporting entity, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impact {
    pub service_interruption_minutes: Option<u32>,
    pub people_affected: Option<u64>,
    pub data_compromised: bool,
    pub personal_data: bool,
}

/// One observable of an incident, already in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservableExport {
    /// `ipv4`, `ipv6`, `cidr`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`, `sha512`, `cve` or `asn`.
    /// Other kinds have no STIX form here and are left out of the bundle.
    pub kind: String,
    pub value: String,
    pub first_seen: Timestamp,
}

/// An incident as the national CSIRT shares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentExport {
    pub id: String,
    /// Our human reference, e.g. `BAL-2026-000123`.
    pub reference: String,
    pub title: String,
    pub description: String,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub detected_at: Timestamp,
    /// `new`, `triage`, `in_progress`, `containment`, `eradication`, `recovery`, `closed`, `rejected` or `merged`.
    pub status: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// Reference Security Incident Taxonomy class and type, e.g. `malicious-code` / `infected-system`.
    pub rsit_class: String,
    pub rsit_type: String,
    pub tlp: Tlp,
    pub pap: Option<String>,
    pub reporter: Org,
    pub impact: Impact,
    pub observables: Vec<ObservableExport>,
    pub resolution: Option<String>,
}

/// A set of incidents the CSIRT handles as one campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignExport {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub tlp: Tlp,
    pub incidents: Vec<IncidentExport>,
}

/// What [`crate::parse_bundle`] read from a partner's bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub bundle_id: String,
    /// Entries in the bundle's `objects`, including the skipped ones and types we do not consume.
    pub object_count: usize,
    pub incidents: Vec<ImportedIncident>,
    pub indicators: Vec<ImportedIndicator>,
    pub observables: Vec<ImportedObservable>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedIncident {
    pub stix_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created: Timestamp,
    pub tlp: Option<Tlp>,
    /// The name of the identity in `created_by_ref`, when that identity is in the bundle.
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedIndicator {
    pub stix_id: String,
    pub name: Option<String>,
    pub pattern: String,
    pub valid_from: Timestamp,
    pub tlp: Option<Tlp>,
    /// `(kind, value)` pairs, kinds as in [`ObservableExport::kind`], read from patterns made only of
    /// equality comparisons joined by `AND`/`OR`. Empty for any other pattern.
    pub observables: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedObservable {
    pub stix_id: String,
    /// Kinds as in [`ObservableExport::kind`]; a `file` gives one entry per hash we know.
    pub kind: String,
    pub value: String,
    pub tlp: Option<Tlp>,
}

/// One object left out of an import, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Position in the bundle's `objects`.
    pub index: usize,
    /// The object's `id` when it had a string one.
    pub id: Option<String>,
    /// The property at fault and the problem, e.g. `pattern: unbalanced brackets ...`.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.id {
            Some(id) => write!(f, "objects[{}] ({}): {}", self.index, id, self.reason),
            None => write!(f, "objects[{}]: {}", self.index, self.reason),
        }
    }
}
