//! The tenancy filter, written once: what [`policy::list_scope`] lets an actor list, as a SQL `WHERE`
//! clause and its binds. Every list of entity-owned rows (entities, users, API tokens, audit entries,
//! incidents, the registry's counts) narrows its query through [`scope`].

use super::sql::Filter;
use crate::error::{CoreError, Result};
use crate::policy::{self, Actor, ListScope, Resource};

/// Narrow `f` to the rows of `resource` the actor may list: every entity's for a national role, else
/// `column = <own entity>`. With `requested`, to that one entity's rows; an actor confined to its own
/// entity who asks for another's is answered `NotFound`, so a foreign entity's existence never leaks.
/// An actor the policy lets list nothing is refused here, before any SQL runs.
pub(crate) fn scope(
    f: &mut Filter,
    actor: &Actor,
    resource: Resource,
    column: &str,
    requested: Option<&str>,
) -> Result<()> {
    match policy::list_scope(actor, resource)? {
        ListScope::Entity(own) => {
            if requested.is_some_and(|e| e != own) {
                return Err(CoreError::NotFound);
            }
            f.eq(column, own);
        }
        ListScope::All => {
            if let Some(e) = requested {
                f.eq(column, e);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::policy::Principal;

    fn person(role: Role, entity: &str, national: bool) -> Actor {
        Actor {
            principal: Principal::User { user_id: "u1".into() },
            label: "u1@example.mx".into(),
            entity_id: entity.into(),
            role: Some(role),
            national,
            purposes: Vec::new(),
        }
    }

    #[test]
    fn an_entity_role_lists_its_own_entity_only() {
        let officer = person(Role::SecurityOfficer, "e1", false);
        let mut f = Filter::default();
        assert!(scope(&mut f, &officer, Resource::User, "entity_id", None).is_ok());
        assert_eq!(f.where_sql(), " WHERE entity_id = $1");
        let mut f = Filter::default();
        assert!(scope(&mut f, &officer, Resource::User, "entity_id", Some("e1")).is_ok());
        assert_eq!(f.where_sql(), " WHERE entity_id = $1");
        let mut f = Filter::default();
        let foreign = scope(&mut f, &officer, Resource::User, "entity_id", Some("e2"));
        assert!(matches!(foreign, Err(CoreError::NotFound)), "{foreign:?}");
    }

    #[test]
    fn a_national_role_lists_every_entity_or_the_one_asked_for() {
        let admin = person(Role::Admin, "authority", true);
        let mut f = Filter::default();
        assert!(scope(&mut f, &admin, Resource::User, "entity_id", None).is_ok());
        assert_eq!(f.where_sql(), "");
        assert!(scope(&mut f, &admin, Resource::User, "entity_id", Some("e2")).is_ok());
        assert_eq!(f.where_sql(), " WHERE entity_id = $1");
    }
}
