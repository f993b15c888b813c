//! The `baluarte` command as an operator runs it: demo data, backup and restore, the first administrator,
//! configuration errors, graceful shutdown. The audit trail's tampering and witnesses are
//! `audit_cli.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{baluarte, demo_dir, text};

use sqlx::{Connection, Row, SqliteConnection};
use std::path::Path;
use std::process::Command;

async fn registry_digest(dir: &Path) -> (i64, i64, i64, String) {
    let url = format!("sqlite://{}", dir.join("baluarte.db").display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    let count = |t: &str| format!("SELECT COUNT(*) AS n FROM {t}");
    let e: i64 = sqlx::query(&count("entities"))
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("n");
    let u: i64 = sqlx::query(&count("users"))
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("n");
    let c: i64 = sqlx::query(&count("contacts"))
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("n");
    let rows = sqlx::query("SELECT id, name, kind, time_zone, updated_at FROM entities ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let joined: String = rows
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{};",
                r.get::<String, _>(0),
                r.get::<String, _>(1),
                r.get::<String, _>(2),
                r.get::<String, _>(3),
                r.get::<i64, _>(4)
            )
        })
        .collect();
    (e, u, c, joined)
}

#[tokio::test]
async fn backup_then_restore_gives_an_identical_verifying_registry() {
    let dir = demo_dir();
    let backups = tempfile::tempdir().unwrap();
    let out = backups.path().join("b1");
    let o = baluarte(dir.path(), &["backup", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let o = baluarte(&target, &["restore", "--from", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("chain intact"),
        "restore verifies the chain: {}",
        text(&o)
    );
    assert_eq!(registry_digest(dir.path()).await, registry_digest(&target).await);

    // Not into a directory that has data, and not from a backup that was altered.
    let o = baluarte(dir.path(), &["restore", "--from", out.to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("not empty"), "{}", text(&o));
    std::fs::write(out.join("baluarte.db"), b"garbage").unwrap();
    let o = baluarte(
        &restored.path().join("other"),
        &["restore", "--from", out.to_str().unwrap()],
    );
    assert!(!o.status.success() && text(&o).contains("digest"), "{}", text(&o));
}

#[test]
fn first_administrator_and_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "admin",
            "create",
            "--email",
            "Ana@CNCS.example",
            "--name",
            "Ana Pérez",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"una frase de paso larga\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ana@cncs.example"));
    // Again: the e-mail is taken; the error names the field.
    let o = baluarte(
        dir.path(),
        &["admin", "create", "--email", "ana@cncs.example", "--name", "Otra"],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("email: already in use"), "{}", text(&o));
    // A bad setting names its variable.
    let o = Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .args(["migrate"])
        .env("BALUARTE_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("BALUARTE_LISTEN"), "{}", text(&o));
}

#[tokio::test]
async fn serve_answers_probes_and_stops_gracefully_on_sigterm() {
    let dir = demo_dir();
    let stdout = dir.path().join("serve.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("BALUARTE_LOG", "warn")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .spawn()
        .unwrap();
    let base = common::wait_for_server(&mut child, &stdout).await;
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("baluarte_entities 296"), "{metrics}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

#[tokio::test]
async fn a_config_file_sets_the_store_and_the_address_and_logs_are_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let config = dir.path().join("baluarte.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nlog_format = \"json\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let stdout = dir.path().join("serve.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_remove("BALUARTE_DATA_DIR")
        .env_remove("BALUARTE_LISTEN")
        .env_remove("BALUARTE_LOG_FORMAT")
        .env_remove("BALUARTE_DATABASE_URL")
        .env("BALUARTE_LOG", "info")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The file asks for port 0: the server listens on the loopback address it names, on a port the
    // system chose (not the default 8080).
    let base = common::wait_for_server(&mut child, &stdout).await;
    let bound: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    assert!(
        bound.ip().is_loopback() && bound.port() != 0 && bound.port() != 8080,
        "the server listens where the file says: {base}"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        data.join("baluarte.db").exists() && data.join("server-ed25519.key").exists(),
        "the store is where the file says"
    );
    let logs = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "serving" && l["fields"]["listen"] == bound.to_string()),
        "the log names the bound address {bound}: {logs}"
    );
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "stopped"),
        "a clean stop is logged: {logs}"
    );
}

