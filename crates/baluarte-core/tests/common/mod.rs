//! The harness of the storage conformance suite: every test runs once on SQLite and once on PostgreSQL,
//! each time against a store of its own.
//!
//! - SQLite: a fresh temporary data directory.
//! - PostgreSQL: a fresh database on the server at `BALUARTE_TEST_PG_URL` (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`), created as `baluarte_t_<random hex>` and dropped
//!   afterwards. When the server cannot be reached the test fails if `CI` is set, and is skipped (with a
//!   message) otherwise.
//!
//! Tests return [`TestResult`], so `?` works everywhere and a failure shows the error's `Debug` (which,
//! for `CoreError::Invalid`, names the fields).

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use baluarte_core::crypto::ServerKey;
use baluarte_core::db::Db;
use baluarte_core::model::{EntityKind, Role, Tlp, User};
use baluarte_core::policy::{Actor, Principal};
use baluarte_core::service::{ContactInput, EntityInput, SectorInput, Settings, UserInput};
use baluarte_core::{CoreError, Services};
use sqlx::Connection;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type TestResult<T = ()> = Result<T, BoxError>;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The password of every fixture account.
pub const PASSWORD: &str = "correct horse battery staple";

/// Generate, for each listed `async fn name(store: TestStore) -> TestResult`, the tests
/// `sqlite_name` and `postgres_name`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        $(
            paste::paste! {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn [<sqlite_ $name>]() {
                    common::run(common::Backend::Sqlite, $name).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn [<postgres_ $name>]() {
                    common::run(common::Backend::Postgres, $name).await;
                }
            }
        )+
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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

/// The PostgreSQL server the suite creates its databases on, and the databases it created.
#[derive(Debug, Clone)]
pub struct PgServer {
    admin_url: String,
    created: Arc<Mutex<Vec<String>>>,
}

impl PgServer {
    fn admin_url() -> String {
        std::env::var("BALUARTE_TEST_PG_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_PG_URL.to_string())
    }

    async fn admin(&self) -> TestResult<sqlx::PgConnection> {
        let conn = tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(&self.admin_url)).await;
        match conn {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(format!("PostgreSQL not reachable at {}: {e}", self.admin_url).into()),
            Err(_) => Err(format!("PostgreSQL not reachable at {}: connection timed out", self.admin_url).into()),
        }
    }

    /// A new, empty database; returns its URL. It is dropped when the test ends.
    pub async fn fresh_database(&self) -> TestResult<String> {
        let name = format!("baluarte_t_{}", random_hex(8));
        let mut admin = self.admin().await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        self.created.lock().map_err(|e| e.to_string())?.push(name.clone());
        let _ = admin.close().await;
        let mut url = url::Url::parse(&self.admin_url)?;
        url.set_path(&format!("/{name}"));
        Ok(url.to_string())
    }

    async fn drop_all(&self) {
        let names: Vec<String> = self
            .created
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        if names.is_empty() {
            return;
        }
        let Ok(mut admin) = self.admin().await else {
            return;
        };
        for name in names {
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
            {
                eprintln!("could not drop test database {name}: {e}");
            }
        }
        let _ = admin.close().await;
    }
}

/// One test's store: the services over a fresh database, its data directory (holding the server key),
/// and, on PostgreSQL, the server to make more databases on. Derefs to [`Services`].
#[derive(Debug)]
pub struct TestStore {
    pub svc: Services,
    pub backend: Backend,
    pub data_dir: PathBuf,
    pub pg: Option<PgServer>,
}

impl std::ops::Deref for TestStore {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.svc
    }
}

impl TestStore {
    /// A scratch directory that lives as long as the test.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.data_dir.with_file_name(format!(
            "{}-{name}",
            self.data_dir.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        ))
    }
}

/// Open the services over an existing store: the database at `url` and the key in `data_dir`.
pub async fn open_services(url: &str, data_dir: &Path) -> TestResult<Services> {
    let db = Db::connect(url)
        .await?
        .with_clock(baluarte_test_support::clock::clock());
    let key = ServerKey::load_or_create(data_dir)?;
    Ok(Services::new(db, key, Settings::default()))
}

