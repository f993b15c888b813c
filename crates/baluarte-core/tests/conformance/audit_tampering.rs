//! 5. Audit trail: every kind of tampering is detected; old and new entry formats chain.

use super::*;

conformance!(
    audit_detects_edited_entry,
    audit_detects_deleted_entry,
    audit_detects_swapped_entries,
    audit_detects_reordered_rehashed_entries,
    audit_detects_truncated_tail,
    audit_detects_entry_forged_beyond_tip,
    audit_detects_foreign_checkpoint,
    audit_detects_rewritten_chain,
    audit_chain_of_v1_then_v2_entries_verifies,
    audit_chain_holds_under_concurrent_writes,
);

/// A fresh store with more than ten entries and a signed checkpoint at its tip. Returns the tip.
pub(super) async fn chain_with_checkpoint(svc: &Services) -> TestResult<i64> {
    let admin_user = svc
        .users()
        .bootstrap_admin(
            "Agencia Nacional de Ciberseguridad",
            "admin@nacional.example",
            "Administración",
            PASSWORD,
        )
        .await?;
    let admin = actor_of(&admin_user, true);
    svc.registry()
        .create_sector(
            &admin,
            SectorInput {
                id: "salud".into(),
                parent_id: None,
                name_es: "Salud".into(),
                name_en: "Health".into(),
            },
        )
        .await?;
    for i in 0..3 {
        let e = svc
            .registry()
            .create_entity(&admin, entity_input(&format!("Hospital General {i}"), Some("salud")))
            .await?;
        svc.registry()
            .create_contact(&admin, &e.id, contact_input(&format!("Guardia {i}"), Tlp::Green))
            .await?;
        svc.registry()
            .update_entity(
                &admin,
                &e.id,
                entity_input(&format!("Hospital General de Zona {i}"), Some("salud")),
            )
            .await?;
    }
    let tip = svc.audit().audit_checkpoint().await?.ok_or("no checkpoint")?;
    assert!(tip >= 10, "{tip} entries");
    let report = audit::verify_chain(svc.db(), &svc.server_key().public_hex()).await?;
    assert_eq!((report.broken, report.entries, report.checkpoints), (None, tip, 1));
    Ok(tip)
}

async fn broken_at(svc: &Services) -> TestResult<Option<i64>> {
    let report = audit::verify_chain(svc.db(), &svc.server_key().public_hex()).await?;
    Ok(report.broken.map(|b| b.seq))
}

pub(super) async fn entry(svc: &Services, seq: i64) -> TestResult<AuditEntry> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq = $1"))
        .bind(seq)
        .fetch_one(svc.db().pool())
        .await?;
    Ok(entry_from_row(&row)?)
}

pub(super) async fn overwrite(svc: &Services, seq: i64, e: &AuditEntry) -> TestResult {
    sqlx::query(
        "UPDATE audit_log SET at = $1, actor_kind = $2, actor_id = $3, actor_label = $4, action = $5, object_type = $6, object_id = $7, \
         entity_id = $8, before_digest = $9, after_digest = $10, changes = $11, prev_hash = $12, hash = $13, format = $14 \
         WHERE seq = $15",
    )
    .bind(e.at)
    .bind(&e.actor_kind)
    .bind(&e.actor_id)
    .bind(&e.actor_label)
    .bind(&e.action)
    .bind(&e.object_type)
    .bind(&e.object_id)
    .bind(&e.entity_id)
    .bind(&e.before_digest)
    .bind(&e.after_digest)
    .bind(&e.changes)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .bind(e.format)
    .bind(seq)
    .execute(svc.db().pool())
    .await?;
    Ok(())
}

async fn audit_detects_edited_entry(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    sqlx::query("UPDATE audit_log SET actor_label = $1 WHERE seq = $2")
        .bind("alguien-mas@nacional.example")
        .bind(k)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(k));
    Ok(())
}

async fn audit_detects_deleted_entry(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(k)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(k));
    Ok(())
}

async fn audit_detects_swapped_entries(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    let (a, b) = (entry(svc, k).await?, entry(svc, k + 1).await?);
    overwrite(svc, k, &b).await?;
    overwrite(svc, k + 1, &a).await?;
    assert_eq!(broken_at(svc).await?, Some(k));
    Ok(())
}

/// The attacker swaps two entries and recomputes each one's own hash at its new place (but not the
/// chain): every entry is self-consistent, and only the link to the previous entry tells.
async fn audit_detects_reordered_rehashed_entries(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    let (mut a, mut b) = (entry(svc, k).await?, entry(svc, k + 1).await?);
    std::mem::swap(&mut a.seq, &mut b.seq);
    a.hash = audit::entry_hash(&a);
    b.hash = audit::entry_hash(&b);
    overwrite(svc, k, &b).await?;
    overwrite(svc, k + 1, &a).await?;
    assert_eq!(broken_at(svc).await?, Some(k));
    Ok(())
}

