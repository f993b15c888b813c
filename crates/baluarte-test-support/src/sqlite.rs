//! SQLite templates: a migrated database file, and one with the demo dataset loaded, each made once per
//! test process and copied into every test's data directory (a copy is far cheaper than migrating, and
//! than loading the demo through the service layer).
//!
//! They live in `$TMPDIR/baluarte-tpl-<pid>/`; a process cannot remove its own at exit, so the first
//! template a process makes removes those of processes that are gone.

use crate::store::{Template, TestResult};
use baluarte_core::db::Db;
use std::path::{Path, PathBuf};
use tokio::sync::OnceCell;

/// The file every SQLite store keeps its data in (`Db::sqlite_url`).
const DB_FILE: &str = "baluarte.db";

/// Copy `template` into `data_dir` (made first when this process has not made it yet).
pub async fn copy_into(template: Template, data_dir: &Path) -> TestResult {
    let source = file(template).await?;
    std::fs::create_dir_all(data_dir)?;
    std::fs::copy(source, data_dir.join(DB_FILE))?;
    Ok(())
}

/// The template's database file.
pub async fn file(template: Template) -> TestResult<&'static Path> {
    static MIGRATED: OnceCell<PathBuf> = OnceCell::const_new();
    static DEMO: OnceCell<PathBuf> = OnceCell::const_new();
    let (cell, name) = match template {
        Template::Migrated => (&MIGRATED, "migrated"),
        Template::Demo => (&DEMO, "demo"),
    };
    let path = cell
        .get_or_try_init(|| async move {
            let dir = process_dir()?.join(name);
            make(template, &dir).await?;
            Ok::<_, crate::store::BoxError>(dir.join(DB_FILE))
        })
        .await?;
    Ok(path.as_path())
}

/// Migrate a new database in `dir` (and load the demo into it), then close it so that the file holds
/// everything: closing the last connection checkpoints the write-ahead log into it.
async fn make(template: Template, dir: &Path) -> TestResult {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let db = Db::connect(&Db::sqlite_url(dir))
        .await?
        .with_clock(crate::clock::clock());
    let loaded = match template {
        Template::Migrated => Ok(()),
        Template::Demo => crate::store::load_demo(&db).await,
    };
    let checkpoint = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(db.pool()).await;
    db.close().await;
    loaded?;
    checkpoint?;
    let wal = dir.join(format!("{DB_FILE}-wal"));
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(format!(
            "{}: the write-ahead log was not folded into the database",
            wal.display()
        )
        .into());
    }
    Ok(())
}

/// This process's template directory, after removing those of processes that have ended.
fn process_dir() -> TestResult<PathBuf> {
    let tmp = std::env::temp_dir();
    let mine = format!("baluarte-tpl-{}", std::process::id());
    remove_ended(&tmp, &mine);
    let dir = tmp.join(mine);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(target_os = "linux")]
fn remove_ended(tmp: &Path, mine: &str) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("baluarte-tpl-") else {
            continue;
        };
        if name != mine && pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn remove_ended(_tmp: &Path, _mine: &str) {}
