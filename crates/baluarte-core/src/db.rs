//! Storage: one connection pool over SQLite (embedded default) or PostgreSQL, chosen by the URL.
//!
//! Queries are written once in the SQL both accept (`$1` placeholders, BIGINT booleans and times) and
//! run through sqlx's Any driver. Writes go through [`Db::begin_write`]: on SQLite, which has one writer
//! at a time, write transactions queue on an async lock instead of failing with SQLITE_BUSY.

use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::time::{Clock, Micros};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL that keeps its password out of logs: `Debug` and `Display` print
/// `postgres://user:***@host/db` (and `password=***` in the query). Whoever connects asks for the real
/// URL with [`DbUrl::expose`]; tools that read the password from the environment get the URL without it
/// from [`DbUrl::split_password`].
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl(String);

/// Query parameters that carry a password (libpq's names).
const SECRET_PARAMS: [&str; 2] = ["password", "sslpassword"];

impl DbUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DbUrl(url.into())
    }

    /// The URL with its password, for connecting. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with every password replaced by `***`.
    pub fn redacted(&self) -> String {
        let Ok(mut u) = url::Url::parse(&self.0) else {
            // Nothing can be said about what an unparsable URL hides.
            return "<database URL that is not a URL>".into();
        };
        if u.password().is_some() {
            let _ = u.set_password(Some("***"));
        }
        let query = map_query(&u, |key, segment| {
            Some(if SECRET_PARAMS.contains(&key) {
                format!("{key}=***")
            } else {
                segment.to_string()
            })
        });
        u.set_query(query.as_deref());
        u.to_string()
    }

    /// The URL without its password (neither in the user info nor as `password=`), and the password
    /// itself, percent-decoded; a `password=` parameter wins over the user info, as in libpq.
    pub fn split_password(&self) -> Result<(String, Option<String>)> {
        let mut u = url::Url::parse(&self.0)
            .map_err(|e| CoreError::malformed("database_url", format!("not a URL ({e}): {}", self.redacted())))?;
        let mut password = u.password().map(decode);
        let query = map_query(&u, |key, segment| {
            if key != "password" {
                return Some(segment.to_string());
            }
            password = Some(decode(segment.split_once('=').map_or("", |(_, v)| v)));
            None
        });
        u.set_query(query.as_deref());
        let _ = u.set_password(None);
        Ok((u.to_string(), password))
    }
}

/// The URL's query rebuilt from its `&`-separated segments, each kept (possibly rewritten) or dropped
/// by `f(decoded key, raw segment)`; the segments keep their own encoding. None when nothing is left.
fn map_query(u: &url::Url, mut f: impl FnMut(&str, &str) -> Option<String>) -> Option<String> {
    let kept: Vec<String> = u
        .query()?
        .split('&')
        .filter(|s| !s.is_empty())
        .filter_map(|segment| f(&decode(segment.split('=').next().unwrap_or("")), segment))
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DbUrl").field(&self.redacted()).finish()
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The pool and the URL it was opened with; `Debug` shows the URL redacted ([`DbUrl`]).
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    url: DbUrl,
    write_lock: Arc<Mutex<()>>,
    clock: Clock,
}

/// A write transaction; on SQLite it also holds the process's writer lock until commit or drop.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
    clock: Clock,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
    /// The time now, on the clock of the store that opened this transaction.
    pub fn now(&self) -> Micros {
        self.clock.now()
    }
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(CoreError::from)
    }
}