async fn audit_detects_truncated_tail(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(tip)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    // Also when the head is moved back to hide it: the signed checkpoint still covers the entry.
    let prev = entry(svc, tip - 1).await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(tip - 1)
        .bind(&prev.hash)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    Ok(())
}

/// An entry slipped in after the tip, correctly chained, but without the platform moving its tip.
async fn audit_detects_entry_forged_beyond_tip(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let mut forged = entry(svc, tip).await?;
    forged.seq = tip + 1;
    forged.action = "deactivate".into();
    forged.prev_hash = forged.hash.clone();
    forged.hash = audit::entry_hash(&forged);
    sqlx::query("INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_label, action, object_type, object_id, entity_id, before_digest, after_digest, changes, prev_hash, hash) VALUES ($1, 0, '', '', '', '', '', '', '', '', '', '', '', '')")
        .bind(forged.seq)
        .execute(svc.db().pool())
        .await?;
    overwrite(svc, forged.seq, &forged).await?;
    assert_eq!(broken_at(svc).await?, Some(tip + 1));
    Ok(())
}

async fn audit_detects_foreign_checkpoint(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let intruder = ServerKey::generate();
    let hash = entry(svc, tip).await?.hash;
    let signature = intruder.sign_hex(format!("baluarte-audit-checkpoint-v1:{tip}:{hash}").as_bytes());
    // Re-signed with another key, claiming to be that key's.
    sqlx::query("UPDATE audit_checkpoints SET public_key = $1, signature = $2 WHERE seq = $3")
        .bind(intruder.public_hex())
        .bind(&signature)
        .bind(tip)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    // Re-signed with another key, claiming to be the server's.
    sqlx::query("UPDATE audit_checkpoints SET public_key = $1 WHERE seq = $2")
        .bind(svc.server_key().public_hex())
        .bind(tip)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    Ok(())
}

/// The attacker edits an entry and recomputes every hash after it, and the tip: the chain is then
/// consistent, and only the signed checkpoint tells.
async fn audit_detects_rewritten_chain(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    let mut prev_hash = entry(svc, k - 1).await?.hash;
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
    assert_eq!(broken_at(svc).await?, Some(tip), "the checkpoint no longer matches");
    // Re-signing the checkpoint needs the server's key.
    let intruder = ServerKey::generate();
    let signature = intruder.sign_hex(format!("baluarte-audit-checkpoint-v1:{tip}:{prev_hash}").as_bytes());
    sqlx::query("UPDATE audit_checkpoints SET hash = $1, signature = $2 WHERE seq = $3")
        .bind(&prev_hash)
        .bind(&signature)
        .bind(tip)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    Ok(())
}

