//! Actors for test setup. Outside tests an `Actor` is made only by core, where a principal is
//! authenticated; these go through core's `test-actors` feature, which only this crate enables.

use baluarte_core::model::{Role, User};
use baluarte_core::policy::Actor;

/// The system, as the command line acts when it loads a store.
pub fn system() -> Actor {
    Actor::system_for_tests()
}

/// The actor of a user, as a session would build it; `national`: sees across entities.
pub fn user(user: &User, national: bool) -> Actor {
    Actor::user_for_tests(user, national)
}

/// The system actor acting with another role (national, at no entity).
pub fn national(role: Role) -> Actor {
    system().with_role_for_tests(role)
}

/// The system actor with another role, belonging to an entity.
pub fn at_entity(role: Role, entity_id: &str) -> Actor {
    national(role).with_entity_for_tests(entity_id)
}
