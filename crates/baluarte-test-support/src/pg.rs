//! The PostgreSQL server tests make their databases on, and its templates.
//!
//! The server is at `BALUARTE_TEST_PG_URL` (default [`DEFAULT_URL`]). Each test gets a database of its own,
//! `baluarte_t_<random>`, copied with `CREATE DATABASE … TEMPLATE` from a template that is made once for
//! every test process on the machine: `baluarte_tpl_m_<hash>` holds the migrated schema,
//! `baluarte_tpl_d_<hash>` the demo dataset as well (the hash names what the content depends on, see
//! `template.rs`). Several test binaries run at once, so a template is made under a PostgreSQL advisory
//! lock, and it counts as made only once it is flagged `IS_TEMPLATE` (a crash half-way leaves a database
//! that the next maker drops and makes again). The databases a test made are dropped when its
//! [`PgServer`] handle (the last clone) goes away, also when the test panics. A test process killed
//! outright (SIGKILL, a CI timeout) cannot drop its own, so each test database carries the time it was
//! made, and the first database a process makes drops the unused ones older than [`ORPHAN_SECS`].

use crate::store::{Template, TestResult};
use crate::template::{demo_key, migrations_key};
use baluarte_core::db::Db;
use sqlx::{Connection, PgConnection, Row};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long a template is kept after it was made when no test asks for it any more (its hash changed):
/// long enough that a worktree with older code still finds its own.
const STALE_TEMPLATE_SECS: i64 = 24 * 3600;

/// Age after which an unused test database counts as left behind by a killed test process. No test
/// runs this long.
const ORPHAN_SECS: i64 = 6 * 3600;

/// The server's URL: `BALUARTE_TEST_PG_URL`, else [`DEFAULT_URL`].
pub fn admin_url() -> String {
    std::env::var("BALUARTE_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// A connection to the server's administrative database at `url`, or why not.
pub async fn connect_admin(url: &str) -> TestResult<PgConnection> {
    match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(format!("PostgreSQL not reachable at {url}: {e} (set BALUARTE_TEST_PG_URL)").into()),
        Err(_) => {
            Err(format!("PostgreSQL not reachable at {url}: connection timed out (set BALUARTE_TEST_PG_URL)").into())
        }
    }
}

/// The server, and the databases made through this handle (and its clones), dropped with the last one.
#[derive(Debug, Clone)]
pub struct PgServer {
    admin_url: String,
    created: Arc<Created>,
}

impl PgServer {
    /// The server when it answers; otherwise [`crate::require::missing`] decides (a failure under CI,
    /// a skip elsewhere) and this is None.
    pub async fn connect() -> Option<PgServer> {
        let admin_url = admin_url();
        match connect_admin(&admin_url).await {
            Ok(conn) => {
                let _ = conn.close().await;
                Some(PgServer {
                    created: Arc::new(Created {
                        admin_url: admin_url.clone(),
                        names: Mutex::default(),
                    }),
                    admin_url,
                })
            }
            Err(e) => {
                crate::require::missing(e);
                None
            }
        }
    }

    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The URL of database `name` on this server.
    pub fn url_of(&self, name: &str) -> TestResult<String> {
        let mut url = url::Url::parse(&self.admin_url)?;
        url.set_path(&format!("/{name}"));
        Ok(url.to_string())
    }

    /// A new, empty database (no schema: for restores and migration tests); returns its URL.
    pub async fn fresh_database(&self) -> TestResult<String> {
        let name = self.new_name()?;
        let mut admin = connect_admin(&self.admin_url).await?;
        let made = sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await;
        let made = match made {
            Ok(_) => note_made(&mut admin, &name).await,
            Err(e) => Err(e.into()),
        };
        let _ = admin.close().await;
        made?;
        self.url_of(&name)
    }

    /// A new database copied from `template` (made first when no test process has made it yet).
    pub async fn database_from(&self, template: Template) -> TestResult<String> {
        let source = self.template(template).await?;
        let name = self.new_name()?;
        let mut admin = connect_admin(&self.admin_url).await?;
        let made = create_from_template(&mut admin, &name, &source).await;
        let made = match made {
            Ok(()) => note_made(&mut admin, &name).await,
            Err(e) => Err(e),
        };
        let _ = admin.close().await;
        made?;
        self.url_of(&name)
    }

    /// A fresh name, noted for dropping before the database exists (so a half-made one goes too).
    fn new_name(&self) -> TestResult<String> {
        let name = format!("baluarte_t_{}", crate::store::random_hex(8));
        self.created.names.lock().map_err(|e| e.to_string())?.push(name.clone());
        Ok(name)
    }

    /// The name of `template` on this server, making it when needed.
    pub async fn template(&self, template: Template) -> TestResult<String> {
        match template {
            Template::Migrated => {
                let name = format!("baluarte_tpl_m_{}", migrations_key());
                self.ensure(&name, None).await?;
                Ok(name)
            }
            Template::Demo => {
                let parent = Box::pin(self.template(Template::Migrated)).await?;
                let name = format!("baluarte_tpl_d_{}", demo_key());
                self.ensure(&name, Some(&parent)).await?;
                Ok(name)
            }
        }
    }

    /// Make template `name` unless a finished one exists: empty and migrated, or (with `parent`) a copy
    /// of `parent` with the demo dataset loaded.
    async fn ensure(&self, name: &str, parent: Option<&str>) -> TestResult {
        let mut admin = connect_admin(&self.admin_url).await?;
        if is_template(&mut admin, name).await? {
            let _ = admin.close().await;
            return Ok(());
        }
        // One maker per template name across every process using this server.
        sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
            .bind(name)
            .execute(&mut admin)
            .await?;
        let made = self.make_locked(&mut admin, name, parent).await;
        let _ = sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
            .bind(name)
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
        made
    }

    async fn make_locked(&self, admin: &mut PgConnection, name: &str, parent: Option<&str>) -> TestResult {
        if is_template(admin, name).await? {
            return Ok(()); // another process made it while this one waited for the lock
        }
        // Left by a maker that died half-way: not flagged as a template, so nobody copies it.
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut *admin)
            .await?;
        match parent {
            None => sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut *admin)
                .await
                .map(drop)?,
            Some(parent) => create_from_template(admin, name, parent).await?,
        }
        let url = self.url_of(name)?;
        fill(&url, parent.is_some()).await?;
        let made_at: i64 = sqlx::query("SELECT CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) AS t")
            .fetch_one(&mut *admin)
            .await?
            .try_get("t")?;
        for statement in [
            format!("COMMENT ON DATABASE {name} IS 'baluarte test template, made_at={made_at}'"),
            format!("ALTER DATABASE {name} WITH IS_TEMPLATE true"),
        ] {
            sqlx::query(&statement).execute(&mut *admin).await?;
        }
        prune_stale_templates(admin, made_at).await;
        Ok(())
    }
}