// ----- the database password stays a secret -----

/// A fresh value nobody else has, for role names and passwords.
fn random_hex() -> String {
    use std::hash::BuildHasher;
    let s = std::collections::hash_map::RandomState::new();
    format!("{:016x}{:016x}", s.hash_one(1u8), s.hash_one(2u8))
}

/// A login role with a password, owning two fresh databases on the local PostgreSQL server; all three
/// are dropped when this goes out of scope. The server trusts local connections, so any password logs
/// in: what matters here is only where the password travels.
struct PgRole {
    admin_url: String,
    role: String,
    secret: String,
    databases: [String; 2],
}

impl PgRole {
    /// None when the server cannot be reached (`baluarte_test_support::require` then fails the test
    /// under CI, and skips it elsewhere).
    async fn create() -> Option<PgRole> {
        use sqlx::Connection;
        let admin_url = baluarte_test_support::pg::admin_url();
        let mut admin = match baluarte_test_support::pg::connect_admin(&admin_url).await {
            Ok(c) => c,
            Err(e) => {
                baluarte_test_support::require::missing(e);
                return None;
            }
        };
        let id = random_hex();
        let role = PgRole {
            admin_url,
            role: format!("baluarte_t_{}", &id[..16]),
            secret: format!("pw{}", random_hex()),
            databases: [
                format!("baluarte_t_{}_a", &id[..16]),
                format!("baluarte_t_{}_b", &id[..16]),
            ],
        };
        let mut statements = vec![format!("CREATE ROLE {} LOGIN PASSWORD '{}'", role.role, role.secret)];
        for db in &role.databases {
            statements.push(format!("CREATE DATABASE {db} OWNER {}", role.role));
        }
        for s in statements {
            sqlx::query(&s).execute(&mut admin).await.unwrap();
        }
        let _ = admin.close().await;
        Some(role)
    }

    /// `postgres://role:secret@host:port/db` for database `i`.
    fn url_with_userinfo(&self, i: usize) -> String {
        let mut u = url::Url::parse(&self.admin_url).unwrap();
        u.set_username(&self.role).unwrap();
        u.set_password(Some(&self.secret)).unwrap();
        u.set_path(&format!("/{}", self.databases[i]));
        u.to_string()
    }

    /// `postgres://role@host:port/db?password=secret` for database `i`.
    fn url_with_query(&self, i: usize) -> String {
        let mut u = url::Url::parse(&self.admin_url).unwrap();
        u.set_username(&self.role).unwrap();
        u.set_password(None).unwrap();
        u.set_path(&format!("/{}", self.databases[i]));
        u.set_query(Some(&format!("password={}", self.secret)));
        u.to_string()
    }
}

impl Drop for PgRole {
    fn drop(&mut self) {
        use sqlx::Connection;
        let (url, role, dbs) = (self.admin_url.clone(), self.role.clone(), self.databases.clone());
        // Drop runs inside the test's runtime; the clean-up gets a runtime of its own on another thread.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
                for db in dbs {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
                let _ = sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
                    .execute(&mut admin)
                    .await;
            });
        });
        let _ = cleanup.join();
    }
}

/// A directory holding `pg_dump` and `pg_restore` stand-ins that note their arguments and the
/// PGPASSWORD they were given, then run the real program with the same arguments.
struct ToolSpy {
    dir: tempfile::TempDir,
}

impl ToolSpy {
    fn new() -> ToolSpy {
        let dir = tempfile::tempdir().unwrap();
        for tool in ["pg_dump", "pg_restore"] {
            let real = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|p| p.join(tool))
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("{tool} must be on the PATH (postgresql-client)"));
            let log = dir.path().join(tool);
            let script = format!(
                "#!/bin/sh\nprintf 'argv: %s\\n' \"$*\" >> '{log}.log'\nprintf 'PGPASSWORD=%s\\n' \"${{PGPASSWORD-}}\" >> '{log}.log'\nexec '{real}' \"$@\"\n",
                log = log.display(),
                real = real.display()
            );
            let path = dir.path().join("bin").join(tool);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, script).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        ToolSpy { dir }
    }

    /// PATH with the stand-ins first.
    fn path(&self) -> std::ffi::OsString {
        let mut paths = vec![self.dir.path().join("bin")];
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        std::env::join_paths(paths).unwrap()
    }

    /// What the stand-in of `tool` noted, one line per argument list and per PGPASSWORD.
    fn seen(&self, tool: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{tool}.log"))).unwrap_or_default()
    }
}

