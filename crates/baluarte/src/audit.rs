//! The audit trail's jobs: verification as the operator reads it, and, in a running server, the
//! checkpointer and the witness rounds.

use crate::config::Config;
use anyhow::{bail, Result};
use baluarte_core::audit::witness::Witness;
use baluarte_core::audit::GRACE_INTERVALS;
use baluarte_core::time::{span, Micros};
use baluarte_core::{CoreError, Services};
use std::sync::Arc;
use std::time::Duration;

/// How long a stopping server waits for its witnesses to take the last checkpoint.
const LAST_ROUND: Duration = Duration::from_secs(15);

/// Verify the whole trail, as of `as_of` (a restored backup's time) or now, and say what holds; or fail
/// naming the first entry that does not.
pub async fn verify(services: &Services, as_of: Option<Micros>) -> Result<()> {
    let audit = services.audit();
    let r = match as_of {
        Some(t) => audit.verify_trail_as_of(t).await?,
        None => audit.verify_trail().await?,
    };
    if let Some(b) = r.broken {
        bail!("audit trail BROKEN at entry {}: {}", b.seq, b.reason);
    }
    println!(
        "audit trail verified: {} entries, {} signed checkpoints, chain intact",
        r.entries, r.checkpoints
    );
    match (audit.checkpoint_file(), r.file_checkpoints) {
        (Some(path), Some(n)) => println!(
            "checkpoint file {}: {n} signed checkpoints, each in the database and in the chain",
            path.display()
        ),
        (Some(path), None) => println!(
            "note: there is no checkpoint file at {}: only the database's checkpoints were checked",
            path.display()
        ),
        (None, _) => {}
    }
    if r.not_yet_covered > 0 {
        let interval = services.settings().checkpoint_interval;
        println!(
            "entries {}..={} are not yet covered by a checkpoint: written within the last {} (the server signs every {})",
            r.covered_seq + 1,
            r.head_seq,
            span(GRACE_INTERVALS * interval),
            span(interval)
        );
    }
    Ok(())
}

/// Sign the tip every `every`; a refusal to sign a chain that does not hold is an error in the log.
pub fn spawn_checkpointer(services: Services, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match services.audit().audit_checkpoint().await {
                Ok(_) => {}
                Err(e @ CoreError::Conflict(_)) => tracing::error!(error = %e.chain(), "audit checkpoint refused"),
                Err(e) => tracing::warn!(error = %e.chain(), "audit checkpoint failed"),
            }
        }
    })
}

/// The server's witness, when `[audit_witness]` names one.
pub fn witness(config: &Config) -> Result<Option<Arc<Witness>>> {
    Ok(Witness::new(&config.witness()?, &config.data_dir)?.map(Arc::new))
}

/// Send the witnesses what they have not received yet, every `every` (failures are logged by the
/// witness and tried again at the next round).
pub fn spawn_witness(witness: Arc<Witness>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let r = witness.deliver_pending().await;
            if r.sent > 0 {
                tracing::info!(sent = r.sent, "audit checkpoints sent to the witnesses");
            }
        }
    })
}

/// One last round as the server stops, so that the witnesses get its final checkpoint; bounded.
pub async fn last_witness_round(witness: &Witness) {
    if tokio::time::timeout(LAST_ROUND, witness.deliver_pending())
        .await
        .is_err()
    {
        tracing::warn!("audit witnesses did not take the last checkpoint in time; they get it at the next start");
    }
}
