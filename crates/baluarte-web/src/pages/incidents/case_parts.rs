//! What the case file shows, ready for a template: the incident, its deadlines, observables with their
//! correlations, submissions, attachments, tasks, journal and requests. Shared by the case page and the
//! printable report.

use super::vocab::{deadline_label, handles, severity_key, status_key, tlp_hint_key, when};
use crate::auth::SignedIn;
use crate::i18n::{Lang, Tr};
use crate::pages::kit::PageError;
use crate::AppState;
use baluarte_core::incident::{rsit_label, CaseFile, Incident};
use baluarte_core::service::deadline_profile;
use baluarte_core::time::local_display;

#[derive(Debug, Clone)]
pub(super) struct CaseView {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub description: String,
    pub entity_name: String,
    pub reported_by: String,
    pub channel: String,
    pub status: &'static str,
    pub status_label: String,
    pub open: bool,
    pub severity: &'static str,
    pub severity_label: String,
    pub tlp: &'static str,
    /// `amber-strict`…, for the print page's named page (the marking in every page's margins).
    pub tlp_slug: String,
    pub tlp_hint: String,
    pub pap: &'static str,
    pub class_label: String,
    pub type_label: String,
    pub rsit_value: String,
    pub detected: String,
    pub occurred: String,
    pub reported: String,
    pub acknowledged: String,
    pub closed: String,
    pub assignee: String,
    pub affected_services: String,
    pub affected_systems: String,
    pub interruption: String,
    pub people: String,
    pub data_compromised: bool,
    pub personal_data: bool,
    pub resolution: String,
    pub lessons: String,
    pub merged_into: Option<String>,
    pub campaign_id: String,
    pub campaign: Option<String>,
    pub zone: String,
}

fn case_view(t: Tr, i: &Incident, campaign: Option<String>) -> CaseView {
    let lang = t.lang.code();
    let z = &i.time_zone;
    CaseView {
        id: i.id.clone(),
        reference: i.reference.clone(),
        title: i.title.clone(),
        description: i.description.clone(),
        entity_name: i.entity_name.clone(),
        reported_by: i.reported_by_label.clone(),
        channel: i.channel.clone(),
        status: i.status.as_str(),
        status_label: t.t(status_key(i.status)).to_string(),
        open: i.status.is_open(),
        severity: i.severity.as_str(),
        severity_label: t.t(severity_key(i.severity)).to_string(),
        tlp: i.tlp.as_str(),
        tlp_slug: i.tlp.as_str().to_ascii_lowercase().replace('+', "-"),
        tlp_hint: t.t(tlp_hint_key(i.tlp)).to_string(),
        pap: i.pap.as_str(),
        class_label: rsit_label(&i.rsit_class, None, lang),
        type_label: rsit_label(&i.rsit_class, Some(&i.rsit_type), lang),
        rsit_value: format!("{}/{}", i.rsit_class, i.rsit_type),
        detected: local_display(i.detected_at, z),
        occurred: when(i.occurred_at, z),
        reported: local_display(i.created_at, z),
        acknowledged: when(i.acknowledged_at, z),
        closed: when(i.closed_at, z),
        assignee: i.assignee_name.clone().unwrap_or_default(),
        affected_services: i.affected_services.clone(),
        affected_systems: i.affected_systems.clone(),
        interruption: i.interruption_minutes.map(|m| m.to_string()).unwrap_or_default(),
        people: i.people_affected.map(|m| m.to_string()).unwrap_or_default(),
        data_compromised: i.data_compromised,
        personal_data: i.personal_data,
        resolution: i.resolution.clone().unwrap_or_default(),
        lessons: i.lessons_learned.clone().unwrap_or_default(),
        merged_into: i.merged_into.clone(),
        campaign_id: i.campaign_id.clone().unwrap_or_default(),
        campaign,
        zone: z.clone(),
    }
}

#[derive(Debug, Clone)]
pub(super) struct StageRow {
    pub name: String,
    pub due: String,
    pub submitted: String,
    pub state: &'static str,
    pub label: String,
}

#[derive(Debug, Clone)]
pub(super) struct DeadlineView {
    pub profile: String,
    pub applicable: bool,
    pub state: &'static str,
    pub label: String,
    pub stages: Vec<StageRow>,
}

