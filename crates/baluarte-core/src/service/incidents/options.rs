//! What the forms of a case file offer their reader. The rules are the platform's, not the page's: which
//! stages there are (the profile's, or initial/update/final without one), which one is due next, which
//! stages the CSIRT may still request, and who may be assigned the case.

use super::Incidents;
use crate::error::Result;
use crate::incident::{CaseFile, DeadlineState};
use crate::model::{PageRequest, User};
use crate::policy::{self, Action, Actor, Resource};
use crate::service::UserFilter;

/// A stage the CSIRT may request, with its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChoice {
    pub id: String,
    pub name_es: String,
    pub name_en: String,
}

/// The choices of a case file's forms for one reader; empty where the reader may not act.
#[derive(Debug, Clone, Default)]
pub struct CaseOptions {
    /// The reader may send reports and answers for the incident (its own entity's).
    pub may_contribute: bool,
    /// The reader handles the incident (the national CSIRT).
    pub may_handle: bool,
    /// The stages the reporting side may send.
    pub sendable_stages: Vec<String>,
    /// The stage to propose: the first one still due.
    pub proposed_stage: Option<String>,
    /// The stages the CSIRT may request (anchored on a request, not yet requested).
    pub requestable_stages: Vec<StageChoice>,
    /// Who may be assigned the incident: the active members of the national CSIRT the reader may list.
    pub assignees: Vec<User>,
}

impl Incidents<'_> {
    /// The choices of the case file `cf` (as [`Incidents::case_file`] returned it) for `actor`.
    pub async fn case_options(self, actor: &Actor, cf: &CaseFile) -> Result<CaseOptions> {
        let i = &cf.incident;
        let allowed = |a: Action| policy::check(actor, Resource::Incident, a, Some(&i.entity_id)).is_ok();
        let mut o = CaseOptions {
            may_contribute: allowed(Action::Contribute),
            may_handle: allowed(Action::Handle),
            ..CaseOptions::default()
        };
        if o.may_contribute {
            o.sendable_stages = self.stage_ids(i).await?;
            o.proposed_stage = cf
                .deadlines
                .stages
                .iter()
                .find(|st| st.state.is_open())
                .map(|st| st.stage_id.clone());
        }
        if !o.may_handle {
            return Ok(o);
        }
        if let Some(p) = i.profile_id.as_deref().and_then(super::deadlines::profile) {
            let waiting = |id: &str| {
                cf.deadlines
                    .stages
                    .iter()
                    .any(|d| d.stage_id == id && d.state == DeadlineState::Waiting)
            };
            o.requestable_stages = p
                .stages
                .iter()
                .filter(|st| st.anchor.as_str() == "csirt_request" && waiting(&st.id))
                .map(|st| StageChoice {
                    id: st.id.clone(),
                    name_es: st.name_es.clone(),
                    name_en: st.name_en.clone(),
                })
                .collect();
        }
        // A handler whose role may not list users gets no list (and may still clear the assignee).
        let filter = UserFilter {
            entity_id: Some(actor.entity_id.clone()),
            q: None,
            include_inactive: false,
        };
        let page = PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE));
        if let Ok(users) = self.s.users().list_users(actor, &filter, page).await {
            o.assignees = users
                .items
                .into_iter()
                .filter(|u| u.active && u.role.is_csirt())
                .collect();
        }
        Ok(o)
    }
}