/// The entry hash of the first release (format 1), kept here as it was: the fixture of an old chain.
fn v1_entry_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let (seq, at) = (e.seq.to_string(), e.at.to_string());
    for field in [
        "baluarte-audit-v1",
        &seq,
        &at,
        &e.actor_kind,
        &e.actor_id,
        &e.actor_label,
        &e.action,
        &e.object_type,
        &e.object_id,
        &e.entity_id,
        &e.before_digest,
        &e.after_digest,
        &e.changes,
        &e.prev_hash,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Entries 1..=n as the first release wrote them (its INSERT, its hash rule, its digests over
/// serde_json's text in the record's own key order), and the tip moved to the last.
async fn write_v1_entries(svc: &Services, n: i64) -> TestResult {
    let mut prev_hash = audit::GENESIS.to_string();
    for seq in 1..=n {
        let state = format!(r#"{{"name":"Entidad {seq}","id":"e{seq}","active":1}}"#);
        let mut e = entry_template(seq, prev_hash, svc.now());
        e.after_digest = hex::encode(Sha256::digest(state.as_bytes()));
        e.hash = v1_entry_hash(&e);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_label, action, object_type, object_id, \
             entity_id, before_digest, after_digest, changes, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(e.seq)
        .bind(e.at)
        .bind(&e.actor_kind)
        .bind(&e.actor_id)
        .bind(&e.actor_label)
        .bind(&e.action)
        .bind(&e.object_type)
        .bind(&e.object_id)
        .bind(&e.entity_id)
        .bind(&e.before_digest)
        .bind(&e.after_digest)
        .bind(&e.changes)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute(svc.db().pool())
        .await?;
        prev_hash = e.hash;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(n)
        .bind(&prev_hash)
        .execute(svc.db().pool())
        .await?;
    Ok(())
}

/// What the first release recorded for an entity it created.
fn entry_template(seq: i64, prev_hash: String, now: i64) -> AuditEntry {
    AuditEntry {
        seq,
        format: 1,
        at: now - (100 - seq) * 1_000_000,
        actor_kind: "system".into(),
        actor_id: String::new(),
        actor_label: "system".into(),
        action: "create".into(),
        object_type: "entity".into(),
        object_id: format!("e{seq}"),
        entity_id: format!("e{seq}"),
        before_digest: String::new(),
        after_digest: String::new(),
        changes: r#"["active","id","name"]"#.into(),
        prev_hash,
        hash: String::new(),
    }
}

async fn entry_formats(svc: &Services) -> TestResult<Vec<(i64, i64)>> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT seq, format FROM audit_log ORDER BY seq")
        .fetch_all(svc.db().pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get("seq")?, r.try_get("format")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

/// A store written by the first release (format 1 entries) and then by this one (format 2) verifies as
/// one chain; an entry of either format that is altered, or whose format is changed, is named.
async fn audit_chain_of_v1_then_v2_entries_verifies(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let old = 3;
    write_v1_entries(svc, old).await?;
    Fixture::new(svc).await?;
    let tip = svc.audit().audit_checkpoint().await?.ok_or("no checkpoint")?;
    assert!(tip > old + 3, "{tip} entries");
    let report = audit::verify_chain(svc.db(), &svc.server_key().public_hex()).await?;
    assert_eq!((report.broken, report.entries), (None, tip));
    let formats = entry_formats(svc).await?;
    assert!(
        formats.iter().all(|&(seq, f)| f == if seq <= old { 1 } else { 2 }),
        "{formats:?}"
    );
    let first_new = entry(svc, old + 1).await?;
    assert_ne!(
        first_new.hash,
        v1_entry_hash(&first_new),
        "new entries are hashed by the v2 rule"
    );

    for (seq, what) in [
        (old - 1, "UPDATE audit_log SET actor_label = 'mallory' WHERE seq = $1"),
        (old + 2, "UPDATE audit_log SET actor_label = 'mallory' WHERE seq = $1"),
        (old + 2, "UPDATE audit_log SET format = 1 WHERE seq = $1"),
        (old - 1, "UPDATE audit_log SET format = 2 WHERE seq = $1"),
        (old + 2, "UPDATE audit_log SET format = 9 WHERE seq = $1"),
    ] {
        let original = entry(svc, seq).await?;
        sqlx::query(what).bind(seq).execute(svc.db().pool()).await?;
        let report = audit::verify_chain(svc.db(), &svc.server_key().public_hex()).await?;
        assert_eq!(report.broken.as_ref().map(|b| b.seq), Some(seq), "{what}: {report:?}");
        if what.contains("format = 9") {
            let reason = report.broken.map(|b| b.reason).unwrap_or_default();
            assert!(reason.contains("unknown format 9"), "{reason}");
        }
        // Put it back as it was: the chain verifies again.
        sqlx::query("UPDATE audit_log SET actor_label = $1, format = $2 WHERE seq = $3")
            .bind(&original.actor_label)
            .bind(formats[(seq - 1) as usize].1)
            .bind(seq)
            .execute(svc.db().pool())
            .await?;
        assert_eq!(broken_at(svc).await?, None, "restored after {what}");
    }
    Ok(())
}

/// Writers on several connections at once still build one unbroken chain, and a verification that
/// runs while they write does not cry wolf.
async fn audit_chain_holds_under_concurrent_writes(store: TestStore) -> TestResult {
    let svc = store.svc.clone();
    let fx = Fixture::new(&svc).await?;
    let start = count(svc.db(), "audit_log").await?;
    let writers = 4;
    let per_writer = 8;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (svc, admin, entity) = (
            svc.clone(),
            fx.admin.clone(),
            if w % 2 == 0 { fx.a.clone() } else { fx.b.clone() },
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                svc.registry()
                    .create_contact(&admin, &entity, contact_input(&format!("Guardia {w} {i}"), Tlp::Green))
                    .await?;
            }
            Ok::<_, CoreError>(())
        }));
    }
    let verifier = {
        let svc = svc.clone();
        tokio::spawn(async move {
            let key = svc.server_key().public_hex();
            let mut reports = Vec::new();
            for _ in 0..15 {
                reports.push(audit::verify_chain(svc.db(), &key).await?);
            }
            Ok::<_, CoreError>(reports)
        })
    };
    for t in tasks {
        t.await??;
    }
    for report in verifier.await?? {
        assert_eq!(report.broken, None, "a verification during writes reported {report:?}");
    }
    let total = count(svc.db(), "audit_log").await?;
    assert_eq!(total, start + writers * per_writer);
    let report = audit::verify_chain(svc.db(), &svc.server_key().public_hex()).await?;
    assert_eq!((report.broken, report.entries, report.head_seq), (None, total, total));
    Ok(())
}