/// Run one conformance test on one backend, then clean up (also when the test panics).
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestStore) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    let root = match TempDir::new("conformance") {
        Ok(d) => d,
        Err(e) => panic!("cannot make a temporary directory: {e}"),
    };
    let data_dir = root.path().join("data");
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        panic!("{}: {e}", data_dir.display());
    }
    let (url, pg) = match backend {
        Backend::Sqlite => (Db::sqlite_url(&data_dir), None),
        Backend::Postgres => {
            let server = PgServer {
                admin_url: PgServer::admin_url(),
                created: Arc::default(),
            };
            match server.fresh_database().await {
                Ok(url) => (url, Some(server)),
                Err(e) => {
                    server.drop_all().await;
                    if std::env::var_os("CI").is_some() {
                        panic!("{e} (CI is set, so the PostgreSQL half of the conformance suite must run; set BALUARTE_TEST_PG_URL)");
                    }
                    eprintln!("{e}; skipping");
                    return;
                }
            }
        }
    };
    let svc = match open_services(&url, &data_dir).await {
        Ok(s) => s,
        Err(e) => {
            if let Some(pg) = &pg {
                pg.drop_all().await;
            }
            panic!("cannot open the {backend:?} store at {url}: {e:?}");
        }
    };
    let db = svc.db().clone();
    let store = TestStore {
        svc,
        backend,
        data_dir,
        pg: pg.clone(),
    };
    let outcome = tokio::spawn(test(store)).await;
    db.close().await;
    if let Some(pg) = &pg {
        pg.drop_all().await;
    }
    drop(root);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{backend:?}: {e:?}"),
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => panic!("{backend:?}: {join}"),
    }
}

// ----- assertions on errors -----

/// The names of the invalid fields, or a panic naming what came instead.
#[track_caller]
pub fn invalid_fields<T: std::fmt::Debug>(r: Result<T, CoreError>) -> Vec<String> {
    match r {
        Err(CoreError::Invalid(fields)) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("expected CoreError::Invalid, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_invalid_field<T: std::fmt::Debug>(r: Result<T, CoreError>, field: &str) {
    let fields = invalid_fields(r);
    assert!(
        fields.iter().any(|f| f == field),
        "expected an error on field {field:?}, got errors on {fields:?}"
    );
}

#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(r: Result<T, CoreError>) {
    assert!(
        matches!(r, Err(CoreError::NotFound)),
        "expected CoreError::NotFound, got {r:?}"
    );
}

#[track_caller]
pub fn assert_forbidden<T: std::fmt::Debug>(r: Result<T, CoreError>) {
    assert!(
        matches!(r, Err(CoreError::Forbidden(_))),
        "expected CoreError::Forbidden, got {r:?}"
    );
}

#[track_caller]
pub fn assert_unauthenticated<T: std::fmt::Debug>(r: Result<T, CoreError>) {
    assert!(
        matches!(r, Err(CoreError::Unauthenticated)),
        "expected CoreError::Unauthenticated, got {r:?}"
    );
}

// ----- a small registry to test against -----

/// The actor of a user, as a session would build it.
pub fn actor_of(user: &User, national: bool) -> Actor {
    Actor {
        principal: Principal::User {
            user_id: user.id.clone(),
        },
        label: user.email.clone(),
        entity_id: user.entity_id.clone(),
        role: Some(user.role),
        national,
        purposes: vec![],
    }
}

pub fn entity_input(name: &str, sector: Option<&str>) -> EntityInput {
    EntityInput {
        name: name.into(),
        acronym: None,
        kind: EntityKind::Federal,
        parent_id: None,
        sector_id: sector.map(Into::into),
        state_code: None,
        time_zone: "America/Mexico_City".into(),
    }
}

pub fn contact_input(name: &str, tlp: Tlp) -> ContactInput {
    ContactInput {
        name: name.into(),
        title: "Responsable de seguridad".into(),
        email: format!("{}@contacto.example", name.to_lowercase().replace(' ', ".")),
        phone: "+52 55 5555 0000".into(),
        is_24_7: true,
        tlp,
    }
}

/// A national authority with its administrator, two sectors (one with a subsector) and two entities,
/// A (electricity) and B (banking). People are added on demand: each costs an Argon2 hash.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub admin_user: User,
    pub admin: Actor,
    pub national_id: String,
    pub a: String,
    pub b: String,
}

