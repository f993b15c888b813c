//! 5b. Audit checkpoints: a chain rewritten with its hashes recomputed (which the chain alone cannot
//! tell) is caught by the checkpoint file outside the database, and by the age of what no checkpoint
//! covers; the checkpointer refuses to sign a chain that contradicts its file.

use super::audit_tampering::{chain_with_checkpoint, entry, overwrite};
use super::*;
use baluarte_core::crypto::verify_signature;
use baluarte_core::service::Settings;
use baluarte_core::time::{DAY, HOUR, MINUTE};
use sqlx::Row;

conformance!(
    audit_rewrite_with_every_checkpoint_deleted_fails,
    audit_rewrite_after_an_old_checkpoint_fails,
    audit_checkpoint_rows_deleted_but_kept_in_the_file_fail,
    audit_chain_truncated_with_its_checkpoints_fails_by_the_file,
    audit_entries_after_the_last_checkpoint_are_not_yet_covered_for_a_while,
    audit_checkpoint_file_has_one_signed_line_per_checkpoint,
    audit_tampered_checkpoint_file_fails,
    audit_checkpointer_refuses_to_sign_a_rewritten_chain,
);

const FILE: &str = "audit-checkpoints.jsonl";

/// The same store seen by services that keep no checkpoint file: what the database alone can show.
fn database_only(svc: &Services) -> Services {
    Services::new(svc.db().clone(), svc.server_key().clone(), Settings::default())
}

/// Verification as `baluarte audit verify` and the audit pages run it: where and why it broke.
async fn verdict(svc: &Services) -> TestResult<Option<(i64, String)>> {
    let report = svc
        .audit()
        .verify_audit(&baluarte_test_support::actors::system())
        .await?;
    Ok(report.broken.map(|b| (b.seq, b.reason)))
}

async fn head_seq(svc: &Services) -> TestResult<i64> {
    Ok(sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
        .fetch_one(svc.db().pool())
        .await?
        .try_get("seq")?)
}

async fn delete_checkpoints_after(svc: &Services, seq: i64) -> TestResult {
    sqlx::query("DELETE FROM audit_checkpoints WHERE seq > $1")
        .bind(seq)
        .execute(svc.db().pool())
        .await?;
    Ok(())
}

