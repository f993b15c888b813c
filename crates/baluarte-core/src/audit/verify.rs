//! Verification: the whole chain, entry by entry, against every signed checkpoint there is (the
//! database's and the checkpoint file's), and the rule that no entry stays uncovered by a checkpoint
//! for longer than the checkpointer can take.

use super::checkpoint::{read_file, DbCheckpoint, FileRead};
use super::{entry_from_row, entry_hash, ENTRY_COLUMNS, FORMAT, GENESIS};
use crate::db::Db;
use crate::error::Result;
use crate::model::AuditEntry;
use crate::time::{rfc3339, span, Micros};
use serde::Serialize;
use sqlx::Row;
use std::path::Path;

/// How many checkpoint intervals an entry may wait for its checkpoint before verification fails: the
/// checkpointer signs once an interval, and a tick may be late (a busy or restarting server).
pub const GRACE_INTERVALS: i64 = 2;

/// What a verification trusts besides the database, and when it runs.
#[derive(Debug, Clone, Copy)]
pub struct Trust<'a> {
    /// The server's public key (hex): every checkpoint must be signed by it.
    pub public_key: &'a str,
    /// The checkpoint file outside the database, when the server keeps one. A file that is not there
    /// is reported (`file_checkpoints: None`), not a failure: the database's administrator cannot
    /// remove it, and a server that never wrote one (a new node) has none.
    pub checkpoint_file: Option<&'a Path>,
    /// Now, by the services' clock.
    pub now: Micros,
    /// How long an entry may stay covered by no checkpoint ([`GRACE_INTERVALS`] × the checkpoint
    /// interval); None: as long as it likes (the chain alone is checked).
    pub max_uncovered_age: Option<Micros>,
}

impl<'a> Trust<'a> {
    /// The database alone, with no file and no time rule: what [`verify_chain`] checks.
    pub fn database_only(public_key: &'a str) -> Self {
        Trust {
            public_key,
            checkpoint_file: None,
            now: 0,
            max_uncovered_age: None,
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct VerifyReport {
    pub entries: i64,
    /// Signed checkpoints in the database.
    pub checkpoints: i64,
    /// Signed checkpoints in the checkpoint file; None when no file was read (none is kept, or it is
    /// not there).
    pub file_checkpoints: Option<i64>,
    pub head_seq: i64,
    /// The newest entry a signed checkpoint covers (0: none).
    pub covered_seq: i64,
    /// Entries after `covered_seq`: they chain correctly and were written within the allowed window,
    /// but no checkpoint signs them yet.
    pub not_yet_covered: i64,
    /// The first entry that does not hold, and why; None when the whole chain verifies.
    pub broken: Option<Broken>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Broken {
    pub seq: i64,
    pub reason: String,
}

/// Entries checked one after another: each has the next sequence number, a known format, contents that
/// match its hash, and the previous entry's hash.
pub(super) struct Walk {
    pub(super) expected_seq: i64,
    pub(super) prev_hash: String,
}

impl Walk {
    pub(super) fn from_genesis() -> Self {
        Walk {
            expected_seq: 1,
            prev_hash: GENESIS.to_string(),
        }
    }

    /// Check the next entry; on success it becomes the one the next must follow.
    pub(super) fn step(&mut self, e: &AuditEntry) -> Result<(), Broken> {
        let broken = |seq, reason| Err(Broken { seq, reason });
        if e.seq != self.expected_seq {
            return broken(
                self.expected_seq,
                format!("entry {} is missing (the next entry is {})", self.expected_seq, e.seq),
            );
        }
        if !(1..=FORMAT).contains(&e.format) {
            return broken(e.seq, format!("entry {} has an unknown format {}", e.seq, e.format));
        }
        if entry_hash(e) != e.hash {
            return broken(
                e.seq,
                format!("entry {} was altered: its contents do not match its hash", e.seq),
            );
        }
        if e.prev_hash != self.prev_hash {
            return broken(
                e.seq,
                format!(
                    "entry {} does not follow entry {} (reordered or replaced)",
                    e.seq,
                    e.seq - 1
                ),
            );
        }
        self.prev_hash = e.hash.clone();
        self.expected_seq += 1;
        Ok(())
    }
}

/// Up to 5000 entries from `from` on, in order.
pub(super) async fn batch_from(db: &Db, from: i64) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000"
    ))
    .bind(from)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
}

pub(super) async fn head(db: &Db) -> Result<(i64, String)> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    Ok((head.try_get("seq")?, head.try_get("hash")?))
}

/// A point the chain must pass through: entry `seq` has `hash`, signed by the server.
#[derive(Debug)]
struct Anchor {
    seq: i64,
    hash: String,
    /// "" for the database's checkpoints; " (line N of FILE)" for the file's.
    origin: String,
}

/// The chain and the database's checkpoints only, with no file and no time rule: what the database
/// holds is consistent with itself and signed by `public_key`. Someone who edits the database can
/// delete its checkpoints and recompute the chain, which this does not see; [`verify`] with the
/// services' [`Trust`] (what `baluarte audit verify` and the audit pages run) does.
pub async fn verify_chain(db: &Db, public_key: &str) -> Result<VerifyReport> {
    verify(db, &Trust::database_only(public_key)).await
}

