//! What the command's tests share: the shared corpora, and a `baluarte serve` child found by the address
//! it reports.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

/// The corpus directory (`../shared/data` beside the repository, or `BALUARTE_CORPUS`), or None when it
/// is absent: `baluarte_test_support::require` then fails the test under CI and skips it elsewhere.
pub fn corpus() -> Option<PathBuf> {
    baluarte_test_support::require::corpus("sigma")
}

/// How long a server may take to start: migrations, on a machine busy with other tests.
const START: Duration = Duration::from_secs(60);

/// The base URL of a `baluarte serve` started with `--listen 127.0.0.1:0` and its standard output going
/// to `stdout`: the address it reports having bound (`listening on http://…`), once `/readyz` answers
/// 200 there. Panics, with the output so far, when the server exits first or does not get there in
/// time; the server is killed then, so that it does not outlive the test.
pub async fn wait_for_server(child: &mut Child, stdout: &Path) -> String {
    let guard = KillOnPanic(child);
    let base = baluarte_test_support::poll::until_some("the server to report its address", START, || {
        let exited = guard.0.try_wait().ok().flatten();
        let out = std::fs::read_to_string(stdout).unwrap_or_default();
        assert!(
            exited.is_none(),
            "the server exited ({exited:?}) before listening: {out}"
        );
        let base = out
            .lines()
            .find_map(|l| l.strip_prefix("listening on "))
            .map(|url| url.trim().to_string());
        async move { base }
    })
    .await;
    let ready = format!("{base}/readyz");
    baluarte_test_support::poll::until(format!("{ready} to answer 200"), START, || {
        let ready = ready.clone();
        async move { reqwest::get(ready).await.is_ok_and(|r| r.status() == 200) }
    })
    .await;
    drop(guard);
    base
}

/// Kills the child when dropped during a panic.
struct KillOnPanic<'a>(&'a mut Child);

impl Drop for KillOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
