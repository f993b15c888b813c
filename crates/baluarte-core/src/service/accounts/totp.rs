//! The TOTP second factor: the code at login, and enrolment.

use super::{throttle, Accounts, SessionStage};
use crate::audit::{self, Change};
use crate::crypto::{self, totp};
use crate::error::{CoreError, FieldCode, Result};
use crate::policy::Actor;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

#[derive(Clone, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 secret, for typing into an authenticator by hand.
    pub secret: String,
    /// `otpauth://` URL, rendered as a QR code by the web.
    pub url: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment { .. }")
    }
}

impl Accounts<'_> {
    async fn totp_secret(self, user_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT totp_secret FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(self.s.db.pool())
            .await?
            .try_get("totp_secret")?)
    }

    /// Second step of a login: the TOTP code. A code is an attempt like a password: counted before it
    /// is checked, and a wrong one stays a failure of the account at this address. Only this step's
    /// success clears the failures ([`super::throttle`]).
    pub async fn complete_totp(self, secret: &str, code: &str, ip: &str) -> Result<()> {
        let s = self.session(secret).await?;
        if s.stage != SessionStage::Totp {
            return Err(CoreError::Conflict("no second factor is due for this session".into()));
        }
        let email = s.user.email.to_lowercase();
        self.begin_attempt(&email, ip).await?;
        let stored = self.totp_secret(&s.user.id).await?.unwrap_or_default();
        let Some(step) = self.fresh_step(&s.user.id, &stored, code).await? else {
            return Err(CoreError::invalid("code", FieldCode::CodeNotValid));
        };
        let mut tx = self.s.db.begin_write().await?;
        // Only one caller can move the step forward: a code raced in twice is accepted once, and opens
        // one session (the stage changes in the same transaction, after the step moved). The loser's
        // attempt stays a failure.
        let moved = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(&s.user.id)
            .execute(tx.conn())
            .await?;
        if moved.rows_affected() == 0 {
            return Err(CoreError::invalid("code", FieldCode::CodeNotValid));
        }
        throttle::clear_failures(&mut tx, &email, ip).await?;
        sqlx::query("UPDATE sessions SET stage = $1 WHERE id_hash = $2")
            .bind(SessionStage::Full.as_str())
            .bind(crypto::sha256_hex(secret.as_bytes()))
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            &s.actor,
            Change::act("login", "user", &s.user.id, &s.user.entity_id),
        )
        .await?;
        tx.commit().await
    }

    /// The step of a valid code not used before by this person.
    async fn fresh_step(self, user_id: &str, secret: &str, code: &str) -> Result<Option<i64>> {
        let Some(step) = totp::matching_step(secret, code, self.s.now()) else {
            return Ok(None);
        };
        let last: i64 = sqlx::query("SELECT totp_last_step FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(self.s.db.pool())
            .await?
            .try_get("totp_last_step")?;
        Ok((step > last).then_some(step))
    }

    /// Start (or restart) enrolment: a fresh secret, pending until a code confirms it.
    pub async fn begin_totp_enrolment(self, actor: &Actor) -> Result<TotpEnrolment> {
        let user_id = actor
            .user_id()
            .ok_or_else(|| CoreError::forbidden("only people enrol a second factor"))?;
        let user = self.s.users().load_user(user_id).await?;
        if user.totp_enabled {
            return Err(CoreError::Conflict(
                "a second factor is already enrolled; an administrator can reset it".into(),
            ));
        }
        let secret = totp::new_secret();
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_enabled = 0")
            .bind(&secret)
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(TotpEnrolment {
            url: totp::provisioning_url(&secret, &user.email)?,
            secret,
        })
    }

    /// Confirm enrolment with a code from the authenticator; the session (if any) becomes full.
    pub async fn confirm_totp_enrolment(self, actor: &Actor, session_secret: Option<&str>, code: &str) -> Result<()> {
        let user_id = actor
            .user_id()
            .ok_or_else(|| CoreError::forbidden("only people enrol a second factor"))?;
        let user = self.s.users().load_user(user_id).await?;
        if user.totp_enabled {
            return Err(CoreError::Conflict("a second factor is already enrolled".into()));
        }
        let pending = self
            .totp_secret(user_id)
            .await?
            .ok_or_else(|| CoreError::Conflict("start the enrolment first".into()))?;
        let step = totp::matching_step(&pending, code, self.s.now())
            .ok_or_else(|| CoreError::invalid("code", FieldCode::CodeNotValid))?;
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE users SET totp_enabled = 1, totp_last_step = $1, updated_at = $2 WHERE id = $3")
            .bind(step)
            .bind(self.s.now())
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        if let Some(secret) = session_secret {
            sqlx::query("UPDATE sessions SET stage = 'full' WHERE id_hash = $1")
                .bind(crypto::sha256_hex(secret.as_bytes()))
                .execute(tx.conn())
                .await?;
        }
        audit::append(
            &mut tx,
            actor,
            Change::act("enrol_totp", "user", user_id, &user.entity_id),
        )
        .await?;
        tx.commit().await
    }
}
