//! Deactivating and reactivating a record: the registry's entities and contacts and the accounts'
//! users are never deleted (the audit trail and the incidents keep pointing at them), only switched off.

use crate::audit::{self, Change};
use crate::db::{flag, WriteTx};
use crate::error::Result;
use crate::policy::Actor;
use crate::time::Micros;
use serde::Serialize;

/// The kinds of record that are switched on and off.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Switchable {
    Entity,
    Contact,
    User,
}

impl Switchable {
    /// A fixed table name: never interpolated from input.
    fn table(self) -> &'static str {
        match self {
            Switchable::Entity => "entities",
            Switchable::Contact => "contacts",
            Switchable::User => "users",
        }
    }
    fn object_type(self) -> &'static str {
        match self {
            Switchable::Entity => "entity",
            Switchable::Contact => "contact",
            Switchable::User => "user",
        }
    }
}

/// A record's state before and after the switch; `after.active` is the new flag.
#[derive(Debug)]
pub(crate) struct Switch<'a, T> {
    pub kind: Switchable,
    pub id: &'a str,
    /// The entity the record belongs to (the entity's own id for an entity).
    pub entity_id: &'a str,
    pub active: bool,
    pub before: &'a T,
    pub after: &'a T,
}

/// Write the flag with its time and the audit entry (`deactivate` / `reactivate`) in the caller's
/// transaction. The caller has decided access and its own rules (the national authority stays active,
/// no one deactivates their own account), and commits.
///
/// A record already in the asked state is left alone: no write, no audit entry, and `false`, so that the
/// caller does nothing else either (a user's sessions stay). The flag is tested by the update itself, so of
/// concurrent switches to one state exactly one returns `true`.
pub(crate) async fn write_switch<T: Serialize>(
    tx: &mut WriteTx,
    actor: &Actor,
    now: Micros,
    s: Switch<'_, T>,
) -> Result<bool> {
    let sql = format!(
        "UPDATE {} SET active = $1, updated_at = $2 WHERE id = $3 AND active <> $1",
        s.kind.table()
    );
    let switched = sqlx::query(&sql)
        .bind(flag(s.active))
        .bind(now)
        .bind(s.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if switched == 0 {
        return Ok(false);
    }
    let action = if s.active { "reactivate" } else { "deactivate" };
    audit::append(
        tx,
        actor,
        Change::changed(action, s.kind.object_type(), s.id, s.entity_id, s.before, s.after),
    )
    .await?;
    Ok(true)
}
