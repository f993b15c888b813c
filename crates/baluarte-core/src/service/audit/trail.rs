//! Reading the audit trail: the entries a person may list.

use super::Audit;
use crate::audit::{self, ENTRY_COLUMNS};
use crate::error::Result;
use crate::model::{AuditEntry, Page, PageRequest};
use crate::policy::{Actor, Resource};
use crate::service::kit::paging::page_of;
use crate::service::kit::sql::Filter;
use crate::service::kit::tenancy;

impl Audit<'_> {
    /// Entries the actor may read, newest first: all for national auditors and administrators, the own
    /// entity's for a security officer or an entity auditor.
    pub async fn list_audit(
        self,
        actor: &Actor,
        entity_id: Option<&str>,
        object_type: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let mut f = Filter::default();
        tenancy::scope(&mut f, actor, Resource::Audit, "entity_id", entity_id)?;
        if let Some(t) = object_type {
            f.eq("object_type", t);
        }
        page_of(
            &self.s.db,
            "audit_log",
            ENTRY_COLUMNS,
            &f,
            "seq DESC",
            page,
            audit::entry_from_row,
        )
        .await
    }
}
