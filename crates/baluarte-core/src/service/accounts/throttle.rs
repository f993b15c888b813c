//! Sign-in throttling: how many wrong passwords and second-factor codes are let through, and for how long
//! a lockout lasts.
//!
//! An attempt is counted before it is checked. [`Accounts::begin_attempt`] takes a per-account and a
//! per-address lock (PostgreSQL advisory locks for the transaction; SQLite has one writer), counts the
//! recent failures, and either refuses with `TooManyAttempts` or writes the attempt down as a failure, all in
//! one write transaction, before Argon2 or the TOTP check runs. Concurrent attempts therefore cannot all
//! pass the count: no more than the limit are ever verified. What happens to the row afterwards:
//!
//! - a wrong password or code, an unknown or deactivated account: it stays, a failure;
//! - a right password that still owes the second factor: the row is taken back ([`withdraw`]), and
//!   nothing else is cleared, so guessing the code after the password counts like guessing the password;
//! - a sign-in that succeeded entirely (password, and the code when one is enrolled): the account's
//!   failures from that address are cleared ([`clear_failures`]), in the transaction that opens the session.
//!
//! Three limits apply inside `lockout_window` (15 minutes), with these defaults ([`Settings`]):
//!
//! | counted | default | what it stops |
//! |---|---|---|
//! | one account from one address | 5 | one client guessing one account (the strict limit) |
//! | one account from every address | 20 | guesses spread over many addresses |
//! | one address over every account | 100 | one address spraying many accounts |
//!
//! The per-address limit is deliberately much higher than the per-pair one: many people may sign in from
//! behind one address (a ministry's NAT, a proxy), and one of them guessing one account must not lock the
//! others out; that client is stopped by the pair's limit after 5 tries. A lockout is a sliding window:
//! a scope reopens when its failures inside the window drop below its limit, that is `lockout_window`
//! after the limit-th most recent failure. `retry_after_secs` is the time until every lockout that
//! applies has lifted (the longest), rounded up to the second.
//!
//! [`Settings`]: crate::service::Settings
//! [`withdraw`]: Attempt::withdraw
//! [`clear_failures`]: clear_failures

use super::Accounts;
use crate::db::{Backend, WriteTx};
use crate::error::{CoreError, Result};
use crate::service::kit::new_id;
use crate::time::{Micros, SECOND};
use sqlx::{AnyConnection, Row};

/// An attempt written down as a failure, before its password or code was checked.
#[derive(Debug)]
pub(super) struct Attempt {
    id: String,
}

impl Attempt {
    /// The password was right and a second factor is due: this attempt was not a failure.
    pub(super) async fn withdraw(&self, tx: &mut WriteTx) -> Result<()> {
        sqlx::query("DELETE FROM login_attempts WHERE id = $1")
            .bind(&self.id)
            .execute(tx.conn())
            .await?;
        Ok(())
    }
}

/// The whole sign-in succeeded: the account's failures from this address no longer count. Failures from
/// other addresses stay, so that an owner signing in does not hand a guesser elsewhere a fresh allowance.
pub(super) async fn clear_failures(tx: &mut WriteTx, email: &str, ip: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_attempts WHERE email = $1 AND ip = $2")
        .bind(email)
        .bind(ip)
        .execute(tx.conn())
        .await?;
    Ok(())
}

impl Accounts<'_> {
    /// Count a sign-in attempt for `email` from `ip` and write it down as a failure, or refuse it with
    /// `TooManyAttempts` when a limit is reached; atomic against concurrent attempts on both backends.
    pub(super) async fn begin_attempt(self, email: &str, ip: &str) -> Result<Attempt> {
        let mut tx = self.s.db.begin_write().await?;
        if self.s.db.backend() == Backend::Postgres {
            // Always the account's lock first, then the address's: no two attempts wait on each other
            // in opposite orders. The first argument keeps accounts and addresses apart.
            for (space, key) in [(1, email), (2, ip)] {
                sqlx::query(&format!(
                    "SELECT pg_advisory_xact_lock({space}, hashtext($1))::text AS locked"
                ))
                .bind(key)
                .execute(tx.conn())
                .await?;
            }
        }
        let now = tx.now();
        let window = self.s.settings.lockout_window;
        let since = now - window;
        if let Some(reopens) = self.lockout(tx.conn(), email, ip, since).await? {
            let wait = u64::try_from(reopens - now).unwrap_or(0).max(1);
            let retry_after_secs = wait.div_ceil(SECOND.unsigned_abs());
            return Err(CoreError::TooManyAttempts { retry_after_secs });
        }
        // Rows that have left the window count for nothing any more.
        for column in ["email", "ip"] {
            sqlx::query(&format!("DELETE FROM login_attempts WHERE {column} = $1 AND at <= $2"))
                .bind(if column == "email" { email } else { ip })
                .bind(since)
                .execute(tx.conn())
                .await?;
        }
        let attempt = Attempt { id: new_id() };
        sqlx::query("INSERT INTO login_attempts (id, email, ip, at, success) VALUES ($1, $2, $3, $4, 0)")
            .bind(&attempt.id)
            .bind(email)
            .bind(ip)
            .bind(now)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(attempt)
    }

    /// When the last lockout that applies to `email` at `ip` lifts, if one applies now.
    async fn lockout(self, conn: &mut AnyConnection, email: &str, ip: &str, since: Micros) -> Result<Option<Micros>> {
        let settings = &self.s.settings;
        let scopes: [(&str, &[&str], i64); 3] = [
            (
                "email = $3 AND ip = $4",
                &[email, ip],
                settings.max_failures_per_account_and_ip,
            ),
            ("email = $3", &[email], settings.max_failures_per_account),
            ("ip = $3", &[ip], settings.max_failures_per_ip),
        ];
        let mut reopens: Option<Micros> = None;
        for (condition, keys, max) in scopes {
            // The limit-th most recent failure: while it is inside the window, the scope is locked, and it
            // reopens when that one leaves the window.
            let sql = format!(
                "SELECT at FROM login_attempts WHERE success = 0 AND at > $1 AND {condition} \
                 ORDER BY at DESC LIMIT 1 OFFSET $2"
            );
            let mut query = sqlx::query(&sql).bind(since).bind(max.max(1) - 1);
            for key in keys {
                query = query.bind(*key);
            }
            if let Some(row) = query.fetch_optional(&mut *conn).await? {
                let until = row.try_get::<i64, _>("at")? + settings.lockout_window;
                reopens = Some(reopens.map_or(until, |r| r.max(until)));
            }
        }
        Ok(reopens)
    }
}
