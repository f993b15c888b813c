//! The audit trail as an operator checks it: `audit verify` after the store was edited behind the
//! platform's back (entries altered, removed, reordered, or the whole chain rewritten with its hashes
//! recomputed), the checkpoint file beside the store, and a witness that receives each signed
//! checkpoint over syslog.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baluarte_core::audit::{entry_hash, GENESIS};
use baluarte_core::crypto::{verify_signature, ServerKey};
use baluarte_core::model::AuditEntry;
use common::{baluarte, copy_of, demo_dir, sql, text, verify_fails_naming};
use sqlx::{Connection, Row, SqliteConnection};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const CHECKPOINT_FILE: &str = "audit-checkpoints.jsonl";

#[tokio::test]
async fn audit_verify_names_the_entry_altered_removed_or_reordered() {
    let demo = demo_dir();
    let dir = copy_of(demo.path());
    let o = baluarte(dir.path(), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("chain intact"));

    sql(
        dir.path(),
        &["UPDATE audit_log SET actor_label = 'mallory' WHERE seq = 10"],
    )
    .await;
    verify_fails_naming(dir.path(), "entry 10");

    let dir = copy_of(demo.path());
    sql(dir.path(), &["DELETE FROM audit_log WHERE seq = 20"]).await;
    verify_fails_naming(dir.path(), "entry 20");

    // Swap the contents of two neighbours, keeping their sequence numbers.
    let dir = copy_of(demo.path());
    let cols = "format, at, actor_kind, actor_id, actor_label, action, object_type, object_id, entity_id, before_digest, after_digest, changes, prev_hash, hash";
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
    let dir = copy_of(demo.path());
    sql(
        dir.path(),
        &["DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)"],
    )
    .await;
    let o = baluarte(dir.path(), &["audit", "verify"]);
    assert!(!o.status.success(), "{}", text(&o));
}

/// The entries from `from` on, in order.
async fn entries_from(conn: &mut SqliteConnection, from: i64) -> Vec<AuditEntry> {
    let rows = sqlx::query(
        "SELECT seq, format, at, actor_kind, actor_id, actor_label, action, object_type, object_id, entity_id, \
         before_digest, after_digest, changes, prev_hash, hash FROM audit_log WHERE seq >= $1 ORDER BY seq",
    )
    .bind(from)
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    rows.iter()
        .map(|r| AuditEntry {
            seq: r.get("seq"),
            format: r.get("format"),
            at: r.get("at"),
            actor_kind: r.get("actor_kind"),
            actor_id: r.get("actor_id"),
            actor_label: r.get("actor_label"),
            action: r.get("action"),
            object_type: r.get("object_type"),
            object_id: r.get("object_id"),
            entity_id: r.get("entity_id"),
            before_digest: r.get("before_digest"),
            after_digest: r.get("after_digest"),
            changes: r.get("changes"),
            prev_hash: r.get("prev_hash"),
            hash: r.get("hash"),
        })
        .collect()
}

