//! Actors for test setup. The web crate may not make a system actor (its `clippy.toml` forbids it: the
//! web acts only for authenticated principals); its tests set up stores through this one.

use baluarte_core::policy::Actor;

/// The system, as the command line acts when it loads a store.
pub fn system() -> Actor {
    Actor::system()
}
