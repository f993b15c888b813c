//! The one access policy. Pure: given who acts, on what kind of record, owned by which entity, with
//! which TLP marking, it answers allow, forbidden (403) or not found (404). The service layer asks it
//! before every read and write; nothing else decides access.
//!
//! Two rules shape every answer:
//! - a record of another entity that the actor may not see is *not found*, never *forbidden*, so that
//!   its existence does not leak;
//! - on records it can see, a role that may not perform the action is *forbidden*.

use crate::error::{CoreError, Result};
use crate::model::{Purpose, Role, Tlp};

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User {
        user_id: String,
    },
    Token {
        token_id: String,
    },
    /// The platform itself (demo loading, migrations, the admin CLI).
    System,
}

/// Who acts, as the service layer sees it. Its fields are private to core: an `Actor` is made only where
/// a principal is authenticated (a session, an API token, the system's own jobs), so no other crate can
/// claim a role it was not given. Tests get theirs from `baluarte-test-support`, through the
/// `test-actors` feature, which the server never enables.
#[derive(Debug, Clone)]
pub struct Actor {
    pub(crate) principal: Principal,
    /// What the audit trail shows: an e-mail, a token name.
    pub(crate) label: String,
    pub(crate) entity_id: String,
    /// None for API tokens, which act only through their purposes.
    pub(crate) role: Option<Role>,
    /// Member of the national authority with a national role: sees across entities.
    pub(crate) national: bool,
    pub(crate) purposes: Vec<Purpose>,
}

impl Actor {
    /// The platform itself: demo loading, the deadline scanner, the outbox, the bootstrap of the first
    /// administrator. Never a person's request.
    pub(crate) fn system() -> Self {
        Actor {
            principal: Principal::System,
            label: "system".into(),
            entity_id: String::new(),
            role: Some(Role::Admin),
            national: true,
            purposes: Vec::new(),
        }
    }
    /// The actor of a signed-in user. `at_national_authority`: whether the user's entity is the
    /// national authority (with a national role, the user then sees across entities).
    pub(crate) fn of_user(user: &crate::model::User, at_national_authority: bool) -> Self {
        Actor {
            principal: Principal::User {
                user_id: user.id.clone(),
            },
            label: user.email.clone(),
            entity_id: user.entity_id.clone(),
            role: Some(user.role),
            national: holds_national_reach(user.role, at_national_authority),
            purposes: Vec::new(),
        }
    }
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The entity the actor belongs to (empty for the system).
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }
    pub fn role(&self) -> Option<Role> {
        self.role
    }
    /// Whether the actor sees across entities.
    pub fn national(&self) -> bool {
        self.national
    }
    pub fn purposes(&self) -> &[Purpose] {
        &self.purposes
    }
    pub fn user_id(&self) -> Option<&str> {
        match &self.principal {
            Principal::User { user_id } => Some(user_id),
            _ => None,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self.principal {
            Principal::User { .. } => "user",
            Principal::Token { .. } => "token",
            Principal::System => "system",
        }
    }
    pub fn id(&self) -> &str {
        match &self.principal {
            Principal::User { user_id } => user_id,
            Principal::Token { token_id } => token_id,
            Principal::System => "system",
        }
    }
}