/// Migrate the database at `url` (through the core's own migrator), and load the demo dataset when
/// `demo`; then close every connection, since a template with a session on it cannot be copied.
async fn fill(url: &str, demo: bool) -> TestResult {
    let db = Db::connect(url).await?.with_clock(crate::clock::clock());
    let loaded = if demo {
        crate::store::load_demo(&db).await
    } else {
        Ok(())
    };
    db.close().await;
    loaded
}

async fn is_template(admin: &mut PgConnection, name: &str) -> TestResult<bool> {
    let row = sqlx::query("SELECT datistemplate FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(admin)
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<bool, _>("datistemplate")?,
        None => false,
    })
}

/// `CREATE DATABASE name TEMPLATE source`. PostgreSQL refuses while any other session is connected to
/// the source (SQLSTATE 55006 "source database is being accessed by other users"): that happens for a
/// moment after the template's maker closed its pool, while the server ends those sessions. That one
/// error is retried, briefly; any other fails at once.
async fn create_from_template(admin: &mut PgConnection, name: &str, source: &str) -> TestResult {
    let statement = format!("CREATE DATABASE {name} TEMPLATE {source}");
    let mut attempts = 0;
    loop {
        match sqlx::query(&statement).execute(&mut *admin).await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55006") && attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(format!("{statement}: {e}").into()),
        }
    }
}

/// Write on a new test database when it was made (the server's clock), and, the first time this process
/// makes one, drop the orphans: test databases no one is connected to, made more than [`ORPHAN_SECS`]
/// ago. A database without the note (being made by another process this instant) is never taken.
async fn note_made(admin: &mut PgConnection, name: &str) -> TestResult {
    sqlx::query(&format!(
        "DO $$ BEGIN EXECUTE format('COMMENT ON DATABASE %I IS %L', '{name}', \
         'baluarte test database, made_at=' || floor(extract(epoch FROM now()))::bigint); END $$"
    ))
    .execute(&mut *admin)
    .await?;
    static PRUNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !PRUNED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        prune_orphans(admin).await;
    }
    Ok(())
}

