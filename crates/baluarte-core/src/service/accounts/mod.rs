//! Accounts: login with throttling, sessions, the TOTP second factor ([`totp`]), own password and
//! language ([`Accounts`], `services.accounts()`); the people ([`users`], `services.users()`) and the
//! API tokens ([`tokens`], `services.tokens()`) of each entity.

mod throttle;
pub(crate) mod tokens;
mod totp;
pub(crate) mod users;

pub use tokens::{NewToken, TokenInput, Tokens};
pub use totp::TotpEnrolment;
pub(crate) use users::insert_user;
pub use users::{NewUser, UserFilter, UserInput, UserPatch, Users};

use super::Services;
use crate::audit::{self, Change};
use crate::crypto;
use crate::db::WriteTx;
use crate::error::{CoreError, FieldCode, Result};
use crate::model::User;
use crate::policy::Actor;
use serde::Serialize;
use sqlx::Row;
use std::sync::OnceLock;
use users::{user_from_row, valid_lang, USER_COLUMNS};
use utoipa::ToSchema;

/// Login, sessions, the second factor, and a person's own password and language: `services.accounts()`.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'a> {
    pub(in crate::service) s: &'a Services,
}

/// Where a session stands on the way to full access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStage {
    /// Password accepted; the TOTP code is still due.
    Totp,
    /// Password accepted; the role requires a second factor that is not enrolled yet.
    Enrol,
    Full,
}

impl SessionStage {
    fn as_str(self) -> &'static str {
        match self {
            SessionStage::Totp => "totp",
            SessionStage::Enrol => "enrol",
            SessionStage::Full => "full",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "full" => SessionStage::Full,
            "enrol" => SessionStage::Enrol,
            _ => SessionStage::Totp,
        }
    }
}

/// A new session: the secret goes to the client (cookie or bearer) and is stored only hashed.
#[derive(Clone)]
pub struct LoginOutcome {
    pub secret: String,
    pub stage: SessionStage,
    pub csrf: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOutcome")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub actor: Actor,
    pub user: User,
    pub entity_name: String,
    pub stage: SessionStage,
    pub csrf: String,
}

/// A hash to verify against when the e-mail is unknown, so that timing does not reveal accounts.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| crypto::hash_password("baluarte-dummy-password").unwrap_or_default())
}

