//! Incidents ([`Incidents`], `services.incidents()`): a report's intake ([`intake`]), reading the case
//! file ([`cases`]), the reporting side's later stages, answers and attachments ([`reporting`]), the
//! national CSIRT's acts ([`handling`]), the journal with its notes, tasks and requests ([`journal`]),
//! campaigns ([`campaigns`]), deadlines ([`deadlines`]), correlation ([`correlation`]), sharing by STIX
//! and TAXII ([`sharing`], [`taxii`]), the board ([`board`]), and the one visibility rule of every
//! relation between incidents ([`relations`]).

pub(crate) mod board;
mod campaigns;
pub(crate) mod cases;
pub(crate) mod correlation;
pub(crate) mod deadlines;
pub(crate) mod handling;
pub(crate) mod intake;
mod journal;
mod options;
pub(crate) mod relations;
mod reporting;
pub(crate) mod sharing;
pub(crate) mod taxii;

pub use campaigns::CampaignInput;
pub use options::{CaseOptions, StageChoice};
pub use reporting::{StageInput, MAX_ATTACHMENT};

use super::Services;

/// Incidents, from intake to closure, their deadlines, correlation and sharing: `services.incidents()`.
#[derive(Debug, Clone, Copy)]
pub struct Incidents<'a> {
    pub(in crate::service) s: &'a Services,
}
