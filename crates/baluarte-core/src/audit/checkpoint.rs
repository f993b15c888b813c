//! Checkpoints: the chain's tip signed with the server's Ed25519 key. Each is kept twice: in the
//! database (`audit_checkpoints`) and, outside it, as one line appended to the checkpoint file
//! ([`CHECKPOINT_FILE`] in the data directory), which the witnesses also receive ([`super::witness`]).
//!
//! A line of the file is the JSON of a [`SignedCheckpoint`]:
//! `{"seq":…,"hash":"…","at":…,"public_key":"…","signature":"…"}`, where `at` is when it was signed
//! (microseconds since the Unix epoch, UTC) and `signature` is the Ed25519 signature (hex) of
//! `baluarte-audit-checkpoint-v2:{seq}:{hash}:{at}`. Checkpoints written before the file existed
//! (format 1, in the database only) signed `baluarte-audit-checkpoint-v1:{seq}:{hash}`.

use super::verify::{batch_from, head, Walk};
use crate::crypto::{verify_signature, ServerKey};
use crate::db::Db;
use crate::error::{CoreError, Result};
use crate::time::Micros;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The checkpoint file's name in the data directory.
pub const CHECKPOINT_FILE: &str = "audit-checkpoints.jsonl";

/// The checkpoint format this release signs (see the module's documentation).
const FORMAT: i64 = 2;

/// How much of the file's end is read to find the newest checkpoint before signing the next.
const TAIL: u64 = 64 * 1024;

/// One signed checkpoint: entry `seq` of the chain has hash `hash`, as the server saw at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCheckpoint {
    pub seq: i64,
    pub hash: String,
    /// When it was signed, by the services' clock (microseconds since the Unix epoch, UTC).
    pub at: Micros,
    /// The server's public key (hex).
    pub public_key: String,
    /// Ed25519 signature (hex) of [`SignedCheckpoint::message`].
    pub signature: String,
}

fn message(format: i64, seq: i64, hash: &str, at: Micros) -> Vec<u8> {
    match format {
        1 => format!("baluarte-audit-checkpoint-v1:{seq}:{hash}").into_bytes(),
        _ => format!("baluarte-audit-checkpoint-v2:{seq}:{hash}:{at}").into_bytes(),
    }
}

impl SignedCheckpoint {
    fn sign(key: &ServerKey, seq: i64, hash: String, at: Micros) -> Self {
        SignedCheckpoint {
            signature: key.sign_hex(&message(FORMAT, seq, &hash, at)),
            seq,
            hash,
            at,
            public_key: key.public_hex(),
        }
    }

    /// What is signed: `baluarte-audit-checkpoint-v2:{seq}:{hash}:{at}`.
    pub fn message(&self) -> Vec<u8> {
        message(FORMAT, self.seq, &self.hash, self.at)
    }

    /// Whether it is signed by `public_key` (hex), and says so.
    pub fn verifies(&self, public_key: &str) -> bool {
        self.public_key == public_key && verify_signature(public_key, &self.message(), &self.signature)
    }

    /// Its line in the checkpoint file (without the newline), which the witnesses receive too.
    pub fn line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A checkpoint row of the database, with the format its signature was made by.
#[derive(Debug, Clone)]
pub(super) struct DbCheckpoint {
    cp: SignedCheckpoint,
    format: i64,
}

impl DbCheckpoint {
    const SELECT: &'static str = "SELECT seq, hash, signed_at, public_key, signature, format FROM audit_checkpoints";

    fn from_row(r: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        Ok(DbCheckpoint {
            cp: SignedCheckpoint {
                seq: r.try_get("seq")?,
                hash: r.try_get("hash")?,
                at: r.try_get("signed_at")?,
                public_key: r.try_get("public_key")?,
                signature: r.try_get("signature")?,
            },
            format: r.try_get("format")?,
        })
    }

    /// Every checkpoint in the database, oldest first.
    pub(super) async fn all(db: &Db) -> Result<Vec<Self>> {
        let rows = sqlx::query(&format!("{} ORDER BY seq", Self::SELECT))
            .fetch_all(db.pool())
            .await?;
        Ok(rows.iter().map(Self::from_row).collect::<Result<_, _>>()?)
    }

