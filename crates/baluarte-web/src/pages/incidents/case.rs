//! The case file page: what the reader may see of an incident, and the forms of what they may do.

use super::actions::ActRetry;
use super::case_parts::{case_parts, stage_name, CaseParts, SubRow};
use super::vocab::{rsit_groups, severity_options, status_key, ClassGroup};
use crate::auth::SignedIn;
use crate::i18n::{Lang, Tr};
use crate::pages::kit::{render, tlp_options, DoneQuery, Layout, Opt, OrPage, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use baluarte_core::incident::{CaseFile, Status};

use baluarte_core::service::{CaseOptions, MAX_ATTACHMENT};

/// What the reader may do here, as the policy answers (the service still decides every write).
#[derive(Debug, Clone, Default)]
pub(super) struct CaseCan {
    pub handle: bool,
    pub contribute: bool,
}

/// Choices of the case file's forms.
#[derive(Debug, Clone, Default)]
pub(super) struct CaseChoices {
    pub statuses: Vec<Opt>,
    pub severities: Vec<Opt>,
    pub tlps: Vec<Opt>,
    pub groups: Vec<ClassGroup>,
    pub assignees: Vec<Opt>,
    pub campaigns: Vec<Opt>,
    /// Stages the CSIRT may still request (anchored on its request, not yet requested).
    pub requestable: Vec<Opt>,
    /// Stages the reporting side may send.
    pub stages: Vec<Opt>,
}

/// The case file's form choices: the service decides what there is to choose; the page only labels it.
async fn case_choices(
    state: &AppState,
    s: &SignedIn,
    cf: &CaseFile,
    o: &CaseOptions,
) -> Result<CaseChoices, PageError> {
    let t = Tr::new(s.ctx.lang);
    let lang = s.ctx.lang;
    let i = &cf.incident;
    let actor = s.actor();
    let mut ch = CaseChoices::default();
    let proposed = o.proposed_stage.clone().unwrap_or_default();
    ch.stages = o
        .sendable_stages
        .iter()
        .map(|id| Opt::new(id, stage_name(lang, i.profile_id.as_deref(), id), &proposed))
        .collect();
    if !o.may_handle {
        return Ok(ch);
    }
    ch.statuses = Status::WORKING
        .iter()
        .map(|st| Opt::new(st.as_str(), t.t(status_key(*st)), i.status.as_str()))
        .collect();
    ch.severities = severity_options(t, i.severity.as_str());
    ch.tlps = tlp_options(i.tlp.as_str(), true);
    ch.groups = rsit_groups(lang, &format!("{}/{}", i.rsit_class, i.rsit_type));
    ch.requestable = o
        .requestable_stages
        .iter()
        .map(|st| {
            let name = if lang == Lang::En { &st.name_en } else { &st.name_es };
            Opt::new(&st.id, name.clone(), "")
        })
        .collect();
    let selected = i.assignee_id.clone().unwrap_or_default();
    ch.assignees = o
        .assignees
        .iter()
        .map(|u| {
            Opt::new(
                &u.id,
                format!("{} ({})", u.name, t.t(&format!("role.{}", u.role))),
                &selected,
            )
        })
        .collect();
    if !selected.is_empty() && !ch.assignees.iter().any(|o| o.selected) {
        ch.assignees.insert(
            0,
            Opt::new(
                &selected,
                i.assignee_name.clone().unwrap_or_else(|| selected.clone()),
                &selected,
            ),
        );
    }
    let current = i.campaign_id.clone().unwrap_or_default();
    ch.campaigns = state
        .services
        .incidents()
        .list_campaigns(actor)
        .await
        .page(lang)?
        .iter()
        .map(|c| Opt::new(&c.id, c.name.clone(), &current))
        .collect();
    Ok(ch)
}

fn done_key(code: &str) -> Option<&'static str> {
    Some(match code {
        "filed_no_attachment" => "flash.filed_no_attachment",
        "status" => "flash.incident_status",
        "triaged" => "flash.incident_triaged",
        "assigned" => "flash.incident_assigned",
        "task_added" => "flash.task_added",
        "task_done" => "flash.task_done",
        "note_added" => "flash.note_added",
        "requested" => "flash.info_requested",
        "answered" => "flash.request_answered",
        "stage_requested" => "flash.stage_requested",
        "stage_sent" => "flash.stage_sent",
        "attached" => "flash.attached",
        "merged" => "flash.incident_merged",
        "campaign" => "flash.incident_campaign",
        "closed" => "flash.incident_closed",
        "rejected" => "flash.incident_rejected",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "incident_show.html")]
struct CasePage {
    l: Layout,
    p: CaseParts,
    can: CaseCan,
    ch: CaseChoices,
    /// The first submission, for the confirmation after filing.
    filed: Option<SubRow>,
    retry: ActRetry,
    max_mb: usize,
}

pub(super) async fn show(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    case_page(&state, &s, &id, q.done.as_deref(), ActRetry::default()).await
}

/// The case file page; `retry` carries a refused form's errors and input back to it.
pub(super) async fn case_page(
    state: &AppState,
    s: &SignedIn,
    id: &str,
    done: Option<&str>,
    retry: ActRetry,
) -> Result<Response, PageError> {
    let lang = s.ctx.lang;
    let actor = s.actor();
    let cf = state.services.incidents().case_file(actor, id).await.page(lang)?;
    let options = state.services.incidents().case_options(actor, &cf).await.page(lang)?;
    let can = CaseCan {
        handle: options.may_handle,
        contribute: options.may_contribute,
    };
    let ch = case_choices(state, s, &cf, &options).await?;
    let p = case_parts(state, s, &cf).await?;
    let mut l = Layout::signed_in(s, "incidents.title", "incidents", &format!("/incidents/{id}"))
        .with_title(format!("{} · {}", p.c.reference, p.c.title));
    if let Some(key) = done.and_then(done_key) {
        l = l.with_flash(key);
    }
    let filed = (done == Some("filed") || done == Some("filed_no_attachment"))
        .then(|| p.subs.first().cloned())
        .flatten();
    let status = retry.status();
    let mut res = render(CasePage {
        l,
        p,
        can,
        ch,
        filed,
        retry,
        max_mb: MAX_ATTACHMENT / 1024 / 1024,
    });
    *res.status_mut() = status;
    Ok(res)
}
