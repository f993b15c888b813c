//! Waiting for a condition, with a bounded deadline, instead of a fixed sleep: a test goes on as soon
//! as what it waits for is true, and fails with a message naming it when that never happens.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

/// How long to wait between two checks.
const INTERVAL: Duration = Duration::from_millis(20);

/// The first `Some` that `check` returns, checking every few milliseconds.
///
/// # Panics
/// When `within` passes without one: "timed out after … waiting for {what}".
pub async fn until_some<T, F, Fut>(what: impl Display, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let waited = tokio::time::timeout(within, async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(INTERVAL).await;
        }
    })
    .await;
    match waited {
        Ok(value) => value,
        Err(_) => panic!("timed out after {within:?} waiting for {what}"),
    }
}

/// Return once `check` is true (see [`until_some`]).
pub async fn until<F, Fut>(what: impl Display, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    until_some(what, within, || {
        let ready = check();
        async move { ready.await.then_some(()) }
    })
    .await;
}
