//! What the command's tests share: the shared corpora, running the command (on a data directory, on a
//! copy of one with the demo loaded), a SQLite store edited behind its back, and a `baluarte serve`
//! child found by the address it reports.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use sqlx::{Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
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

// ----- running the command -----

/// Run the command on `data_dir` (its SQLite store), with warnings only in the logs.
pub fn baluarte(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("BALUARTE_DATABASE_URL")
        .env("BALUARTE_LOG", "warn")
        .output()
        .expect("run baluarte")
}

/// What a run printed, standard output then standard error.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A new data directory with the demo loaded (and signed by its checkpoint).
pub fn demo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = baluarte(dir.path(), &["demo", "--no-serve"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("seguridad@sat.example"),
        "the demo prints its accounts: {}",
        text(&o)
    );
    dir
}

/// A copy of a stopped server's data directory (the store, its key): four tamperings of one demo
/// without loading the demo four times.
pub fn copy_of(dir: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    copy
}

/// Run statements on the SQLite store in `dir`, behind the platform's back.
pub async fn sql(dir: &Path, statements: &[&str]) {
    let url = format!("sqlite://{}", dir.join("baluarte.db").display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    for s in statements {
        sqlx::query(s).execute(&mut conn).await.unwrap();
    }
}

/// `audit verify` fails and its output names `entry`.
pub fn verify_fails_naming(dir: &Path, entry: &str) {
    let o = baluarte(dir, &["audit", "verify"]);
    assert!(!o.status.success(), "tampering must fail verification");
    let out = text(&o);
    assert!(out.contains(entry), "expected {entry:?} in: {out}");
}