fn deadline_view(t: Tr, cf: &CaseFile) -> DeadlineView {
    let d = &cf.deadlines;
    let en = t.lang == Lang::En;
    let z = &cf.incident.time_zone;
    DeadlineView {
        profile: if en {
            d.profile_name_en.clone()
        } else {
            d.profile_name_es.clone()
        }
        .unwrap_or_default(),
        applicable: d.applicable,
        state: d.state.as_str(),
        label: deadline_label(t, d.state),
        stages: d
            .stages
            .iter()
            .map(|st| {
                let mut name = if en { st.name_en.clone() } else { st.name_es.clone() };
                if name.is_empty() {
                    name = st.stage_id.clone();
                }
                if st.occurrence > 1 {
                    name = format!("{name} ({})", st.occurrence);
                }
                StageRow {
                    name,
                    due: when(st.due_at, z),
                    submitted: when(st.submitted_at, z),
                    state: st.state.as_str(),
                    label: deadline_label(t, st.state),
                }
            })
            .collect(),
    }
}

/// The name of a stage of the incident's profile, in the page's language.
pub(super) fn stage_name(lang: Lang, profile_id: Option<&str>, stage_id: &str) -> String {
    profile_id
        .and_then(deadline_profile)
        .and_then(|p| p.stage(stage_id))
        .map(|st| {
            if lang == Lang::En {
                st.name_en.clone()
            } else {
                st.name_es.clone()
            }
        })
        .unwrap_or_else(|| stage_id.to_string())
}

#[derive(Debug, Clone)]
pub(super) struct RelRow {
    pub id: String,
    pub reference: String,
    pub entity: String,
    pub title: String,
    pub status_label: String,
}

#[derive(Debug, Clone)]
pub(super) struct ObsRow {
    pub kind: String,
    pub value: String,
    /// "También reportado por 3 instituciones", as far as the reader may know; empty when alone.
    pub hint: String,
    /// The first related incidents (the CSIRT only); the rest under "more".
    pub related: Vec<RelRow>,
    pub more: Vec<RelRow>,
}

/// Related incidents shown at once next to an observable; the rest fold away.
const RELATED_SHOWN: usize = 5;

/// The correlation hint of an observable in words.
fn hint_words(t: Tr, reports: i64, entities: i64) -> String {
    let (key, n) = match (reports, entities) {
        (_, 1) => ("obs.other_entity_one", 1),
        (_, e) if e > 1 => ("obs.other_entities", e),
        (1, _) => ("obs.other_report_one", 1),
        (r, _) if r > 1 => ("obs.other_reports", r),
        _ => return String::new(),
    };
    t.t(key).replace("{n}", &n.to_string())
}

#[derive(Debug, Clone)]
pub(super) struct SubRow {
    pub id: String,
    pub stage: String,
    pub at: String,
    pub by: String,
    pub digest: String,
}

#[derive(Debug, Clone)]
pub(super) struct AttRow {
    pub id: String,
    pub filename: String,
    pub size: String,
    pub sha256: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone)]
pub(super) struct TaskRow {
    pub id: String,
    pub title: String,
    pub done: bool,
}

#[derive(Debug, Clone)]
pub(super) struct JournalRow {
    pub at: String,
    pub who: String,
    pub kind: String,
    pub body: String,
    pub shared: bool,
}

#[derive(Debug, Clone)]
pub(super) struct RequestRow {
    pub id: String,
    /// The name of its answer form (`answer-<id>`).
    pub form: String,
    pub question: String,
    pub asked_by: String,
    pub asked_at: String,
    pub answer: Option<String>,
    pub answered_by: String,
    pub answered_at: String,
}

fn journal_kind(t: Tr, kind: &str) -> String {
    let key = match kind {
        "reported" => "jk.reported",
        "note" => "jk.note",
        "status" => "jk.status",
        "assignment" => "jk.assignment",
        "request" => "jk.request",
        "answer" => "jk.answer",
        "stage" => "jk.stage",
        "stage_request" => "jk.stage_request",
        "merge" => "jk.merge",
        "close" => "jk.close",
        "reject" => "jk.reject",
        "campaign" => "jk.campaign",
        "triage" => "jk.triage",
        "task" => "jk.task",
        "attachment" => "jk.attachment",
        other => return other.to_string(),
    };
    t.t(key).to_string()
}

