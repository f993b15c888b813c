//! Baluarte's STIX 2.1 codec.
//!
//! **Export**: [`export_incident`] and [`export_campaign`] turn an incident (or a campaign of incidents) into a
//! bundle that stix2-validator accepts in strict mode: the national CSIRT's identity as creator of
//! everything, the reporting organisation's identity, the TLP 2.0 marking definitions, an `incident` with the
//! OASIS Incident Core Extension, cyber-observables with their STIX 2.1 §2.9 ids, a `vulnerability` per CVE,
//! one indicator and one sighting per observable, `related-to` relationships and a report listing it all.
//! Ids are derived from our ids, so exporting again gives the same ids and, for the same data, the same bytes.
//!
//! **Import**: [`parse_bundle`] reads a partner's bundle under [`Limits`], returns its incidents, indicators
//! (with the observables of simple patterns) and observables with their TLP, and lists each object it had to
//! skip and why. Only an unreadable bundle is an error ([`StixError`]).
//!
//! No database, no network: plain data in, plain data out.

mod error;
mod export;
mod ids;
mod import;
mod model;
mod pattern;
mod tlp;
mod vocab;

pub use error::StixError;
pub use export::{export_campaign, export_incident, export_incident_objects, Sharing};
pub use import::{parse_bundle, Limits};
pub use model::{
    CampaignExport, Impact, Imported, ImportedIncident, ImportedIndicator, ImportedObservable, IncidentExport,
    ObservableExport, Org, Skipped, Tlp,
};
pub use pattern::{pattern_observables, PatternError};