/// Constructors for test setup only (feature `test-actors`, enabled by `baluarte-test-support`).
#[cfg(feature = "test-actors")]
impl Actor {
    /// The system actor, as the command line acts when it loads a store.
    pub fn system_for_tests() -> Self {
        Self::system()
    }
    /// A user's actor, as a session would build it, with `national` stated rather than derived.
    pub fn user_for_tests(user: &crate::model::User, national: bool) -> Self {
        Actor {
            national,
            ..Self::of_user(user, true)
        }
    }
    /// The same actor with another role (a CSIRT analyst made from the system actor, say).
    pub fn with_role_for_tests(self, role: Role) -> Self {
        Actor {
            role: Some(role),
            ..self
        }
    }
    /// The same actor belonging to another entity.
    pub fn with_entity_for_tests(self, entity_id: &str) -> Self {
        Actor {
            entity_id: entity_id.to_string(),
            ..self
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Sector,
    Entity,
    Contact,
    User,
    ApiToken,
    Audit,
    /// A reported incident, with its observables, attachments, tasks, journal and requests.
    Incident,
    /// A group of related incidents, the CSIRT's own analysis.
    Campaign,
    /// Which deadline profile applies to whom.
    DeadlineAssignment,
    /// An entity's webhook endpoints.
    Webhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Deactivate,
    ResetPassword,
    /// The CSIRT's work on an incident: triage, assignment, status, tasks, journal, requests, merge, close.
    Handle,
    /// The reporting side's part in an incident: send a stage, answer a request, attach a file.
    Contribute,
    /// Share outside the platform: STIX bundles, TAXII.
    Export,
}

/// How far a permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Nothing,
    OwnEntity,
    AnyEntity,
}

/// The permission table for people. National roles reach any entity; entity roles their own.
fn reach_of_role(role: Role, national: bool, resource: Resource, action: Action) -> Reach {
    use Action::*;
    use Resource::*;
    use Role::*;
    let own_or_any = if national { Reach::AnyEntity } else { Reach::OwnEntity };
    match (resource, action) {
        (Sector, Read) => Reach::AnyEntity,
        (Sector, Create | Update) => match role {
            Admin | Coordinator => Reach::AnyEntity,
            _ => Reach::Nothing,
        },
        (Entity, Read) => own_or_any,
        (Entity, Create | Deactivate) => match role {
            Admin | Coordinator => Reach::AnyEntity,
            _ => Reach::Nothing,
        },
        (Entity, Update) => match role {
            Admin | Coordinator => Reach::AnyEntity,
            SecurityOfficer => Reach::OwnEntity,
            _ => Reach::Nothing,
        },
        (Contact, Read) => own_or_any,
        (Contact, Create | Update | Deactivate) => match role {
            Admin | Coordinator | CsirtAnalyst => Reach::AnyEntity,
            SecurityOfficer => Reach::OwnEntity,
            _ => Reach::Nothing,
        },
        (User | ApiToken | Audit, Read) => match role {
            Admin | Coordinator | Auditor => own_or_any,
            SecurityOfficer => Reach::OwnEntity,
            _ => Reach::Nothing,
        },
        (User | ApiToken, Create | Update | Deactivate) => match role {
            Admin => Reach::AnyEntity,
            SecurityOfficer => Reach::OwnEntity,
            _ => Reach::Nothing,
        },
        (User, ResetPassword) => match role {
            Admin => Reach::AnyEntity,
            _ => Reach::Nothing,
        },
        (Incident, Read) => match role {
            Coordinator | CsirtAnalyst | SocAnalyst | Auditor => own_or_any,
            SecurityOfficer | Reporter => Reach::OwnEntity,
            Admin => Reach::Nothing,
        },
        // The CSIRT may file on behalf of an entity (a report received by phone, say).
        (Incident, Create | Contribute) => match role {
            Coordinator | CsirtAnalyst => Reach::AnyEntity,
            SecurityOfficer | Reporter => Reach::OwnEntity,
            _ => Reach::Nothing,
        },
        (Incident | Campaign, Handle | Export) | (Campaign, Read | Create | Update) => match role {
            Coordinator | CsirtAnalyst if national => Reach::AnyEntity,
            _ => Reach::Nothing,
        },
        (DeadlineAssignment, Read) => Reach::AnyEntity,
        (DeadlineAssignment, Create | Deactivate) => match role {
            Admin | Coordinator if national => Reach::AnyEntity,
            _ => Reach::Nothing,
        },
        (Webhook, Read | Create | Deactivate) => match role {
            Admin => Reach::AnyEntity,
            SecurityOfficer => Reach::OwnEntity,
            _ => Reach::Nothing,
        },
        _ => Reach::Nothing,
    }
}

/// The permission table for API tokens: each purpose opens a narrow door on the token's own entity.
fn reach_of_token(purposes: &[Purpose], resource: Resource, action: Action) -> Reach {
    let reads_registry = purposes.contains(&Purpose::RegistryRead);
    let reports = purposes.contains(&Purpose::IncidentsWrite);
    match (resource, action) {
        (Resource::Sector, Action::Read) => Reach::AnyEntity,
        (Resource::Entity | Resource::Contact, Action::Read) if reads_registry => Reach::OwnEntity,
        // A reporting integration files and follows its own entity's incidents.
        (Resource::Incident, Action::Read | Action::Create | Action::Contribute) if reports => Reach::OwnEntity,
        _ => Reach::Nothing,
    }
}

fn reach(actor: &Actor, resource: Resource, action: Action) -> Reach {
    match actor.role {
        Some(role) => reach_of_role(role, actor.national, resource, action),
        None => reach_of_token(&actor.purposes, resource, action),
    }
}

/// Whether the actor sees records of this entity at all (the 404 boundary).
pub fn sees_entity(actor: &Actor, entity_id: &str) -> bool {
    actor.national || actor.entity_id == entity_id
}

/// Decide an action on one record owned by `owner_entity` (None: not owned, e.g. a sector or a
/// creation request that is not tied to an entity).
pub fn check(actor: &Actor, resource: Resource, action: Action, owner_entity: Option<&str>) -> Result<()> {
    if let Some(owner) = owner_entity {
        if !sees_entity(actor, owner) && !matches!(resource, Resource::Sector) {
            return Err(CoreError::NotFound);
        }
    }
    match (reach(actor, resource, action), owner_entity) {
        (Reach::AnyEntity, _) => Ok(()),
        (Reach::OwnEntity, Some(owner)) if owner == actor.entity_id => Ok(()),
        (Reach::OwnEntity, None) => Ok(()),
        _ => Err(CoreError::forbidden(format!("{action:?} on {resource:?}"))),
    }
}

/// For lists: which entities' records the actor may list, or forbidden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListScope {
    All,
    Entity(String),
}