impl Db {
    /// Connect to `sqlite://PATH` or `postgres://…` and apply the embedded migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(CoreError::invalid_field(
                FieldError::new("database_url", FieldCode::NotOneOf).with("choices", "sqlite:, postgres://"),
            ));
        };
        let options = AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 8 } else { 16 });
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; foreign keys are off by default in SQLite.
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA busy_timeout = 10000",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options.connect(url).await?;
        let db = Db {
            pool,
            backend,
            url: DbUrl::new(url),
            write_lock: Arc::new(Mutex::new(())),
            clock: Clock::system(),
        };
        MIGRATOR
            .run(&db.pool)
            .await
            .map_err(|e| CoreError::internal_from("migrations", e))?;
        Ok(db)
    }

    /// The SQLite URL of the database file in a data directory.
    pub fn sqlite_url(data_dir: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("baluarte.db").display())
    }

    /// The same store read through another clock (a test's manual clock); clones share it.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn now(&self) -> Micros {
        self.clock.now()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
    pub fn backend(&self) -> Backend {
        self.backend
    }
    /// The URL, redacted when shown; [`DbUrl::expose`] gives the real one.
    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    pub async fn begin_write(&self) -> Result<WriteTx> {
        let writer = match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let tx = self.pool.begin().await?;
        Ok(WriteTx {
            tx,
            _writer: writer,
            clock: self.clock.clone(),
        })
    }

    /// Cheap round trip, for readiness probes.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Booleans are stored as 0/1 on both backends.
pub fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// A `Db` over a pool that connects on first use (never, in these tests) and runs no migrations: enough
/// to look at what the value prints.
#[cfg(test)]
pub(crate) fn unconnected(url: &str) -> Db {
    sqlx::any::install_default_drivers();
    #[allow(clippy::expect_used)]
    let pool = AnyPoolOptions::new().connect_lazy(url).expect("a lazy pool");
    Db {
        pool,
        backend: Backend::Postgres,
        url: DbUrl::new(url),
        write_lock: Arc::new(Mutex::new(())),
        clock: Clock::manual(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn debug_output_of_a_db_holds_no_password() {
        for url in [
            "postgres://baluarte:hunter2-in-userinfo@db.example:5432/baluarte",
            "postgres://baluarte@db.example/baluarte?sslmode=require&password=hunter2-in-query",
        ] {
            let shown = format!("{:?}", unconnected(url));
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("db.example") && shown.contains("***"), "{shown}");
        }
    }

    #[test]
    fn a_url_shows_its_host_and_database_but_no_password() {
        for (url, shown) in [
            (
                "postgres://app:hunter2@db:5432/baluarte",
                "postgres://app:***@db:5432/baluarte",
            ),
            (
                "postgres://app@db/baluarte?sslmode=require&password=hunter2&sslpassword=hunter2",
                "postgres://app@db/baluarte?sslmode=require&password=***&sslpassword=***",
            ),
            ("postgres://app@db/baluarte", "postgres://app@db/baluarte"),
            (
                "sqlite:///srv/baluarte/baluarte.db?mode=rwc",
                "sqlite:///srv/baluarte/baluarte.db?mode=rwc",
            ),
            ("not a url hunter2", "<database URL that is not a URL>"),
        ] {
            let u = DbUrl::new(url);
            assert_eq!(u.to_string(), shown);
            assert_eq!(format!("{u:?}"), format!("DbUrl({shown:?})"));
            assert_eq!(u.expose(), url, "connecting still gets the real URL");
        }
    }

    #[test]
    fn the_password_splits_off_decoded_and_the_rest_is_kept_as_written() {
        let split = |u: &str| DbUrl::new(u).split_password().unwrap_or_default();
        assert_eq!(
            split("postgres://app:p%40ss%20w@db:5433/baluarte?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem"),
            (
                "postgres://app@db:5433/baluarte?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem".into(),
                Some("p@ss w".into())
            )
        );
        assert_eq!(
            split("postgres://app:old@db/baluarte?password=a%2Bb+c&application_name=x"),
            (
                "postgres://app@db/baluarte?application_name=x".into(),
                Some("a+b+c".into())
            ),
            "the query parameter wins, decoded as libpq does (no + for space)"
        );
        assert_eq!(
            split("postgres://app@db/baluarte"),
            ("postgres://app@db/baluarte".into(), None)
        );
        let err = DbUrl::new("postgres://app:hunter2@[db/x").split_password().err();
        assert!(err.is_some_and(|e| !format!("{e:?}").contains("hunter2")));
    }
}
