//! The audit trail: append-only, hash-chained, with signed checkpoints.
//!
//! Each entry's hash commits to its own fields and to the previous entry's hash, so editing, removing or
//! reordering any entry breaks every hash after it. `audit_head` keeps the tip (so removing the newest
//! entries shows), and checkpoints signed with the server's Ed25519 key pin the chain at points in time
//! (so rewriting the whole chain needs the key). [`verify`] names the first entry that does not hold.
//!
//! Entries carry the [`FORMAT`] they were written in, and [`entry_hash`] commits to it, so old entries
//! verify by the rule they were written by and no entry can be moved to another rule unnoticed.

use crate::canonical::canonical_json;
use crate::crypto::{sha256_hex, verify_signature, ServerKey};
use crate::db::{Db, WriteTx};
use crate::error::Result;
use crate::model::AuditEntry;
use crate::policy::Actor;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The entry format this release writes.
///
/// - 1: the first release. Record digests were SHA-256 over serde_json's text of the state, whose key
///   order depended on whether some crate in the build enabled serde_json's `preserve_order`.
/// - 2: record digests over the state's canonical JSON ([`digest`]); the same state always gives the
///   same digest.
///
/// The digests themselves cannot be recomputed (the states are not kept), so what tells the formats
/// apart in verification is the hash: each format hashes under its own tag.
pub const FORMAT: i64 = 2;

/// What a write records about itself.
#[derive(Debug)]
pub struct Change<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    /// The entity the object belongs to ("" for platform-wide objects such as sectors).
    pub entity_id: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    /// A record created, with its state after.
    pub fn created(object_type: &'a str, object_id: &'a str, entity_id: &'a str, after: &impl Serialize) -> Self {
        Change {
            action: "create",
            object_type,
            object_id,
            entity_id,
            before: None,
            after: serde_json::to_value(after).ok(),
        }
    }

    /// A record changed by `action`, from one state to another.
    pub fn changed(
        action: &'a str,
        object_type: &'a str,
        object_id: &'a str,
        entity_id: &'a str,
        before: &impl Serialize,
        after: &impl Serialize,
    ) -> Self {
        let (before, after) = (serde_json::to_value(before).ok(), serde_json::to_value(after).ok());
        Change {
            action,
            object_type,
            object_id,
            entity_id,
            before,
            after,
        }
    }

    /// An act on a record whose stored state is secret or unchanged (sign-in, password reset).
    pub fn act(action: &'a str, object_type: &'a str, object_id: &'a str, entity_id: &'a str) -> Self {
        Change {
            action,
            object_type,
            object_id,
            entity_id,
            before: None,
            after: None,
        }
    }
}

/// SHA-256 of the canonical JSON of a record state ("" when there is none): keys sorted at every
/// level, so the digest does not depend on the order a map keeps its keys in.
pub fn digest(state: &Option<Value>) -> String {
    match state {
        Some(v) => sha256_hex(canonical_json(v).as_bytes()),
        None => String::new(),
    }
}

