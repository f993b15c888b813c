//! What every Baluarte test crate shares.
//!
//! - [`require`]: the one rule for what a test needs and may not find (PostgreSQL, a judge such as
//!   stix2-validator or a Python module, the shared corpus): under CI it fails the test, elsewhere the test
//!   says why on stderr and is skipped.
//! - [`actors`]: the system actor, for test setup in crates that may not make one.
//! - [`clock`]: the manual clock every test store runs on. Tests never read the wall clock: they read
//!   this clock, write their fixtures relative to it and move it when they need time to pass.
//! - [`store`]: a fresh store per test on SQLite or PostgreSQL, copied from a template (migrated once, or
//!   with the demo dataset loaded once), and [`conformance!`], which runs a test on both backends.
//! - [`pg`] and [`sqlite`]: the templates behind those stores.
//! - [`poll`]: wait for a condition with a bounded deadline instead of sleeping.
//! - [`smtp_sink`]: a real SMTP server on loopback that keeps what it receives.

pub mod require;

#[cfg(feature = "stores")]
pub mod actors;
#[cfg(feature = "stores")]
pub mod clock;
#[cfg(feature = "stores")]
pub mod pg;
#[cfg(feature = "stores")]
pub mod poll;
#[cfg(feature = "smtp")]
pub mod smtp_sink;
#[cfg(feature = "stores")]
pub mod sqlite;
#[cfg(feature = "stores")]
pub mod store;
#[cfg(feature = "stores")]
mod template;

#[cfg(feature = "stores")]
pub use store::{run, Backend, BoxError, ConformanceTest, TempDir, Template, TestResult, TestStore};

#[cfg(feature = "stores")]
#[doc(hidden)]
pub use paste as __paste;

/// For each listed test function, a test on SQLite (`sqlite_name`) and one on PostgreSQL
/// (`postgres_name`); see [`ConformanceTest`] for the shapes a test function may have. The PostgreSQL
/// half follows [`require`]: without a server it fails under CI and is skipped elsewhere.
///
/// `conformance!(threads = 4; a, b)` gives the runtime of each test four worker threads (two by default).
#[cfg(feature = "stores")]
#[macro_export]
macro_rules! conformance {
    (threads = $threads:tt; $($name:ident),+ $(,)?) => {
        $(
            $crate::__paste::paste! {
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn [<sqlite_ $name>]() {
                    $crate::run($crate::Backend::Sqlite, $name).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn [<postgres_ $name>]() {
                    $crate::run($crate::Backend::Postgres, $name).await;
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $crate::conformance!(threads = 2; $($name),+);
    };
}