impl Fixture {
    pub async fn new(svc: &Services) -> TestResult<Self> {
        let admin_user = svc
            .users()
            .bootstrap_admin(
                "Agencia Nacional de Ciberseguridad",
                "admin@nacional.example",
                "Administración",
                PASSWORD,
            )
            .await?;
        let admin = actor_of(&admin_user, true);
        let national_id = admin_user.entity_id.clone();
        for (id, parent, es, en) in [
            ("energia", None, "Energía", "Energy"),
            ("electricidad", Some("energia"), "Electricidad", "Electricity"),
            ("finanzas", None, "Servicios financieros", "Financial services"),
            ("banca", Some("finanzas"), "Banca", "Banking"),
        ] {
            svc.registry()
                .create_sector(
                    &admin,
                    SectorInput {
                        id: id.into(),
                        parent_id: parent.map(Into::into),
                        name_es: es.into(),
                        name_en: en.into(),
                    },
                )
                .await?;
        }
        let a = svc
            .registry()
            .create_entity(
                &admin,
                entity_input("Comisión Federal de Electricidad", Some("electricidad")),
            )
            .await?
            .id;
        let b = svc
            .registry()
            .create_entity(&admin, entity_input("Banco Ejemplo", Some("banca")))
            .await?
            .id;
        Ok(Fixture {
            admin_user,
            admin,
            national_id,
            a,
            b,
        })
    }

    /// A person created by the administrator, with [`PASSWORD`], and their actor.
    pub async fn person(&self, svc: &Services, entity_id: &str, role: Role, email: &str) -> TestResult<(User, Actor)> {
        let user = svc
            .users()
            .create_user(
                &self.admin,
                UserInput {
                    entity_id: entity_id.into(),
                    email: email.into(),
                    name: format!("Persona {email}"),
                    role,
                    password: Some(PASSWORD.into()),
                },
            )
            .await?
            .user;
        let national = entity_id == self.national_id && (role.is_national_only() || role == Role::Auditor);
        let actor = actor_of(&user, national);
        Ok((user, actor))
    }
}

/// Rows of one table, as strings (every column `CAST` to text by the query), for digests and
/// comparisons across backends.
pub async fn text_rows(db: &Db, sql: &str, columns: usize) -> TestResult<Vec<Vec<Option<String>>>> {
    use sqlx::Row;
    let rows = sqlx::query(sql).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| {
            (0..columns)
                .map(|i| r.try_get::<Option<String>, _>(i).map_err(Into::into))
                .collect()
        })
        .collect()
}

pub async fn count(db: &Db, table: &str) -> TestResult<i64> {
    use sqlx::Row;
    Ok(sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(db.pool())
        .await?
        .try_get("n")?)
}

/// How many tables a PostgreSQL database holds in its public schema (without running migrations on it).
pub async fn pg_table_count(url: &str) -> TestResult<i64> {
    use sqlx::Row;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'")
        .fetch_one(&mut conn)
        .await?
        .try_get("n")?;
    let _ = conn.close().await;
    Ok(n)
}

/// The code an authenticator app shows `steps` time steps (30 s each) from now, for the base32 secret
/// (RFC 6238: SHA-1, 6 digits). Step +1 is within the accepted clock drift, so tests get a fresh code
/// without waiting for the clock.
pub fn totp_code(svc: &Services, secret_b32: &str, steps: i64) -> TestResult<String> {
    Ok(baluarte_core::crypto::totp::code_at(
        secret_b32,
        svc.now() + steps * 30_000_000,
    )?)
}
