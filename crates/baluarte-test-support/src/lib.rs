//! What every Baluarte test crate shares.
//!
//! - [`clock`]: the manual clock every test store runs on. Tests never read the wall clock: they read
//!   this clock, write their fixtures relative to it and move it when they need time to pass.

pub mod actors;
pub mod clock;