/// Walk the whole chain in order and check every entry, the tip, every checkpoint in the database and
/// in the checkpoint file (each signed by the server's key, each matching its entry, each of the
/// file's also in the database) and the age of what no checkpoint covers. Memory stays bounded by the
/// checkpoints: entries are read in batches.
pub async fn verify(db: &Db, trust: &Trust<'_>) -> Result<VerifyReport> {
    // The file first: it is appended after the database commits, so what it holds now is in the
    // database when that is read next.
    let file = match trust.checkpoint_file {
        Some(path) => Some((path, read_file(path, trust.public_key)?)),
        None => None,
    };
    let (mut head_seq, mut head_hash) = head(db).await?;
    let db_checkpoints = DbCheckpoint::all(db).await?;
    let mut report = VerifyReport {
        entries: 0,
        checkpoints: db_checkpoints.len() as i64,
        file_checkpoints: None,
        head_seq,
        covered_seq: 0,
        not_yet_covered: 0,
        broken: None,
    };
    let fail = |mut report: VerifyReport, seq: i64, reason: String| {
        report.broken = Some(Broken { seq, reason });
        Ok(report)
    };
    let mut anchors = Vec::with_capacity(db_checkpoints.len());
    for cp in &db_checkpoints {
        if !cp.verifies(trust.public_key) {
            return fail(
                report,
                cp.seq(),
                format!("checkpoint at entry {} is not signed by this server's key", cp.seq()),
            );
        }
        anchors.push(Anchor {
            seq: cp.seq(),
            hash: cp.hash().to_string(),
            origin: String::new(),
        });
    }
    let mut file_lines = Vec::new();
    match file {
        None | Some((_, FileRead::Absent)) => {}
        Some((_, FileRead::Bad { seq, reason })) => return fail(report, seq, reason),
        Some((path, FileRead::Lines(lines))) => {
            report.file_checkpoints = Some(lines.len() as i64);
            for l in &lines {
                anchors.push(Anchor {
                    seq: l.cp.seq,
                    hash: l.cp.hash.clone(),
                    origin: format!(" (line {} of {})", l.line, path.display()),
                });
            }
            file_lines = lines;
        }
    }
    anchors.sort_by_key(|a| a.seq);
    let covered = anchors.last().map_or(0, |a| a.seq);

    let mut cps = anchors.iter().peekable();
    let mut walk = Walk::from_genesis();
    // The times of the entries no checkpoint covers: the oldest and the newest.
    let mut uncovered: Option<(Micros, Micros)> = None;
    loop {
        let batch = batch_from(db, walk.expected_seq).await?;
        if batch.is_empty() {
            // Writes go on while we read: entries appended since the tip was read are not a tampered
            // tail. Read the tip again, and the entries up to it, until it holds still.
            let (now_seq, now_hash) = head(db).await?;
            if now_seq != head_seq {
                (head_seq, head_hash) = (now_seq, now_hash);
                report.head_seq = head_seq;
                continue;
            }
            break;
        }
        for e in &batch {
            if let Err(b) = walk.step(e) {
                return fail(report, b.seq, b.reason);
            }
            while let Some(cp) = cps.next_if(|cp| cp.seq == e.seq) {
                if cp.hash != e.hash {
                    return fail(
                        report,
                        e.seq,
                        format!("entry {} differs from the signed checkpoint{}", e.seq, cp.origin),
                    );
                }
            }
            if e.seq > covered {
                uncovered = Some(uncovered.map_or((e.at, e.at), |(lo, hi)| (lo.min(e.at), hi.max(e.at))));
            }
            report.entries += 1;
        }
    }
    let last = walk.expected_seq - 1;
    if let Some(cp) = cps.next() {
        return fail(
            report,
            last + 1,
            format!(
                "entries {}..={} are missing: a signed checkpoint{} covers entry {}",
                last + 1,
                cp.seq,
                cp.origin,
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
    if head_hash != walk.prev_hash {
        return fail(
            report,
            last,
            format!("entry {last} does not match the recorded tip of the chain"),
        );
    }
    if let Some((path, l)) = trust.checkpoint_file.zip(file_lines.iter().find(|l| {
        !db_checkpoints
            .iter()
            .any(|c| c.seq() == l.cp.seq && c.hash() == l.cp.hash)
    })) {
        return fail(
            report,
            l.cp.seq,
            format!(
                "the signed checkpoint at entry {} (line {} of {}) is missing from the database: checkpoints were deleted",
                l.cp.seq,
                l.line,
                path.display()
            ),
        );
    }
    report.covered_seq = covered;
    report.not_yet_covered = last - covered;
    if let (Some(max_age), Some((oldest, newest))) = (trust.max_uncovered_age, uncovered) {
        let first = covered + 1;
        if trust.now - oldest > max_age {
            let since = if covered == 0 {
                "no checkpoint at all".to_string()
            } else {
                format!("the last checkpoint covers entry {covered}")
            };
            return fail(
                report,
                first,
                format!(
                    "entries {first}..={last} are not covered by a signed checkpoint ({since}), yet one of them was written {} ago ({}), longer than the {} a checkpoint may take: they may have been rewritten since. If the server stopped without signing them, check them and sign them as they stand with `baluarte audit checkpoint`",
                    span(trust.now - oldest),
                    rfc3339(oldest),
                    span(max_age)
                ),
            );
        }
        if newest - trust.now > max_age {
            return fail(
                report,
                first,
                format!(
                    "entries {first}..={last} are not covered by a signed checkpoint and one is dated {} ahead of now ({})",
                    span(newest - trust.now),
                    rfc3339(newest)
                ),
            );
        }
    }
    Ok(report)
}
