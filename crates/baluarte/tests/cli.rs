//! The `baluarte` command as an operator runs it: demo data, audit verification after tampering,
//! backup and restore, the first administrator, configuration errors, graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{Connection, Row, SqliteConnection};
use std::path::Path;
use std::process::{Command, Output};

fn baluarte(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("BALUARTE_DATABASE_URL")
        .env("BALUARTE_LOG", "warn")
        .output()
        .expect("run baluarte")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn demo_dir() -> tempfile::TempDir {
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

async fn sql(dir: &Path, statements: &[&str]) {
    let url = format!("sqlite://{}", dir.join("baluarte.db").display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    for s in statements {
        sqlx::query(s).execute(&mut conn).await.unwrap();
    }
}

fn verify_fails_naming(dir: &Path, entry: &str) {
    let o = baluarte(dir, &["audit", "verify"]);
    assert!(!o.status.success(), "tampering must fail verification");
    let out = text(&o);
    assert!(out.contains(entry), "expected {entry:?} in: {out}");
}

#[tokio::test]
async fn audit_verify_names_the_entry_altered_removed_or_reordered() {
    let dir = demo_dir();
    let o = baluarte(dir.path(), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("chain intact"));

    sql(
        dir.path(),
        &["UPDATE audit_log SET actor_label = 'mallory' WHERE seq = 10"],
    )
    .await;
    verify_fails_naming(dir.path(), "entry 10");

    let dir = demo_dir();
    sql(dir.path(), &["DELETE FROM audit_log WHERE seq = 20"]).await;
    verify_fails_naming(dir.path(), "entry 20");

    // Swap the contents of two neighbours, keeping their sequence numbers.
    let dir = demo_dir();
    let cols = "at, actor_kind, actor_id, actor_label, action, object_type, object_id, entity_id, before_digest, after_digest, changes, prev_hash, hash";
    sql(
        dir.path(),
        &[
            &format!("CREATE TABLE tmp AS SELECT seq, {cols} FROM audit_log WHERE seq IN (30, 31)"),
            "UPDATE tmp SET seq = CASE seq WHEN 30 THEN 31 ELSE 30 END",
            "DELETE FROM audit_log WHERE seq IN (30, 31)",
            &format!("INSERT INTO audit_log (seq, {cols}) SELECT seq, {cols} FROM tmp"),
        ],
    )
    .await;
    verify_fails_naming(dir.path(), "entry 30");

    // Removing the newest entries is seen too (the tip and the signed checkpoint remember them).
    let dir = demo_dir();
    sql(
        dir.path(),
        &["DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)"],
    )
    .await;
    let o = baluarte(dir.path(), &["audit", "verify"]);
    assert!(!o.status.success(), "{}", text(&o));
}

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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("BALUARTE_LOG", "warn")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await {
            ready = r.status() == 200;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the server answers /readyz");
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("baluarte.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:{port}\"\nlog_format = \"json\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_remove("BALUARTE_DATA_DIR")
        .env_remove("BALUARTE_LISTEN")
        .env_remove("BALUARTE_LOG_FORMAT")
        .env_remove("BALUARTE_DATABASE_URL")
        .env("BALUARTE_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await {
            ready = r.status() == 200;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the server listens where the file says");
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
    assert!(lines.iter().any(|l| l["fields"]["message"] == "serving"), "{logs}");
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "stopped"),
        "a clean stop is logged: {logs}"
    );
}