pub fn list_scope(actor: &Actor, resource: Resource) -> Result<ListScope> {
    match reach(actor, resource, Action::Read) {
        Reach::AnyEntity if actor.national || resource == Resource::Sector => Ok(ListScope::All),
        Reach::AnyEntity | Reach::OwnEntity => Ok(ListScope::Entity(actor.entity_id.clone())),
        Reach::Nothing => Err(CoreError::forbidden(format!("list {resource:?}"))),
    }
}

/// Whether an account with this role at this entity sees across entities: the national roles, and an
/// auditor seat at the national authority.
pub fn holds_national_reach(role: Role, at_national_authority: bool) -> bool {
    at_national_authority && (role.is_national_only() || role == Role::Auditor)
}

/// Whether the actor may change what an entity *is* — its kind, its sector, the entity it belongs to —
/// which decides the regulatory deadlines that apply to it: only the national authority's own roles
/// may, never the entity's officer.
pub fn check_entity_classification(actor: &Actor) -> Result<()> {
    if actor.national && actor.role.is_some_and(Role::is_national_only) {
        Ok(())
    } else {
        Err(CoreError::forbidden(
            "only the national authority changes an entity's kind, sector or parent",
        ))
    }
}

/// Whether the actor may give `role` to an account at an entity. Creating or changing users is decided
/// by [`check`] first; this is the further rule on *which* role: only an administrator grants a role that
/// sees across entities (a national role, or an auditor seat at the national authority).
pub fn check_role_grant(actor: &Actor, role: Role, at_national_authority: bool) -> Result<()> {
    let sensitive = role.is_national_only() || holds_national_reach(role, at_national_authority);
    if sensitive && actor.role != Some(Role::Admin) {
        return Err(CoreError::forbidden("only an administrator grants national roles"));
    }
    Ok(())
}

