//! The questions a page asks before it shows a button, a menu entry or a form: would the service allow
//! this actor this action? The answer is the one the service itself gives when the action is taken (the
//! same [`policy`] rule), so a page can never show more than the service permits. The web crate may ask
//! only here: its `clippy.toml` forbids calling the policy directly.

use crate::error::Result;
use crate::model::Role;
use crate::policy::{self, Action, Actor, ListScope, Resource};

/// Whether `actor` may do `action` on a `resource` of `entity` (`None` for what belongs to no entity).
pub fn can(actor: &Actor, resource: Resource, action: Action, entity: Option<&str>) -> bool {
    policy::check(actor, resource, action, entity).is_ok()
}

/// The refusal the service would give (`NotFound` for a foreign record, `Forbidden` for a visible one),
/// for a page that shows a form only to those who may send it.
pub fn permits(actor: &Actor, resource: Resource, action: Action, entity: Option<&str>) -> Result<()> {
    policy::check(actor, resource, action, entity)
}

/// Whether `actor` may list `resource` at all.
pub fn may_list(actor: &Actor, resource: Resource) -> bool {
    policy::list_scope(actor, resource).is_ok()
}

/// Whether `actor` lists `resource` across every entity (the national view), not just its own.
pub fn sees_all(actor: &Actor, resource: Resource) -> bool {
    matches!(policy::list_scope(actor, resource), Ok(ListScope::All))
}

/// The entity a form acts for: the one the actor chose if the actor works across entities (the national
/// authority), otherwise always the actor's own, whatever the form said. The service still checks the
/// action against the entity it is given.
pub fn entity_for(actor: &Actor, requested: Option<&str>) -> String {
    requested
        .map(str::trim)
        .filter(|e| !e.is_empty() && actor.national)
        .map_or_else(|| actor.entity_id.clone(), str::to_string)
}

/// The roles `actor` may grant at some entity: what a user form offers before the entity is chosen. The
/// service still checks the grant against the entity the form names.
/// Whether the entity form offers kind, sector and parent to change ([`policy::check_entity_classification`]).
pub fn may_classify_entities(actor: &Actor) -> bool {
    policy::check_entity_classification(actor).is_ok()
}

pub fn grantable_roles(actor: &Actor) -> Vec<Role> {
    let at_other = policy::grantable_roles(actor, false);
    let at_authority = policy::grantable_roles(actor, true);
    Role::ALL
        .iter()
        .copied()
        .filter(|r| at_other.contains(r) || at_authority.contains(r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Principal;

    fn person(national: bool) -> Actor {
        Actor {
            principal: Principal::User { user_id: "u".into() },
            label: "u@example".into(),
            entity_id: "own".into(),
            role: Some(Role::SecurityOfficer),
            national,
            purposes: Vec::new(),
        }
    }

    #[test]
    fn only_the_national_authority_chooses_the_entity_of_a_form() {
        assert_eq!(entity_for(&person(false), Some("other")), "own");
        assert_eq!(entity_for(&person(false), None), "own");
        assert_eq!(entity_for(&person(true), Some(" other ")), "other");
        assert_eq!(entity_for(&person(true), Some("  ")), "own");
        assert_eq!(entity_for(&person(true), None), "own");
    }

    #[test]
    fn only_an_administrator_is_offered_the_roles_that_see_across_entities() {
        let officer = grantable_roles(&person(false));
        assert!(officer.iter().all(|r| !r.is_national_only()), "{officer:?}");
        assert!(officer.contains(&Role::Reporter) && officer.contains(&Role::Auditor));
        let coordinator = Actor {
            role: Some(Role::Coordinator),
            ..person(true)
        };
        assert_eq!(grantable_roles(&coordinator), officer);
        assert_eq!(grantable_roles(&Actor::system()), Role::ALL.to_vec());
    }
}
