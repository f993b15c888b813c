//! The audit trail: append-only, hash-chained, with signed checkpoints.
//!
//! Each entry's hash commits to its own fields and to the previous entry's hash, so editing, removing or
//! reordering any entry breaks every hash after it. `audit_head` keeps the tip (so removing the newest
//! entries shows), and checkpoints signed with the server's Ed25519 key pin the chain at points in time
//! ([`checkpoint`]): in the database, in the checkpoint file outside it, and at the witnesses the
//! server sends them to ([`witness`]), so that recomputing the chain's hashes after an edit needs the key
//! and the file too. [`verify`] names the first entry that does not hold, and fails when entries older
//! than the checkpoint interval allows are covered by no checkpoint.
//!
//! Entries carry the [`FORMAT`] they were written in, and [`entry_hash`] commits to it, so old entries
//! verify by the rule they were written by and no entry can be moved to another rule unnoticed.

mod checkpoint;
mod verify;
pub mod witness;

pub use checkpoint::{checkpoint, SignedCheckpoint, CHECKPOINT_FILE};
pub use verify::{verify, verify_chain, Broken, Trust, VerifyReport, GRACE_INTERVALS};

use crate::canonical::canonical_json;
use crate::crypto::sha256_hex;
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