/// Whether the actor may change, deactivate or reset an existing account with `target_role`: an account
/// that sees across entities is changed only by an administrator, so that a security officer or a
/// coordinator cannot take over a national account.
pub fn check_account_change(actor: &Actor, target_role: Role, target_at_national_authority: bool) -> Result<()> {
    if holds_national_reach(target_role, target_at_national_authority) && actor.role != Some(Role::Admin) {
        return Err(CoreError::forbidden("only an administrator changes national accounts"));
    }
    Ok(())
}

/// The roles the actor may grant at an entity: what a user form offers.
pub fn grantable_roles(actor: &Actor, at_national_authority: bool) -> Vec<Role> {
    Role::ALL
        .iter()
        .copied()
        .filter(|r| !r.is_national_only() || at_national_authority)
        .filter(|r| check_role_grant(actor, *r, at_national_authority).is_ok())
        .collect()
}

/// Who may read a record marked with TLP 2.0, beyond the role table:
/// - CLEAR and GREEN: every platform user;
/// - AMBER: the owning entity, the national CSIRT, and the entities it is shared with;
/// - AMBER+STRICT: the owning entity and the national CSIRT;
/// - RED: only the named recipients.
pub fn sees_marking(
    actor: &Actor,
    owner_entity: &str,
    tlp: Tlp,
    shared_with: &[String],
    recipients: &[String],
) -> bool {
    match tlp {
        Tlp::Clear | Tlp::Green => true,
        Tlp::Amber => actor.national || actor.entity_id == owner_entity || shared_with.contains(&actor.entity_id),
        Tlp::AmberStrict => actor.national || actor.entity_id == owner_entity,
        Tlp::Red => actor.user_id().is_some_and(|u| recipients.iter().any(|r| r == u)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role, entity: &str, national: bool) -> Actor {
        Actor {
            principal: Principal::User {
                user_id: format!("u-{role}"),
            },
            label: role.to_string(),
            entity_id: entity.into(),
            role: Some(role),
            national,
            purposes: vec![],
        }
    }

    #[test]
    fn only_an_administrator_grants_or_changes_what_sees_across_entities() {
        let admin = person(Role::Admin, "authority", true);
        let officer = person(Role::SecurityOfficer, "authority", false);
        let coordinator = person(Role::Coordinator, "authority", true);
        for actor in [&officer, &coordinator] {
            assert!(check_role_grant(actor, Role::CsirtAnalyst, true).is_err());
            assert!(
                check_role_grant(actor, Role::Auditor, true).is_err(),
                "auditor seat at the authority"
            );
            assert!(
                check_role_grant(actor, Role::Auditor, false).is_ok(),
                "auditor at an entity"
            );
            assert!(check_account_change(actor, Role::Auditor, true).is_err());
            assert!(check_account_change(actor, Role::Reporter, true).is_ok());
        }
        assert!(check_role_grant(&admin, Role::CsirtAnalyst, true).is_ok());
        assert!(check_account_change(&admin, Role::Coordinator, true).is_ok());
        assert!(!grantable_roles(&officer, false).iter().any(|r| r.is_national_only()));
        assert!(grantable_roles(&admin, true).contains(&Role::Coordinator));
        assert!(
            !grantable_roles(&admin, false).contains(&Role::Coordinator),
            "national roles only at the authority"
        );
    }

    #[test]
    fn foreign_records_are_not_found_for_entity_roles() {
        for role in [Role::SecurityOfficer, Role::Reporter, Role::Auditor] {
            let a = person(role, "own", false);
            for res in [
                Resource::Entity,
                Resource::Contact,
                Resource::User,
                Resource::ApiToken,
                Resource::Audit,
            ] {
                for act in [Action::Read, Action::Update, Action::Create, Action::Deactivate] {
                    assert!(
                        matches!(check(&a, res, act, Some("other")), Err(CoreError::NotFound)),
                        "{role} {res:?} {act:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn reporter_is_forbidden_to_manage_its_own_entity() {
        let a = person(Role::Reporter, "own", false);
        assert!(check(&a, Resource::Entity, Action::Read, Some("own")).is_ok());
        for res in [Resource::User, Resource::ApiToken, Resource::Audit] {
            assert!(matches!(
                check(&a, res, Action::Read, Some("own")),
                Err(CoreError::Forbidden(_))
            ));
        }
        assert!(matches!(
            check(&a, Resource::Contact, Action::Create, Some("own")),
            Err(CoreError::Forbidden(_))
        ));
    }

    #[test]
    fn security_officer_manages_only_its_own_entity() {
        let a = person(Role::SecurityOfficer, "own", false);
        assert!(check(&a, Resource::User, Action::Create, Some("own")).is_ok());
        assert!(check(&a, Resource::ApiToken, Action::Create, Some("own")).is_ok());
        assert!(matches!(
            check(&a, Resource::User, Action::ResetPassword, Some("own")),
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            check(&a, Resource::Entity, Action::Deactivate, Some("own")),
            Err(CoreError::Forbidden(_))
        ));
        assert_eq!(
            list_scope(&a, Resource::User).ok(),
            Some(ListScope::Entity("own".into()))
        );
    }

    #[test]
    fn national_roles_reach_every_entity_within_their_role() {
        let admin = person(Role::Admin, "nat", true);
        assert!(check(&admin, Resource::User, Action::ResetPassword, Some("x")).is_ok());
        let csirt = person(Role::CsirtAnalyst, "nat", true);
        assert!(check(&csirt, Resource::Contact, Action::Update, Some("x")).is_ok());
        assert!(matches!(
            check(&csirt, Resource::User, Action::Create, Some("x")),
            Err(CoreError::Forbidden(_))
        ));
        let auditor = person(Role::Auditor, "nat", true);
        assert_eq!(list_scope(&auditor, Resource::Audit).ok(), Some(ListScope::All));
        assert!(matches!(
            check(&auditor, Resource::Entity, Action::Update, Some("x")),
            Err(CoreError::Forbidden(_))
        ));
    }

    #[test]
    fn tokens_act_only_through_purposes() {
        let mut t = Actor {
            principal: Principal::Token { token_id: "t".into() },
            label: "sensor".into(),
            entity_id: "own".into(),
            role: None,
            national: false,
            purposes: vec![Purpose::EventsWrite],
        };
        assert!(matches!(
            check(&t, Resource::Entity, Action::Read, Some("own")),
            Err(CoreError::Forbidden(_))
        ));
        t.purposes.push(Purpose::RegistryRead);
        assert!(check(&t, Resource::Entity, Action::Read, Some("own")).is_ok());
        assert!(matches!(
            check(&t, Resource::Entity, Action::Read, Some("other")),
            Err(CoreError::NotFound)
        ));
        assert!(matches!(
            check(&t, Resource::User, Action::Read, Some("own")),
            Err(CoreError::Forbidden(_))
        ));
    }

    #[test]
    fn tlp_matrix() {
        let owner = person(Role::Reporter, "own", false);
        let partner = person(Role::Reporter, "partner", false);
        let stranger = person(Role::SecurityOfficer, "other", false);
        let csirt = person(Role::CsirtAnalyst, "nat", true);
        let shared = vec!["partner".to_string()];
        let recipients = vec!["u-reporter".to_string()];
        let cases = [
            (Tlp::Clear, [true, true, true, true]),
            (Tlp::Green, [true, true, true, true]),
            (Tlp::Amber, [true, true, false, true]),
            (Tlp::AmberStrict, [true, false, false, true]),
            // RED: named recipients only (here the reporter's user id), whatever their entity.
            (Tlp::Red, [true, true, false, false]),
        ];
        for (tlp, expect) in cases {
            for (actor, want) in [&owner, &partner, &stranger, &csirt].into_iter().zip(expect) {
                assert_eq!(
                    sees_marking(actor, "own", tlp, &shared, &recipients),
                    want,
                    "{tlp} for {}",
                    actor.entity_id
                );
            }
        }
    }
}