/// Names of the top-level fields that differ between two states.
pub fn changed_fields(before: &Option<Value>, after: &Option<Value>) -> Vec<String> {
    let empty = serde_json::Map::new();
    let b = before.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let a = after.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let mut names: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The hash of an entry: SHA-256 over its format's tag (`baluarte-audit-v1`, `-v2`), its fields
/// (length-prefixed, so no field can bleed into the next) and the previous entry's hash.
pub fn entry_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let tag = format!("baluarte-audit-v{}", e.format);
    let seq = e.seq.to_string();
    let at = e.at.to_string();
    for field in [
        &tag,
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

/// Append one entry inside the caller's write transaction.
pub async fn append(tx: &mut WriteTx, actor: &Actor, change: Change<'_>) -> Result<i64> {
    // Taking the head row's lock first serialises appends across connections (and servers).
    sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")
        .execute(tx.conn())
        .await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(tx.conn())
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let mut entry = AuditEntry {
        seq,
        format: FORMAT,
        at: tx.now(),
        actor_kind: actor.kind().to_string(),
        actor_id: actor.id().to_string(),
        actor_label: actor.label.clone(),
        action: change.action.to_string(),
        object_type: change.object_type.to_string(),
        object_id: change.object_id.to_string(),
        entity_id: change.entity_id.to_string(),
        before_digest: digest(&change.before),
        after_digest: digest(&change.after),
        changes: serde_json::to_string(&changed_fields(&change.before, &change.after)).unwrap_or_default(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_label, action, object_type, object_id, \
         entity_id, before_digest, after_digest, changes, prev_hash, hash, format) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(entry.seq)
    .bind(entry.at)
    .bind(&entry.actor_kind)
    .bind(&entry.actor_id)
    .bind(&entry.actor_label)
    .bind(&entry.action)
    .bind(&entry.object_type)
    .bind(&entry.object_id)
    .bind(&entry.entity_id)
    .bind(&entry.before_digest)
    .bind(&entry.after_digest)
    .bind(&entry.changes)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .bind(entry.format)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&entry.hash)
        .execute(tx.conn())
        .await?;
    Ok(seq)
}

pub const ENTRY_COLUMNS: &str = "seq, format, at, actor_kind, actor_id, actor_label, action, object_type, \
     object_id, entity_id, before_digest, after_digest, changes, prev_hash, hash";

pub fn entry_from_row(r: &AnyRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        format: r.try_get("format")?,
        at: r.try_get("at")?,
        actor_kind: r.try_get("actor_kind")?,
        actor_id: r.try_get("actor_id")?,
        actor_label: r.try_get("actor_label")?,
        action: r.try_get("action")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        entity_id: r.try_get("entity_id")?,
        before_digest: r.try_get("before_digest")?,
        after_digest: r.try_get("after_digest")?,
        changes: r.try_get("changes")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

fn checkpoint_message(seq: i64, hash: &str) -> Vec<u8> {
    format!("baluarte-audit-checkpoint-v1:{seq}:{hash}").into_bytes()
}

/// Sign the current tip, if it moved since the last checkpoint. Returns the signed sequence number.
pub async fn checkpoint(db: &Db, key: &ServerKey) -> Result<Option<i64>> {
    let mut tx = db.begin_write().await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(tx.conn())
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let hash: String = head.try_get("hash")?;
    let last: Option<i64> = sqlx::query("SELECT MAX(seq) AS m FROM audit_checkpoints")
        .fetch_one(tx.conn())
        .await?
        .try_get("m")?;
    if seq == 0 || last == Some(seq) {
        return Ok(None);
    }
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, signed_at, public_key, signature) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(seq)
    .bind(&hash)
    .bind(tx.now())
    .bind(key.public_hex())
    .bind(key.sign_hex(&checkpoint_message(seq, &hash)))
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(Some(seq))
}

/// The outcome of a verification.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct VerifyReport {
    pub entries: i64,
    pub checkpoints: i64,
    pub head_seq: i64,
    /// The first entry that does not hold, and why; None when the whole chain verifies.
    pub broken: Option<Broken>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

#[derive(Debug, Clone)]
struct Checkpoint {
    seq: i64,
    hash: String,
    public_key: String,
    signature: String,
}

/// Walk the whole chain in order and check every entry, the tip and every checkpoint (signed by
/// `public_key`, the server's key). Memory stays bounded: entries are read in batches.
pub async fn verify(db: &Db, public_key: &str) -> Result<VerifyReport> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    let mut head_seq: i64 = head.try_get("seq")?;
    let mut head_hash: String = head.try_get("hash")?;
    let checkpoints: Vec<Checkpoint> =
        sqlx::query("SELECT seq, hash, public_key, signature FROM audit_checkpoints ORDER BY seq")
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(Checkpoint {
                    seq: r.try_get("seq")?,
                    hash: r.try_get("hash")?,
                    public_key: r.try_get("public_key")?,
                    signature: r.try_get("signature")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
    let mut report = VerifyReport {
        entries: 0,
        checkpoints: checkpoints.len() as i64,
        head_seq,
        broken: None,
    };
    let fail = |mut report: VerifyReport, seq: i64, reason: String| {
        report.broken = Some(Broken { seq, reason });
        Ok(report)
    };
    for cp in &checkpoints {
        if cp.public_key != public_key
            || !verify_signature(&cp.public_key, &checkpoint_message(cp.seq, &cp.hash), &cp.signature)
        {
            return fail(
                report,
                cp.seq,
                format!("checkpoint at entry {} is not signed by this server's key", cp.seq),
            );
        }
    }
    let mut cps = checkpoints.iter().peekable();
    let (mut expected_seq, mut prev_hash) = (1_i64, GENESIS.to_string());
    loop {
        let batch = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000"
        ))
        .bind(expected_seq)
        .fetch_all(db.pool())
        .await?;
        if batch.is_empty() {
            // Writes go on while we read: entries appended since the tip was read are not a tampered
            // tail. Read the tip again, and the entries up to it, until it holds still.
            let now = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(db.pool())
                .await?;
            let now_seq: i64 = now.try_get("seq")?;
            if now_seq != head_seq {
                head_seq = now_seq;
                head_hash = now.try_get("hash")?;
                report.head_seq = head_seq;
                continue;
            }
            break;
        }
        for row in &batch {
            let e = entry_from_row(row)?;
            if e.seq != expected_seq {
                return fail(
                    report,
                    expected_seq,
                    format!("entry {expected_seq} is missing (the next entry is {})", e.seq),
                );
            }
            if !(1..=FORMAT).contains(&e.format) {
                return fail(
                    report,
                    e.seq,
                    format!("entry {} has an unknown format {}", e.seq, e.format),
                );
            }
            if entry_hash(&e) != e.hash {
                return fail(
                    report,
                    e.seq,
                    format!("entry {} was altered: its contents do not match its hash", e.seq),
                );
            }
            if e.prev_hash != prev_hash {
                return fail(
                    report,
                    e.seq,
                    format!(
                        "entry {} does not follow entry {} (reordered or replaced)",
                        e.seq,
                        e.seq - 1
                    ),
                );
            }
            while let Some(cp) = cps.next_if(|cp| cp.seq == e.seq) {
                if cp.hash != e.hash {
                    return fail(
                        report,
                        e.seq,
                        format!("entry {} differs from the signed checkpoint", e.seq),
                    );
                }
            }
            report.entries += 1;
            prev_hash = e.hash;
            expected_seq += 1;
        }
    }
    let last = expected_seq - 1;
    if let Some(cp) = cps.next() {
        return fail(
            report,
            last + 1,
            format!(
                "entries {}..={} are missing: a signed checkpoint covers entry {}",
                last + 1,
                cp.seq,
                cp.seq
            ),
        );
    }
    if head_seq < last {
        return fail(
            report,
            head_seq + 1,
            format!(
                "entry {} lies beyond the recorded tip of the chain ({head_seq})",
                head_seq + 1
            ),
        );
    }
    if head_seq != last {
        return fail(
            report,
            last + 1,
            format!(
                "entries {}..={} are missing (the chain ends at {last})",
                last + 1,
                head_seq
            ),
        );
    }
    if head_hash != prev_hash {
        return fail(
            report,
            last,
            format!("entry {last} does not match the recorded tip of the chain"),
        );
    }
    Ok(report)
}

/// Entries about one object, newest first (the object's history).
pub async fn history(db: &Db, object_type: &str, object_id: &str, limit: i64) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE object_type = $1 AND object_id = $2 ORDER BY seq DESC LIMIT $3"
    ))
    .bind(object_type)
    .bind(object_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_fields_names_only_differences() {
        let b = Some(json!({"name": "A", "tlp": "AMBER", "x": 1}));
        let a = Some(json!({"name": "B", "tlp": "AMBER", "y": 2}));
        assert_eq!(changed_fields(&b, &a), vec!["name", "x", "y"]);
        assert_eq!(changed_fields(&None, &Some(json!({"k": 1}))), vec!["k"]);
    }

    #[test]
    fn hash_commits_to_every_field() {
        let base = AuditEntry {
            seq: 1,
            format: FORMAT,
            at: 5,
            actor_kind: "user".into(),
            actor_id: "u".into(),
            actor_label: "a@b".into(),
            action: "create".into(),
            object_type: "entity".into(),
            object_id: "e".into(),
            entity_id: "e".into(),
            before_digest: String::new(),
            after_digest: "d".into(),
            changes: "[]".into(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        let h = entry_hash(&base);
        let mut moved = base.clone();
        moved.actor_label = "a@".into();
        moved.action = "bcreate".into();
        assert_ne!(entry_hash(&moved), h, "length prefixes keep fields apart");
        let mut later = base.clone();
        later.seq = 2;
        assert_ne!(entry_hash(&later), h);
        let mut older = base.clone();
        older.format = 1;
        assert_ne!(entry_hash(&older), h, "the hash commits to the format");
    }

    #[test]
    fn a_digest_is_over_the_canonical_text() {
        let state = Some(json!({"name": "B", "tlp": {"z": 1, "a": [true, null]}, "id": "e1"}));
        assert_eq!(
            digest(&state),
            sha256_hex(br#"{"id":"e1","name":"B","tlp":{"a":[true,null],"z":1}}"#)
        );
        assert_eq!(digest(&None), "");
    }
}