/// `baluarte` on a PostgreSQL URL given the way operators are told to (BALUARTE_DATABASE_URL), logging
/// everything.
fn baluarte_pg(data_dir: &Path, url: &str, spy: &ToolSpy) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baluarte"));
    c.arg("--data-dir")
        .arg(data_dir)
        .env("BALUARTE_DATABASE_URL", url)
        .env("BALUARTE_LOG", "trace")
        .env("PATH", spy.path())
        .env_remove("PGPASSWORD");
    c
}

#[tokio::test]
async fn a_postgres_password_reaches_no_log_and_no_command_line() {
    let Some(pg) = PgRole::create().await else {
        return;
    };
    let spy = ToolSpy::new();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = pg.url_with_userinfo(0);
    let secret = pg.secret.as_str();

    // Serve with every log level on, answer a few requests, stop gracefully.
    let (out_path, err_path) = (dir.path().join("serve.out"), dir.path().join("serve.err"));
    let mut child = baluarte_pg(&data, &url, &spy)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let base = common::wait_for_server(&mut child, &out_path).await;
    let logs = || {
        format!(
            "{}{}",
            std::fs::read_to_string(&out_path).unwrap_or_default(),
            std::fs::read_to_string(&err_path).unwrap_or_default()
        )
    };
    let client = reqwest::Client::new();
    for path in ["/healthz", "/metrics", "/", "/api/v1/audit"] {
        client.get(format!("{base}{path}")).send().await.unwrap();
    }
    let login = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"email": "nadie@example.gob.mx", "password": "equivocada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401, "the failed login went through the database");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exit = child.wait().unwrap();
    let logs = logs();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}: {logs}");
    assert!(
        logs.contains("TRACE") && logs.contains("stopped"),
        "trace logs were written: {logs}"
    );
    assert!(logs.contains(":***@"), "the URL is logged, redacted: {logs}");
    assert!(!logs.contains(secret), "the password is in the server's logs: {logs}");

    // A backup: pg_dump gets the password from the environment, never in its arguments.
    let out = dir.path().join("backup");
    let o = baluarte_pg(&data, &url, &spy)
        .args(["backup", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !text(&o).contains(secret),
        "the password is in the backup's output: {}",
        text(&o)
    );
    let seen = spy.seen("pg_dump");
    let argv: Vec<&str> = seen.lines().filter(|l| l.starts_with("argv:")).collect();
    assert_eq!(argv.len(), 1, "pg_dump ran once: {seen}");
    assert!(
        !argv[0].contains(secret),
        "the password is on pg_dump's command line: {}",
        argv[0]
    );
    assert!(
        seen.contains(&format!("PGPASSWORD={secret}\n")),
        "pg_dump got the password: {seen}"
    );

    // A restore into the role's other database, the password given as a query parameter this time.
    let restored = dir.path().join("restored");
    let o = baluarte_pg(&restored, &pg.url_with_query(1), &spy)
        .args(["restore", "--from", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success() && text(&o).contains("chain intact"), "{}", text(&o));
    assert!(
        !text(&o).contains(secret),
        "the password is in the restore's output: {}",
        text(&o)
    );
    let seen = spy.seen("pg_restore");
    let argv: Vec<&str> = seen.lines().filter(|l| l.starts_with("argv:")).collect();
    assert_eq!(argv.len(), 1, "pg_restore ran once: {seen}");
    assert!(
        !argv[0].contains(secret),
        "the password is on pg_restore's command line: {}",
        argv[0]
    );
    assert!(
        seen.contains(&format!("PGPASSWORD={secret}\n")),
        "pg_restore got the password: {seen}"
    );
}