impl Accounts<'_> {
    /// Check e-mail and password. A wrong password, an unknown e-mail and a deactivated account all
    /// answer the same `Unauthenticated`; repeated failures answer `TooManyAttempts` ([`throttle`]: the
    /// attempt is counted before the password is verified). A right password clears no failure while the
    /// second factor is still due: only a complete sign-in does.
    pub async fn login(self, email: &str, password: &str, ip: &str) -> Result<LoginOutcome> {
        let email = email.trim().to_lowercase();
        let attempt = self.begin_attempt(&email, ip).await?;
        let row = sqlx::query(&format!(
            "SELECT u.password_hash, u.active AS user_active, e.national_authority, e.active AS entity_active, {} \
             FROM users u JOIN entities e ON e.id = u.entity_id WHERE u.email = $1",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(&email)
        .fetch_optional(self.s.db.pool())
        .await?;
        // From here on, every refusal leaves the attempt counted as a failure.
        let Some(row) = row else {
            crypto::verify_password(password, dummy_hash());
            return Err(CoreError::Unauthenticated);
        };
        let hash: String = row.try_get("password_hash")?;
        let usable = row.try_get::<i64, _>("user_active")? != 0 && row.try_get::<i64, _>("entity_active")? != 0;
        if !crypto::verify_password(password, &hash) || !usable {
            return Err(CoreError::Unauthenticated);
        }
        let user = user_from_row(&row)?;
        let national_authority = row.try_get::<i64, _>("national_authority")? != 0;
        let stage = if user.totp_enabled {
            SessionStage::Totp
        } else if user.role.requires_totp(national_authority) {
            SessionStage::Enrol
        } else {
            SessionStage::Full
        };
        let mut tx = self.s.db.begin_write().await?;
        if stage == SessionStage::Totp {
            attempt.withdraw(&mut tx).await?;
        } else {
            throttle::clear_failures(&mut tx, &email, ip).await?;
        }
        let outcome = self.open_session(&mut tx, &user, national_authority, stage).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    async fn open_session(
        self,
        tx: &mut WriteTx,
        user: &User,
        national_authority: bool,
        stage: SessionStage,
    ) -> Result<LoginOutcome> {
        let secret = crypto::random_secret("bls_");
        let csrf = crypto::random_secret("");
        let now = tx.now();
        let expires_at = now + self.s.settings.session_ttl;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO sessions (id_hash, user_id, stage, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(crypto::sha256_hex(secret.as_bytes()))
            .bind(&user.id)
            .bind(stage.as_str())
            .bind(&csrf)
            .bind(now)
            .bind(expires_at)
            .execute(tx.conn())
            .await?;
        let actor = Actor::of_user(user, national_authority);
        let action = if stage == SessionStage::Full {
            "login"
        } else {
            "login_password_step"
        };
        audit::append(tx, &actor, Change::act(action, "user", &user.id, &user.entity_id)).await?;
        Ok(LoginOutcome {
            secret,
            stage,
            csrf,
            expires_at,
        })
    }

    /// The session behind a secret, if it exists, has not expired and its user and entity are active.
    pub async fn session(self, secret: &str) -> Result<SessionInfo> {
        let row = sqlx::query(&format!(
            "SELECT s.stage, s.csrf_token, e.national_authority, e.name AS entity_name, {} \
             FROM sessions s JOIN users u ON u.id = s.user_id JOIN entities e ON e.id = u.entity_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.active = 1 AND e.active = 1",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(crypto::sha256_hex(secret.as_bytes()))
        .bind(self.s.now())
        .fetch_optional(self.s.db.pool())
        .await?
        .ok_or(CoreError::Unauthenticated)?;
        let user = user_from_row(&row)?;
        let national_authority = row.try_get::<i64, _>("national_authority")? != 0;
        Ok(SessionInfo {
            actor: Actor::of_user(&user, national_authority),
            entity_name: row.try_get("entity_name")?,
            stage: SessionStage::parse(&row.try_get::<String, _>("stage")?),
            csrf: row.try_get("csrf_token")?,
            user,
        })
    }

    pub async fn logout(self, secret: &str) -> Result<()> {
        let Ok(s) = self.session(secret).await else {
            return Ok(());
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(crypto::sha256_hex(secret.as_bytes()))
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            &s.actor,
            Change::act("logout", "user", &s.user.id, &s.user.entity_id),
        )
        .await?;
        tx.commit().await
    }

    /// A person changes their own password; their other sessions end.
    pub async fn change_own_password(
        self,
        actor: &Actor,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let user_id = actor
            .user_id()
            .ok_or_else(|| CoreError::forbidden("only people have passwords"))?;
        let hash: String = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(self.s.db.pool())
            .await?
            .try_get("password_hash")?;
        if !crypto::verify_password(current, &hash) {
            return Err(CoreError::invalid("current_password", FieldCode::WrongPassword));
        }
        crypto::check_password_strength(new).map_err(|e| match e {
            CoreError::Invalid(errors) => {
                CoreError::Invalid(errors.into_iter().map(|e| e.renamed("new_password")).collect())
            }
            other => other,
        })?;
        let new_hash = crypto::hash_password(new)?;
        let user = self.s.users().load_user(user_id).await?;
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(&new_hash)
            .bind(self.s.now())
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        let keep = keep_session
            .map(|s| crypto::sha256_hex(s.as_bytes()))
            .unwrap_or_default();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(keep)
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::act("change_password", "user", user_id, &user.entity_id),
        )
        .await?;
        tx.commit().await
    }

    /// A person's interface language.
    pub async fn set_own_lang(self, actor: &Actor, lang: &str) -> Result<()> {
        let user_id = actor
            .user_id()
            .ok_or_else(|| CoreError::forbidden("only people have a language"))?;
        if !valid_lang(lang) {
            return Err(CoreError::invalid("lang", FieldCode::NotLanguage));
        }
        let before = self.s.users().load_user(user_id).await?;
        if before.lang == lang {
            return Ok(());
        }
        let after = User {
            lang: lang.to_string(),
            ..before.clone()
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("UPDATE users SET lang = $1, updated_at = $2 WHERE id = $3")
            .bind(lang)
            .bind(self.s.now())
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::changed("update", "user", user_id, &before.entity_id, &before, &after),
        )
        .await?;
        tx.commit().await
    }
}
