//! Backup and restore of a data directory.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy while the server keeps running; the server key and the
//! audit checkpoint file are copied beside it and a manifest records SHA-256 digests, checked again on
//! restore. PostgreSQL: the database is copied with `pg_dump --format=custom` and restored with
//! `pg_restore` (both must be on the PATH), the key and the checkpoint file as for SQLite. The tools get
//! the password through `PGPASSWORD`, never on their command line (which any local user can read), and
//! errors show the URL redacted.

use crate::audit::CHECKPOINT_FILE;
use crate::crypto::{sha256_hex, KEY_FILE};
use crate::db::{Backend, Db, DbUrl};
use crate::error::{CoreError, FieldCode, FieldError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "baluarte.db";
const PG_FILE: &str = "baluarte.pgdump";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub backend: String,
    pub created_at: String,
    /// File name → SHA-256.
    pub files: Vec<(String, String)>,
}

fn io(path: &Path, e: std::io::Error) -> CoreError {
    CoreError::internal_from(path.display().to_string(), e)
}

fn digest_file(path: &Path) -> Result<String> {
    Ok(sha256_hex(&std::fs::read(path).map_err(|e| io(path, e))?))
}

/// Write a backup of `db`, and of the key and the audit checkpoint file in `data_dir`, into the new
/// directory `out`.
pub async fn backup(db: &Db, data_dir: &Path, out: &Path) -> Result<Manifest> {
    if out.exists() && std::fs::read_dir(out).map_err(|e| io(out, e))?.next().is_some() {
        return Err(not_empty("out", out));
    }
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    // The checkpoint file before the database: a checkpoint reaches the file only after the database
    // holds it, so the copy of the file never names one the copy of the database lacks.
    let checkpoints_src = data_dir.join(CHECKPOINT_FILE);
    let with_checkpoints = match std::fs::copy(&checkpoints_src, out.join(CHECKPOINT_FILE)) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(&checkpoints_src, e)),
    };
    let (backend, file) = match db.backend() {
        Backend::Sqlite => {
            let target = out.join(SQLITE_FILE);
            sqlx::query("VACUUM INTO $1")
                .bind(target.display().to_string())
                .execute(db.pool())
                .await?;
            ("sqlite", SQLITE_FILE)
        }
        Backend::Postgres => {
            let target = out.join(PG_FILE);
            let target = target.display().to_string();
            run_pg(
                "pg_dump",
                db.url(),
                &["--format=custom", "--no-owner", "--file", &target],
            )
            .await?;
            ("postgres", PG_FILE)
        }
    };
    let key_src = data_dir.join(KEY_FILE);
    std::fs::copy(&key_src, out.join(KEY_FILE)).map_err(|e| io(&key_src, e))?;
    let mut names = vec![file, KEY_FILE];
    if with_checkpoints {
        names.push(CHECKPOINT_FILE);
    }
    let files = names
        .iter()
        .map(|f| Ok((f.to_string(), digest_file(&out.join(f))?)))
        .collect::<Result<Vec<_>>>()?;
    let manifest = Manifest {
        format: "baluarte-backup-1".into(),
        backend: backend.into(),
        created_at: crate::time::rfc3339(db.now()),
        files,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| CoreError::internal_from("backup manifest", e))?;
    std::fs::write(out.join(MANIFEST), text).map_err(|e| io(out, e))?;
    Ok(manifest)
}

/// Restore a backup into the empty directory `data_dir` (SQLite) or the empty database at
/// `database_url` (PostgreSQL). Digests are checked before anything is written.
pub async fn restore(from: &Path, data_dir: &Path, database_url: Option<&str>) -> Result<Manifest> {
    let manifest_path = from.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| io(&manifest_path, e))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| CoreError::malformed("manifest", format!("{}: {e}", manifest_path.display())))?;
    for (name, want) in &manifest.files {
        if digest_file(&from.join(name))? != *want {
            return Err(CoreError::malformed(
                "backup",
                format!("{name} does not match its digest in the manifest"),
            ));
        }
    }
    if data_dir.exists()
        && std::fs::read_dir(data_dir)
            .map_err(|e| io(data_dir, e))?
            .next()
            .is_some()
    {
        return Err(not_empty("data_dir", data_dir));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
    match manifest.backend.as_str() {
        "sqlite" => {
            std::fs::copy(from.join(SQLITE_FILE), data_dir.join(SQLITE_FILE)).map_err(|e| io(data_dir, e))?;
        }
        "postgres" => {
            let url = database_url.ok_or_else(|| {
                CoreError::invalid_field(
                    FieldError::new("database_url", FieldCode::NotOneOf).with("choices", "postgres://"),
                )
            })?;
            let dump = from.join(PG_FILE).display().to_string();
            run_pg(
                "pg_restore",
                &DbUrl::new(url),
                &["--no-owner", "--exit-on-error", &dump],
            )
            .await?;
        }
        other => return Err(CoreError::malformed("manifest", format!("unknown backend {other}"))),
    }
    std::fs::copy(from.join(KEY_FILE), data_dir.join(KEY_FILE)).map_err(|e| io(data_dir, e))?;
    if manifest.files.iter().any(|(name, _)| name == CHECKPOINT_FILE) {
        std::fs::copy(from.join(CHECKPOINT_FILE), data_dir.join(CHECKPOINT_FILE)).map_err(|e| io(data_dir, e))?;
    }
    Ok(manifest)
}

/// Run a PostgreSQL client tool on the database at `url`: the URL without its password goes in
/// `--dbname`, the password in `PGPASSWORD`.
async fn run_pg(program: &str, url: &DbUrl, args: &[&str]) -> Result<()> {
    let (dbname, password) = url.split_password()?;
    let mut command = tokio::process::Command::new(program);
    command.args(args).arg("--dbname").arg(&dbname);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let out = command
        .output()
        .await
        .map_err(|e| CoreError::internal_from(format!("{program} (is it installed and on the PATH?)"), e))?;
    if !out.status.success() {
        return Err(CoreError::internal(format!(
            "{program} on {url} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// A directory that must be empty and is not.
fn not_empty(field: &str, dir: &Path) -> CoreError {
    CoreError::invalid_field(FieldError::new(field, FieldCode::NotEmpty).with("path", dir.display().to_string()))
}