/// Play the attacker with the database in hand: change entry `k`, recompute every hash from it to the
/// tip and move the tip, so that the chain holds together again.
async fn rewrite_from(dir: &Path, k: i64) {
    let url = format!("sqlite://{}", dir.join("baluarte.db").display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    let entries = entries_from(&mut conn, k - 1).await;
    let mut prev_hash = GENESIS.to_string();
    for mut e in entries {
        if e.seq < k {
            prev_hash = e.hash;
            continue;
        }
        if e.seq == k {
            e.actor_label = "mallory@nacional.example".into();
        }
        e.prev_hash = prev_hash;
        e.hash = entry_hash(&e);
        sqlx::query("UPDATE audit_log SET actor_label = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&e.actor_label)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(e.seq)
            .execute(&mut conn)
            .await
            .unwrap();
        prev_hash = e.hash;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(&mut conn)
        .await
        .unwrap();
}

fn checkpoint_lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join(CHECKPOINT_FILE))
        .unwrap_or_else(|e| panic!("{CHECKPOINT_FILE} in {}: {e}", dir.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The checkpoints of a stopped server are also in the checkpoint file beside its store, which the
/// database's administrator does not hold: deleting the checkpoints and recomputing the chain's hashes
/// from an edited entry, or keeping an old checkpoint and rewriting what follows it, is found by it.
#[tokio::test]
async fn audit_verify_finds_a_rewritten_chain_by_the_checkpoint_file() {
    let demo = demo_dir();
    // The demo signs its registry, then its year of incidents.
    let lines = checkpoint_lines(demo.path());
    assert_eq!(lines.len(), 2, "the demo's checkpoints: {lines:?}");
    let o = baluarte(demo.path(), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("chain intact") && text(&o).contains(CHECKPOINT_FILE),
        "{}",
        text(&o)
    );

    // Every checkpoint deleted, and the chain recomputed from an edited entry.
    let dir = copy_of(demo.path());
    sql(dir.path(), &["DELETE FROM audit_checkpoints"]).await;
    rewrite_from(dir.path(), 10).await;
    verify_fails_naming(dir.path(), CHECKPOINT_FILE);

    // The checkpoints deleted, nothing else.
    let dir = copy_of(demo.path());
    sql(dir.path(), &["DELETE FROM audit_checkpoints"]).await;
    verify_fails_naming(dir.path(), "missing from the database");

    // An old checkpoint kept, and what follows it rewritten: more writes, signed by the command that
    // made them, then that checkpoint deleted and the entries after the old one recomputed.
    let dir = copy_of(demo.path());
    let first = lines[1]["seq"].as_i64().unwrap();
    let o = baluarte(
        dir.path(),
        &[
            "admin",
            "create",
            "--email",
            "auditoria.externa@cncs.example",
            "--name",
            "Auditoría externa",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        checkpoint_lines(dir.path()).len(),
        3,
        "the command signed what it wrote"
    );
    let o = baluarte(dir.path(), &["audit", "checkpoint"]);
    assert!(
        o.status.success() && text(&o).contains("nothing new to sign"),
        "{}",
        text(&o)
    );
    sql(
        dir.path(),
        &[&format!("DELETE FROM audit_checkpoints WHERE seq > {first}")],
    )
    .await;
    rewrite_from(dir.path(), first + 1).await;
    verify_fails_naming(dir.path(), CHECKPOINT_FILE);
}

/// A server configured with a syslog witness sends it each signed checkpoint, as an RFC 5424 line
/// whose message is the checkpoint file's line: a real UDP listener here receives it, and the
/// signature verifies with the server's public key.
#[tokio::test]
async fn a_witness_receives_each_signed_checkpoint_over_syslog() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = baluarte(
        &data,
        &["admin", "create", "--email", "ana@cncs.example", "--name", "Ana Pérez"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let witness = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    witness.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let config = dir.path().join("baluarte.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nworker_interval_secs = 1\n\n[audit_witness]\nsyslog = \"udp://{}\"\n",
            data.display().to_string(),
            witness.local_addr().unwrap()
        ),
    )
    .unwrap();
    let stdout = dir.path().join("serve.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_baluarte"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_remove("BALUARTE_DATA_DIR")
        .env_remove("BALUARTE_DATABASE_URL")
        .env("BALUARTE_LOG", "warn")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .spawn()
        .unwrap();
    common::wait_for_server(&mut child, &stdout).await;

    // `admin create` signed what it wrote; the witness sends that checkpoint within a worker interval
    // of the start.
    let mut buf = [0u8; 4096];
    let received = witness.recv_from(&mut buf);
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exit = child.wait().unwrap();
    let (n, _) = received.expect("the witness's datagram");
    assert!(stopped.success() && exit.success(), "{exit:?}");
    let line = std::str::from_utf8(&buf[..n]).unwrap();
    // <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG: log audit (13), notice (5).
    let parts: Vec<&str> = line.splitn(8, ' ').collect();
    assert_eq!(parts.len(), 8, "{line}");
    assert_eq!(
        (parts[0], parts[3], parts[5], parts[6]),
        ("<109>1", "baluarte", "audit-checkpoint", "-"),
        "{line}"
    );
    let signed: serde_json::Value = serde_json::from_str(parts[7]).unwrap();
    assert_eq!(
        checkpoint_lines(&data).first(),
        Some(&signed),
        "the witness got the checkpoint file's line"
    );
    let (seq, hash, at) = (
        signed["seq"].as_i64().unwrap(),
        signed["hash"].as_str().unwrap(),
        signed["at"].as_i64().unwrap(),
    );
    assert!(seq >= 2, "the administrator's creation is signed: {signed}");
    let key = ServerKey::load_or_create(&data).unwrap();
    let message = format!("baluarte-audit-checkpoint-v2:{seq}:{hash}:{at}");
    assert!(
        verify_signature(
            &key.public_hex(),
            message.as_bytes(),
            signed["signature"].as_str().unwrap()
        ),
        "{signed}"
    );
    assert_eq!(
        baluarte_core::time::parse_rfc3339(parts[1]),
        Some(at),
        "the syslog time is the checkpoint's: {line}"
    );
}