fn human_size(n: i64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / 1024.0 / 1024.0)
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// Everything of the case file the reader may see, ready to show (the case page and the print page).
pub(super) struct CaseParts {
    pub c: CaseView,
    pub dl: DeadlineView,
    pub obs: Vec<ObsRow>,
    pub subs: Vec<SubRow>,
    pub atts: Vec<AttRow>,
    pub tasks: Vec<TaskRow>,
    pub journal: Vec<JournalRow>,
    pub requests: Vec<RequestRow>,
    pub merged: Vec<RelRow>,
}

fn rel_row(t: Tr, r: &baluarte_core::incident::RelatedIncident) -> RelRow {
    RelRow {
        id: r.id.clone(),
        reference: r.reference.clone(),
        entity: r.entity_name.clone(),
        title: r.title.clone(),
        status_label: t.t(status_key(r.status)).to_string(),
    }
}

pub(super) async fn case_parts(state: &AppState, s: &SignedIn, cf: &CaseFile) -> Result<CaseParts, PageError> {
    let t = Tr::new(s.ctx.lang);
    let lang = s.ctx.lang;
    let i = &cf.incident;
    let z = &i.time_zone;
    let campaign = match &i.campaign_id {
        Some(c) if handles(s.actor(), &i.entity_id) => state
            .services
            .incidents()
            .get_campaign(s.actor(), c)
            .await
            .ok()
            .map(|c| c.name),
        _ => None,
    };
    let obs = cf
        .observables
        .iter()
        .map(|o| {
            let key = format!("{}:{}", o.kind, o.value);
            let hint = cf.correlations.iter().find(|h| h.observable == key);
            let mut related: Vec<RelRow> = hint
                .map(|h| h.incidents.iter().map(|r| rel_row(t, r)).collect())
                .unwrap_or_default();
            let more = related.split_off(related.len().min(RELATED_SHOWN));
            ObsRow {
                kind: o.kind.clone(),
                value: o.value.clone(),
                hint: hint
                    .map(|h| hint_words(t, h.other_reports, h.other_entities))
                    .unwrap_or_default(),
                related,
                more,
            }
        })
        .collect();
    Ok(CaseParts {
        c: case_view(t, i, campaign),
        dl: deadline_view(t, cf),
        obs,
        subs: cf
            .submissions
            .iter()
            .map(|sub| SubRow {
                id: sub.id.clone(),
                stage: stage_name(lang, i.profile_id.as_deref(), &sub.stage_id),
                at: local_display(sub.submitted_at, z),
                by: sub.submitted_by.clone(),
                digest: sub.digest.clone(),
            })
            .collect(),
        atts: cf
            .attachments
            .iter()
            .map(|a| AttRow {
                id: a.id.clone(),
                filename: a.filename.clone(),
                size: human_size(a.size),
                sha256: a.sha256.clone(),
                by: a.uploaded_by.clone(),
                at: local_display(a.created_at, z),
            })
            .collect(),
        tasks: cf
            .tasks
            .iter()
            .map(|task| TaskRow {
                id: task.id.clone(),
                title: task.title.clone(),
                done: task.done,
            })
            .collect(),
        journal: cf
            .journal
            .iter()
            .rev()
            .map(|j| JournalRow {
                at: local_display(j.at, z),
                who: j.author_label.clone(),
                kind: journal_kind(t, &j.kind),
                body: j.body.clone(),
                shared: j.shared,
            })
            .collect(),
        requests: cf
            .requests
            .iter()
            .map(|r| RequestRow {
                id: r.id.clone(),
                form: format!("answer-{}", r.id),
                question: r.question.clone(),
                asked_by: r.asked_by.clone(),
                asked_at: local_display(r.asked_at, z),
                answer: r.answer.clone(),
                answered_by: r.answered_by.clone().unwrap_or_default(),
                answered_at: when(r.answered_at, z),
            })
            .collect(),
        merged: cf.merged.iter().map(|r| rel_row(t, r)).collect(),
    })
}
