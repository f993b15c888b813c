//! One test's store, on SQLite or PostgreSQL, and the runner behind [`crate::conformance!`].
//!
//! - SQLite: a fresh temporary data directory holding a copy of the template file.
//! - PostgreSQL: a fresh database copied from the template database (see [`crate::pg`]), dropped when
//!   the test ends.
//!
//! Either way the store's services read the test clock ([`crate::clock::clock`]), and its server key and
//! audit checkpoint file live in the data directory. Tests return [`TestResult`] (or nothing), so `?`
//! works everywhere and a failure shows the error's `Debug` (which, for `CoreError::Invalid`, names the
//! fields).

use crate::pg::PgServer;
use baluarte_core::crypto::ServerKey;
use baluarte_core::db::Db;
use baluarte_core::service::Settings;
use baluarte_core::{demo, Services};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type TestResult<T = ()> = Result<T, BoxError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a new store starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// The migrated schema, no rows.
    Migrated,
    /// The demo dataset (`demo::MX_DATASET`, loaded at the test clock's start): the national registry
    /// with an account for every role.
    Demo,
}

/// Load the demo dataset into the empty store `db`, as the demo command does (without its incidents).
pub(crate) async fn load_demo(db: &Db) -> TestResult {
    let svc = Services::new(db.clone(), ServerKey::generate(), Settings::default());
    demo::load(&svc, &demo::parse_dataset(demo::MX_DATASET)?, &|_, _| {}).await?;
    Ok(())
}

/// A directory under the system's temp dir, removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TestResult<Self> {
        let path = std::env::temp_dir().join(format!("baluarte-{label}-{}", random_hex(8)));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// One test's store: the services over a fresh database, its data directory (holding the server key),
/// and, on PostgreSQL, the server to make more databases on. Derefs to [`Services`]. When the store and
/// what [`TestStore::keep_alive`] returned are dropped, its directory is removed and its databases are
/// dropped.
#[derive(Debug)]
pub struct TestStore {
    pub svc: Services,
    pub backend: Backend,
    pub data_dir: PathBuf,
    pub pg: Option<PgServer>,
    root: Arc<TempDir>,
}

impl std::ops::Deref for TestStore {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.svc
    }
}

impl TestStore {
    /// A new store from `template`. None when the backend is PostgreSQL and the server cannot be
    /// reached: [`crate::require::missing`] has then failed the test under CI, or said it is skipped.
    pub async fn new(backend: Backend, template: Template) -> TestResult<Option<TestStore>> {
        let root = Arc::new(TempDir::new("store")?);
        let data_dir = root.path().join("data");
        std::fs::create_dir_all(&data_dir)?;
        let (url, pg) = match backend {
            Backend::Sqlite => {
                crate::sqlite::copy_into(template, &data_dir).await?;
                (Db::sqlite_url(&data_dir), None)
            }
            Backend::Postgres => {
                let Some(server) = PgServer::connect().await else {
                    return Ok(None);
                };
                (server.database_from(template).await?, Some(server))
            }
        };
        let svc = open_services(&url, &data_dir)
            .await
            .map_err(|e| format!("cannot open the {backend:?} store at {url}: {e:?}"))?;
        Ok(Some(TestStore {
            svc,
            backend,
            data_dir,
            pg,
            root,
        }))
    }

    /// A scratch directory that lives as long as the test.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.data_dir.with_file_name(format!(
            "{}-{name}",
            self.data_dir.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        ))
    }

    /// What keeps the store's directory and databases; they go when this and the store are dropped.
    pub fn keep_alive(&self) -> impl Send + Sync + 'static {
        (Arc::clone(&self.root), self.pg.clone())
    }
}

/// Open the services over an existing store: the database at `url`, and the key and the audit
/// checkpoint file in `data_dir`, as the server keeps them.
pub async fn open_services(url: &str, data_dir: &Path) -> TestResult<Services> {
    let db = Db::connect(url).await?.with_clock(crate::clock::clock());
    let key = ServerKey::load_or_create(data_dir)?;
    let settings = Settings {
        checkpoint_file: Some(data_dir.join(baluarte_core::audit::CHECKPOINT_FILE)),
        ..Settings::default()
    };
    Ok(Services::new(db, key, settings))
}

/// What a test function returns: nothing, or a result whose error fails the test.
pub trait Outcome {
    fn check(self, backend: Backend);
}

impl Outcome for () {
    fn check(self, _: Backend) {}
}

impl<E: std::fmt::Debug> Outcome for Result<(), E> {
    fn check(self, backend: Backend) {
        if let Err(e) = self {
            panic!("{backend:?}: {e:?}");
        }
    }
}

/// [`ConformanceTest`] for functions of a [`TestStore`].
#[doc(hidden)]
#[derive(Debug)]
pub struct TakesStore;
/// [`ConformanceTest`] for functions of a [`Backend`].
#[doc(hidden)]
#[derive(Debug)]
pub struct TakesBackend;

/// A test [`crate::conformance!`] can run on each backend: an `async fn` that takes
/// - a [`TestStore`] (fresh, migrated, no rows), or
/// - the [`Backend`], to make its own stores (the web tests start a server over a demo store),
///
/// and returns `()` or a [`TestResult`].
pub trait ConformanceTest<Marker> {
    fn run_on(self, backend: Backend) -> Pin<Box<dyn Future<Output = ()>>>;
}

impl<F, Fut> ConformanceTest<TakesStore> for F
where
    F: FnOnce(TestStore) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Outcome + Send,
{
    fn run_on(self, backend: Backend) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(async move {
            let store = match TestStore::new(backend, Template::Migrated).await {
                Ok(Some(store)) => store,
                Ok(None) => return,
                Err(e) => panic!("{backend:?}: cannot make the test store: {e}"),
            };
            let db = store.svc.db().clone();
            let keep = store.keep_alive();
            // On a task of its own, so that after a panic the store is still closed and removed here.
            let outcome = tokio::spawn(self(store)).await;
            db.close().await;
            drop(keep);
            match outcome {
                Ok(result) => result.check(backend),
                Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                Err(join) => panic!("{backend:?}: {join}"),
            }
        })
    }
}

impl<F, Fut> ConformanceTest<TakesBackend> for F
where
    F: FnOnce(Backend) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: Outcome,
{
    fn run_on(self, backend: Backend) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(async move {
            if backend == Backend::Postgres && PgServer::connect().await.is_none() {
                return;
            }
            self(backend).await.check(backend);
        })
    }
}

/// Run one test on one backend (what [`crate::conformance!`] makes each `#[tokio::test]` do).
pub async fn run<M>(backend: Backend, test: impl ConformanceTest<M>) {
    test.run_on(backend).await;
}

/// How many rows `table` holds: for tests that check nothing was half-written (the web crate's tests
/// have no SQL of their own).
pub async fn count_rows(db: &Db, table: &str) -> TestResult<i64> {
    use sqlx::Row;
    Ok(sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(db.pool())
        .await?
        .try_get("n")?)
}