async fn prune_orphans(admin: &mut PgConnection) {
    let orphans: Vec<String> = match sqlx::query(
        "SELECT datname FROM pg_database d \
         WHERE datname LIKE 'baluarte\\_t\\_%' AND NOT datistemplate \
           AND CAST(substring(shobj_description(oid, 'pg_database') FROM 'made_at=([0-9]+)') AS BIGINT) \
               < floor(extract(epoch FROM now()))::bigint - $1 \
           AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
    )
    .bind(ORPHAN_SECS)
    .fetch_all(&mut *admin)
    .await
    {
        Ok(rows) => rows.iter().filter_map(|r| r.try_get("datname").ok()).collect(),
        Err(e) => {
            eprintln!("could not look for orphaned test databases: {e}");
            return;
        }
    };
    for name in orphans {
        // Not FORCE: a database someone connected to meanwhile stays.
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut *admin)
            .await;
    }
}

/// Drop templates that no test of this code asks for (their hash is not today's) and that were made
/// more than a day ago, so the server does not fill up with one demo copy per change to the core. A
/// template in use at that moment is left alone.
async fn prune_stale_templates(admin: &mut PgConnection, now: i64) {
    let current = [
        format!("baluarte_tpl_m_{}", migrations_key()),
        format!("baluarte_tpl_d_{}", demo_key()),
    ];
    let stale: Vec<String> = match sqlx::query(
        "SELECT datname FROM pg_database \
         WHERE datname LIKE 'baluarte\\_tpl\\_%' AND datistemplate \
           AND COALESCE(CAST(substring(shobj_description(oid, 'pg_database') FROM 'made_at=([0-9]+)') AS BIGINT), 0) < $1",
    )
    .bind(now - STALE_TEMPLATE_SECS)
    .fetch_all(&mut *admin)
    .await
    {
        Ok(rows) => rows.iter().filter_map(|r| r.try_get("datname").ok()).collect(),
        Err(_) => return,
    };
    for name in stale.into_iter().filter(|n| !current.contains(n)) {
        let _ = sqlx::query(&format!("ALTER DATABASE {name} WITH IS_TEMPLATE false"))
            .execute(&mut *admin)
            .await;
        if sqlx::query(&format!("DROP DATABASE {name}"))
            .execute(&mut *admin)
            .await
            .is_err()
        {
            // In use: flag it a template again; the next maker tries later.
            let _ = sqlx::query(&format!("ALTER DATABASE {name} WITH IS_TEMPLATE true"))
                .execute(&mut *admin)
                .await;
        }
    }
}

/// The databases made through one [`PgServer`] and its clones, dropped when the last clone goes.
#[derive(Debug)]
struct Created {
    admin_url: String,
    names: Mutex<Vec<String>>,
}

impl Drop for Created {
    fn drop(&mut self) {
        let names = self
            .names
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        if names.is_empty() {
            return;
        }
        let url = self.admin_url.clone();
        // Drop runs inside a test's runtime (or while a panic unwinds through it); the clean-up gets a
        // runtime of its own on another thread.
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                let Ok(mut admin) = connect_admin(&url).await else {
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
            });
        });
        let _ = cleanup.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(admin: &mut PgConnection, name: &str) -> bool {
        sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut *admin)
            .await
            .ok()
            .flatten()
            .is_some()
    }

    /// A test process killed outright leaves its databases behind; the next process drops them, but
    /// not one that is recent, in use, or not yet noted by the process making it.
    #[tokio::test]
    async fn orphans_of_a_killed_process_are_dropped_and_nothing_else() -> TestResult {
        let Some(server) = PgServer::connect().await else {
            return Ok(());
        };
        let mut admin = connect_admin(&server.admin_url).await?;
        let tag = crate::store::random_hex(6);
        let (old, recent, unnoted, in_use) = (
            format!("baluarte_t_old{tag}"),
            format!("baluarte_t_new{tag}"),
            format!("baluarte_t_unn{tag}"),
            format!("baluarte_t_use{tag}"),
        );
        for name in [&old, &recent, &unnoted, &in_use] {
            // Noted for the handle's own clean-up, whatever this test finds.
            server
                .created
                .names
                .lock()
                .map_err(|e| e.to_string())?
                .push(name.clone());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await?;
        }
        note_made(&mut admin, &recent).await?;
        for name in [&old, &in_use] {
            sqlx::query(&format!(
                "COMMENT ON DATABASE {name} IS 'baluarte test database, made_at=1'"
            ))
            .execute(&mut admin)
            .await?;
        }
        let holder = PgConnection::connect(&server.url_of(&in_use)?).await?;
        prune_orphans(&mut admin).await;
        assert!(
            !exists(&mut admin, &old).await,
            "an old, unused test database is dropped"
        );
        assert!(exists(&mut admin, &recent).await, "a recent one stays");
        assert!(exists(&mut admin, &unnoted).await, "one without its note stays");
        assert!(exists(&mut admin, &in_use).await, "one in use stays");
        let _ = holder.close().await;
        let _ = admin.close().await;
        Ok(())
    }
}
