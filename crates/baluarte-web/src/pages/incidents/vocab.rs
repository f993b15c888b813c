//! The vocabularies of incidents as the pages show them: severities, statuses, deadline states, TLP and
//! PAP with their explanations, RSIT classes.

use crate::i18n::{Lang, Tr};
use crate::pages::kit::Opt;
use baluarte_core::incident::{rsit, DeadlineState, Pap, Severity, Status};
use baluarte_core::model::Tlp;
use baluarte_core::policy::{Action, Actor, Resource};
use baluarte_core::service::access;
use baluarte_core::time::{local_display, Micros};

pub(super) fn severity_key(s: Severity) -> &'static str {
    match s {
        Severity::Low => "sev.low",
        Severity::Medium => "sev.medium",
        Severity::High => "sev.high",
        Severity::Critical => "sev.critical",
    }
}

pub(super) fn status_key(s: Status) -> &'static str {
    match s {
        Status::New => "istatus.new",
        Status::Triage => "istatus.triage",
        Status::InProgress => "istatus.in_progress",
        Status::Containment => "istatus.containment",
        Status::Eradication => "istatus.eradication",
        Status::Recovery => "istatus.recovery",
        Status::Closed => "istatus.closed",
        Status::Rejected => "istatus.rejected",
        Status::Merged => "istatus.merged",
    }
}

/// The locale key of a deadline state's label.
pub fn deadline_key(state: DeadlineState) -> &'static str {
    match state {
        DeadlineState::Waiting => "dl.waiting",
        DeadlineState::Pending => "dl.pending",
        DeadlineState::DueSoon => "dl.due_soon",
        DeadlineState::Overdue => "dl.overdue",
        DeadlineState::MetOnTime => "dl.met_on_time",
        DeadlineState::MetLate => "dl.met_late",
        DeadlineState::NotApplicable => "dl.not_applicable",
    }
}

pub(super) fn deadline_label(t: Tr, state: DeadlineState) -> String {
    t.t(deadline_key(state)).to_string()
}

pub(super) fn tlp_hint_key(m: Tlp) -> &'static str {
    match m {
        Tlp::Red => "tlp.hint_red",
        Tlp::AmberStrict => "tlp.hint_amber_strict",
        Tlp::Amber => "tlp.hint_amber",
        Tlp::Green => "tlp.hint_green",
        Tlp::Clear => "tlp.hint_clear",
    }
}

pub(super) fn pap_hint_key(p: Pap) -> &'static str {
    match p {
        Pap::Red => "pap.hint_red",
        Pap::Amber => "pap.hint_amber",
        Pap::Green => "pap.hint_green",
        Pap::Clear => "pap.hint_clear",
    }
}

/// One radio button with its explanation.
#[derive(Debug, Clone)]
pub(super) struct Choice {
    pub id: String,
    pub value: String,
    pub label: String,
    pub hint: String,
    pub checked: bool,
}

pub(super) fn tlp_choices(t: Tr, selected: &str) -> Vec<Choice> {
    [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
        .iter()
        .enumerate()
        .map(|(i, m)| Choice {
            id: format!("tlp-{i}"),
            value: m.as_str().to_string(),
            label: format!("TLP:{m}"),
            hint: t.t(tlp_hint_key(*m)).to_string(),
            checked: m.as_str() == selected,
        })
        .collect()
}

pub(super) fn pap_choices(t: Tr, selected: &str) -> Vec<Choice> {
    [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red]
        .iter()
        .enumerate()
        .map(|(i, p)| Choice {
            id: format!("pap-{i}"),
            value: p.as_str().to_string(),
            label: format!("PAP:{p}"),
            hint: t.t(pap_hint_key(*p)).to_string(),
            checked: p.as_str() == selected,
        })
        .collect()
}

pub(super) fn severity_options(t: Tr, selected: &str) -> Vec<Opt> {
    Severity::ALL
        .iter()
        .map(|s| Opt::new(s.as_str(), t.t(severity_key(*s)), selected))
        .collect()
}

/// An RSIT class and its types, for one `<optgroup>`; option values are `class/type`.
#[derive(Debug, Clone)]
pub(super) struct ClassGroup {
    pub label: String,
    pub opts: Vec<Opt>,
}

pub(super) fn rsit_groups(lang: Lang, selected: &str) -> Vec<ClassGroup> {
    let es = lang != Lang::En;
    rsit()
        .iter()
        .map(|c| ClassGroup {
            label: if es { c.es.clone() } else { c.en.clone() },
            opts: c
                .types
                .iter()
                .map(|ty| {
                    let label = if es { ty.es.clone() } else { ty.en.clone() };
                    Opt::new(&format!("{}/{}", c.id, ty.id), label, selected)
                })
                .collect(),
        })
        .collect()
}

pub(super) fn class_options(lang: Lang, selected: &str) -> Vec<Opt> {
    rsit()
        .iter()
        .map(|c| {
            Opt::new(
                &c.id,
                if lang == Lang::En { c.en.clone() } else { c.es.clone() },
                selected,
            )
        })
        .collect()
}

pub(super) fn when(us: Option<Micros>, zone: &str) -> String {
    us.map(|u| local_display(u, zone)).unwrap_or_default()
}

/// Whether the actor works the national CSIRT's side of this incident (the page shows those forms).
pub(super) fn handles(actor: &Actor, entity_id: &str) -> bool {
    access::can(actor, Resource::Incident, Action::Handle, Some(entity_id))
}
