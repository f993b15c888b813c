//! Storage: one connection pool over SQLite (embedded default) or PostgreSQL, chosen by the URL.
//!
//! Queries are written once in the SQL both accept (`$1` placeholders, BIGINT booleans and times) and
//! run through sqlx's Any driver. Writes go through [`Db::begin_write`]: on SQLite, which has one writer
//! at a time, write transactions queue on an async lock instead of failing with SQLITE_BUSY.

use crate::error::{CoreError, Result};
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

#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    url: String,
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
            return Err(CoreError::invalid(
                "database_url",
                "must start with sqlite: or postgres://",
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
            url: url.to_string(),
            write_lock: Arc::new(Mutex::new(())),
            clock: Clock::system(),
        };
        MIGRATOR
            .run(&db.pool)
            .await
            .map_err(|e| CoreError::Internal(format!("migrations: {e}")))?;
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
    pub fn url(&self) -> &str {
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