/// Play the attacker: change entry `k`, recompute every hash from it to the tip and move the tip, so
/// that the chain holds together again. Returns the tip.
async fn rewrite_from(svc: &Services, k: i64) -> TestResult<i64> {
    let tip = head_seq(svc).await?;
    let mut prev_hash = if k == 1 {
        audit::GENESIS.to_string()
    } else {
        entry(svc, k - 1).await?.hash
    };
    for seq in k..=tip {
        let mut e = entry(svc, seq).await?;
        if seq == k {
            e.actor_label = "alguien-mas@nacional.example".into();
        }
        e.prev_hash = prev_hash;
        e.hash = audit::entry_hash(&e);
        overwrite(svc, seq, &e).await?;
        prev_hash = e.hash;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(svc.db().pool())
        .await?;
    Ok(tip)
}

/// Writes that append entries: the fixture administrator's first sign-in step, `n` times.
async fn more_entries(svc: &Services, n: usize) -> TestResult {
    for _ in 0..n {
        svc.accounts().login("admin@nacional.example", PASSWORD, IP).await?;
    }
    Ok(())
}

fn file_lines(store: &TestStore) -> TestResult<Vec<serde_json::Value>> {
    let text = std::fs::read_to_string(store.data_dir.join(FILE))?;
    Ok(text.lines().map(serde_json::from_str).collect::<Result<_, _>>()?)
}

/// Every checkpoint deleted from the database and the chain rewritten from an edited entry: the chain
/// is consistent again, but the checkpoint file still holds the signed tip, and, without the file, no
/// checkpoint covers entries written a day ago.
async fn audit_rewrite_with_every_checkpoint_deleted_fails(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    svc.clock().advance(DAY);
    delete_checkpoints_after(svc, 0).await?;
    rewrite_from(svc, tip / 2).await?;

    let (seq, reason) = verdict(svc).await?.ok_or("a rewritten chain verified")?;
    assert_eq!(seq, tip, "{reason}");
    assert!(reason.contains(FILE), "the file names the disagreement: {reason}");

    let (seq, reason) = verdict(&database_only(svc))
        .await?
        .ok_or("a rewritten chain verified on the database alone")?;
    assert_eq!(seq, 1, "{reason}");
    assert!(reason.contains("not covered"), "{reason}");
    Ok(())
}

/// An old checkpoint kept, and everything after it rewritten (with the newer checkpoint deleted).
async fn audit_rewrite_after_an_old_checkpoint_fails(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let old = chain_with_checkpoint(svc).await?;
    svc.clock().advance(HOUR);
    more_entries(svc, 3).await?;
    let tip = svc.audit().audit_checkpoint().await?.ok_or("no second checkpoint")?;
    assert!(tip > old + 1, "{old} then {tip}");
    svc.clock().advance(DAY);
    delete_checkpoints_after(svc, old).await?;
    rewrite_from(svc, old + 1).await?;

    let (seq, reason) = verdict(svc).await?.ok_or("a rewritten tail verified")?;
    assert_eq!(seq, tip, "{reason}");
    assert!(reason.contains(FILE), "{reason}");

    let (seq, reason) = verdict(&database_only(svc))
        .await?
        .ok_or("a rewritten tail verified on the database alone")?;
    assert_eq!(seq, old + 1, "{reason}");
    assert!(reason.contains("not covered"), "{reason}");
    Ok(())
}

/// Nothing else touched: the rows are gone, the file remembers them.
async fn audit_checkpoint_rows_deleted_but_kept_in_the_file_fail(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    delete_checkpoints_after(svc, 0).await?;
    let (seq, reason) = verdict(svc).await?.ok_or("deleted checkpoints went unnoticed")?;
    assert_eq!(seq, tip, "{reason}");
    assert!(reason.contains("missing from the database"), "{reason}");
    Ok(())
}

/// The newest entries removed with the checkpoint that covered them and the tip moved back: the file's
/// checkpoint names entries that are no longer there.
async fn audit_chain_truncated_with_its_checkpoints_fails_by_the_file(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let keep = tip - 3;
    let last_kept = entry(svc, keep).await?;
    delete_checkpoints_after(svc, 0).await?;
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(keep)
        .execute(svc.db().pool())
        .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(keep)
        .bind(&last_kept.hash)
        .execute(svc.db().pool())
        .await?;
    let (seq, reason) = verdict(svc).await?.ok_or("a truncated chain verified")?;
    assert_eq!(seq, keep + 1, "{reason}");
    assert!(reason.contains("missing"), "{reason}");
    Ok(())
}

/// Entries written since the last checkpoint, correctly chained, verify as not yet covered while the
/// next checkpoint may still be on its way (two intervals); after that, verification fails until they
/// are signed.
async fn audit_entries_after_the_last_checkpoint_are_not_yet_covered_for_a_while(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let covered = chain_with_checkpoint(svc).await?;
    svc.clock().advance(MINUTE);
    more_entries(svc, 2).await?;
    svc.clock().advance(5 * MINUTE);
    assert_eq!(
        verdict(svc).await?,
        None,
        "written 5 minutes ago, within 2 intervals of 5 minutes"
    );

    svc.clock().advance(HOUR);
    let (seq, reason) = verdict(svc).await?.ok_or("uncovered entries an hour old verified")?;
    assert_eq!(seq, covered + 1, "{reason}");
    assert!(reason.contains("not covered"), "{reason}");

    svc.audit().audit_checkpoint().await?.ok_or("nothing signed")?;
    assert_eq!(verdict(svc).await?, None, "signed now");
    Ok(())
}

async fn audit_checkpoint_file_has_one_signed_line_per_checkpoint(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let lines = file_lines(&store)?;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    let hash = entry(svc, tip).await?.hash;
    assert_eq!(line["seq"], tip);
    assert_eq!(line["hash"], hash.as_str());
    assert_eq!(line["at"], svc.now());
    let message = format!("baluarte-audit-checkpoint-v2:{tip}:{hash}:{}", svc.now());
    assert!(
        verify_signature(
            &svc.server_key().public_hex(),
            message.as_bytes(),
            line["signature"].as_str().unwrap_or_default()
        ),
        "{line}"
    );

    assert_eq!(svc.audit().audit_checkpoint().await?, None, "nothing new to sign");
    assert_eq!(file_lines(&store)?.len(), 1);
    svc.clock().advance(MINUTE);
    more_entries(svc, 1).await?;
    assert_eq!(svc.audit().audit_checkpoint().await?, Some(tip + 1));
    let lines = file_lines(&store)?;
    assert_eq!(lines.len(), 2, "appended");
    assert_eq!(
        (lines[0]["seq"].as_i64(), lines[1]["seq"].as_i64()),
        (Some(tip), Some(tip + 1))
    );
    Ok(())
}

async fn audit_tampered_checkpoint_file_fails(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let path = store.data_dir.join(FILE);
    let original = std::fs::read_to_string(&path)?;
    let mut line: serde_json::Value = serde_json::from_str(original.trim())?;
    let message = format!(
        "baluarte-audit-checkpoint-v2:{tip}:{}:{}",
        line["hash"].as_str().unwrap_or_default(),
        line["at"]
    );
    line["signature"] = ServerKey::generate().sign_hex(message.as_bytes()).into();
    for (what, text) in [
        ("re-signed by another key", format!("{line}\n")),
        ("not JSON", "{\"seq\": 3, garbage\n".to_string()),
    ] {
        std::fs::write(&path, text)?;
        let (seq, reason) = verdict(svc)
            .await?
            .ok_or(format!("a checkpoint file {what} verified"))?;
        assert!(
            reason.contains("line 1") && reason.contains(FILE),
            "{what}: {seq} {reason}"
        );
    }
    std::fs::write(&path, original)?;
    assert_eq!(verdict(svc).await?, None, "restored");
    Ok(())
}

/// The server signs only a chain that agrees with its newest checkpoint, so a restart after a rewrite
/// does not bless it (nor send it to a witness).
async fn audit_checkpointer_refuses_to_sign_a_rewritten_chain(store: TestStore) -> TestResult {
    let svc = &store.svc;
    chain_with_checkpoint(svc).await?;
    svc.clock().advance(MINUTE);
    more_entries(svc, 1).await?;
    delete_checkpoints_after(svc, 0).await?;
    rewrite_from(svc, 2).await?;
    let signed = svc.audit().audit_checkpoint().await;
    assert!(signed.is_err(), "signed a rewritten chain: {signed:?}");
    assert_eq!(file_lines(&store)?.len(), 1, "nothing appended");
    assert_eq!(count(svc.db(), "audit_checkpoints").await?, 0);
    Ok(())
}
