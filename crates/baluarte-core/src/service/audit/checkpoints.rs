//! Verifying the trail and signing its tip, with the services' key, checkpoint file and clock.

use super::Audit;
use crate::audit::{self, Trust, VerifyReport, GRACE_INTERVALS};
use crate::error::{CoreError, Result};
use crate::policy::{self, Actor, ListScope, Resource};
use crate::time::Micros;
use std::path::Path;

impl<'a> Audit<'a> {
    /// Verify the whole trail (see [`Audit::verify_trail`]). National auditors and administrators only.
    pub async fn verify_audit(self, actor: &Actor) -> Result<VerifyReport> {
        if policy::list_scope(actor, Resource::Audit)? != ListScope::All {
            return Err(CoreError::forbidden(
                "verifying the whole trail is for national auditors",
            ));
        }
        self.verify_trail().await
    }

    /// Verify the whole trail as the operator does (`baluarte audit verify`): the chain, the tip, every
    /// checkpoint in the database and in the checkpoint file, and no entry older than
    /// [`GRACE_INTERVALS`] checkpoint intervals (by the services' clock) left without a checkpoint.
    pub async fn verify_trail(self) -> Result<VerifyReport> {
        self.verify_trail_as_of(self.s.now()).await
    }

    /// [`Audit::verify_trail`] as of `now`: a restored backup is judged at the time it was taken, when
    /// its newest entries were still within their window.
    pub async fn verify_trail_as_of(self, now: Micros) -> Result<VerifyReport> {
        let key = self.s.key.public_hex();
        let settings = &self.s.settings;
        let trust = Trust {
            public_key: &key,
            checkpoint_file: settings.checkpoint_file.as_deref(),
            now,
            max_uncovered_age: Some(GRACE_INTERVALS * settings.checkpoint_interval.max(1)),
        };
        audit::verify(&self.s.db, &trust).await
    }

    /// Sign the tip if it moved, in the database and in the checkpoint file (see [`audit::checkpoint`]).
    pub async fn audit_checkpoint(self) -> Result<Option<i64>> {
        audit::checkpoint(&self.s.db, &self.s.key, self.s.settings.checkpoint_file.as_deref()).await
    }

    /// The checkpoint file, when the server keeps one.
    pub fn checkpoint_file(self) -> Option<&'a Path> {
        self.s.settings.checkpoint_file.as_deref()
    }
}