    async fn newest(db: &Db) -> Result<Option<Self>> {
        let row = sqlx::query(&format!("{} ORDER BY seq DESC LIMIT 1", Self::SELECT))
            .fetch_optional(db.pool())
            .await?;
        Ok(row.as_ref().map(Self::from_row).transpose()?)
    }

    pub(super) fn seq(&self) -> i64 {
        self.cp.seq
    }
    pub(super) fn hash(&self) -> &str {
        &self.cp.hash
    }

    pub(super) fn verifies(&self, public_key: &str) -> bool {
        self.cp.public_key == public_key
            && verify_signature(
                public_key,
                &message(self.format, self.cp.seq, &self.cp.hash, self.cp.at),
                &self.cp.signature,
            )
    }
}

/// One line of the checkpoint file, numbered from 1.
#[derive(Debug, Clone)]
pub(super) struct FileLine {
    pub(super) line: usize,
    pub(super) cp: SignedCheckpoint,
}

/// What the checkpoint file holds.
#[derive(Debug)]
pub(super) enum FileRead {
    Absent,
    Lines(Vec<FileLine>),
    /// A line that is not a checkpoint signed by the server: `seq` is the entry it names (0 if none).
    Bad {
        seq: i64,
        reason: String,
    },
}

fn io(path: &Path, e: std::io::Error) -> CoreError {
    CoreError::internal_from(path.display().to_string(), e)
}

/// Parse one line of the file and check its signature; `place` names the line in errors ("line 3 of
/// FILE").
fn parse_line(place: &str, text: &str, public_key: &str) -> Result<SignedCheckpoint, (i64, String)> {
    let cp: SignedCheckpoint =
        serde_json::from_str(text).map_err(|e| (0, format!("{place} is not a signed checkpoint: {e}")))?;
    if !cp.verifies(public_key) {
        return Err((
            cp.seq,
            format!("{place} (entry {}) is not signed by this server's key", cp.seq),
        ));
    }
    Ok(cp)
}

/// Read and check every line of the checkpoint file.
pub(super) fn read_file(path: &Path, public_key: &str) -> Result<FileRead> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileRead::Absent),
        Err(e) => return Err(io(path, e)),
    };
    let mut lines = Vec::new();
    for (i, text) in text.lines().enumerate() {
        match parse_line(&format!("line {} of {}", i + 1, path.display()), text, public_key) {
            Ok(cp) => lines.push(FileLine { line: i + 1, cp }),
            Err((seq, reason)) => return Ok(FileRead::Bad { seq, reason }),
        }
    }
    Ok(FileRead::Lines(lines))
}

/// The newest checkpoint among the last lines of the file (its tail is enough: lines are appended in
/// the order they are signed, give or take two processes signing at once).
fn newest_in_file(path: &Path, public_key: &str) -> Result<Option<SignedCheckpoint>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path, e)),
    };
    let len = f.metadata().map_err(|e| io(path, e))?.len();
    let start = len.saturating_sub(TAIL);
    f.seek(SeekFrom::Start(start)).map_err(|e| io(path, e))?;
    let mut tail = String::new();
    f.read_to_string(&mut tail).map_err(|e| io(path, e))?;
    let mut lines: Vec<&str> = tail.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // begins mid-line
    }
    let mut newest: Option<SignedCheckpoint> = None;
    for text in lines {
        let cp = parse_line(&format!("a line near the end of {}", path.display()), text, public_key)
            .map_err(|(_, reason)| refusal(&format!("the checkpoint file does not verify: {reason}")))?;
        if newest.as_ref().is_none_or(|n| cp.seq > n.seq) {
            newest = Some(cp);
        }
    }
    Ok(newest)
}

/// Append one line to the checkpoint file (created when absent) and flush it to disk.
fn append_to_file(path: &Path, cp: &SignedCheckpoint) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io(path, e))?;
    f.write_all(format!("{}\n", cp.line()).as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| io(path, e))
}

fn refusal(reason: &str) -> CoreError {
    CoreError::Conflict(format!("not signing the audit trail: {reason}"))
}

/// Check that the chain runs unbroken from `anchor` (or from the start) to the tip `(seq, hash)`.
async fn check_since(db: &Db, anchor: Option<&SignedCheckpoint>, seq: i64, hash: &str) -> Result<()> {
    let mut walk = Walk::from_genesis();
    if let Some(a) = anchor {
        let batch = batch_from(db, a.seq).await?;
        let Some(e) = batch.first().filter(|e| e.seq == a.seq) else {
            return Err(refusal(&format!("entry {} of the newest checkpoint is missing", a.seq)));
        };
        if e.hash != a.hash || super::entry_hash(e) != e.hash {
            return Err(refusal(&format!("entry {} differs from the newest checkpoint", a.seq)));
        }
        walk = Walk {
            expected_seq: a.seq + 1,
            prev_hash: a.hash.clone(),
        };
    }
    while walk.expected_seq <= seq {
        let batch = batch_from(db, walk.expected_seq).await?;
        if batch.is_empty() {
            return Err(refusal(&format!("entry {} is missing", walk.expected_seq)));
        }
        for e in &batch {
            if walk.expected_seq > seq {
                break;
            }
            walk.step(e).map_err(|b| {
                let since = anchor.map_or(String::new(), |a| format!(" since the checkpoint at entry {}", a.seq));
                refusal(&format!("the chain does not hold{since}: {}", b.reason))
            })?;
        }
    }
    if walk.prev_hash != hash {
        return Err(refusal(&format!("entry {seq} does not match the recorded tip")));
    }
    Ok(())
}

/// Sign the tip, if it moved since the newest checkpoint, and append the checkpoint to `file` (the
/// checkpoint file, when the server keeps one) once the database holds it. Returns the signed sequence
/// number, or None when there was nothing new.
///
/// Only a chain that holds is signed: from the newest checkpoint there is (in the database or in the
/// file, whichever is newer, each signed by this key) to the tip, every entry must follow the one
/// before. A server started on a store whose chain was rewritten behind its back refuses
/// ([`CoreError::Conflict`]) instead of blessing the rewrite, and sends its witnesses nothing.
pub async fn checkpoint(db: &Db, key: &ServerKey, file: Option<&Path>) -> Result<Option<i64>> {
    let public_key = key.public_hex();
    let (seq, hash) = head(db).await?;
    if seq == 0 {
        return Ok(None);
    }
    let in_db = DbCheckpoint::newest(db).await?;
    if let Some(cp) = in_db.as_ref().filter(|cp| !cp.verifies(&public_key)) {
        return Err(refusal(&format!(
            "the checkpoint at entry {} is not signed by this server's key",
            cp.seq()
        )));
    }
    let in_file = match file {
        Some(path) => newest_in_file(path, &public_key)?,
        None => None,
    };
    let anchor = [in_db.map(|c| c.cp), in_file]
        .into_iter()
        .flatten()
        .max_by_key(|c| c.seq);
    if let Some(a) = &anchor {
        if a.seq > seq {
            return Err(refusal(&format!(
                "the tip (entry {seq}) is behind the checkpoint at entry {}",
                a.seq
            )));
        }
        if a.seq == seq {
            if a.hash != hash {
                return Err(refusal(&format!("the tip differs from the checkpoint at entry {seq}")));
            }
            return Ok(None);
        }
    }
    check_since(db, anchor.as_ref(), seq, &hash).await?;

    let mut tx = db.begin_write().await?;
    let last: Option<i64> = sqlx::query("SELECT MAX(seq) AS m FROM audit_checkpoints")
        .fetch_one(tx.conn())
        .await?
        .try_get("m")?;
    if last.is_some_and(|l| l >= seq) {
        // Another process signed this tip (or a newer one) meanwhile.
        return Ok(None);
    }
    let cp = SignedCheckpoint::sign(key, seq, hash, tx.now());
    sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, signed_at, public_key, signature, format) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(cp.seq)
    .bind(&cp.hash)
    .bind(cp.at)
    .bind(&cp.public_key)
    .bind(&cp.signature)
    .bind(FORMAT)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    // After the commit: the file never holds a checkpoint the database lacks.
    if let Some(path) = file {
        append_to_file(path, &cp)?;
    }
    Ok(Some(seq))
}
