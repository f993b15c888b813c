//! The core's test fixtures. The harness itself (a fresh store per test on SQLite and PostgreSQL,
//! `conformance!`, the CI rule) is `baluarte-test-support`'s, shared with the web tests; this module
//! re-exports it and adds the core's own assertions and registry fixtures.

#![allow(dead_code, unused_imports)] // Each test binary uses a different part of the harness.

pub use baluarte_test_support::conformance;
pub use baluarte_test_support::pg::PgServer;
pub use baluarte_test_support::store::{open_services, random_hex};
pub use baluarte_test_support::{run, Backend, BoxError, TempDir, TestResult, TestStore};

use baluarte_core::db::Db;
use baluarte_core::model::{EntityKind, Role, Tlp, User};
use baluarte_core::policy::{Actor, Principal};
use baluarte_core::service::{ContactInput, EntityInput, SectorInput, UserInput};
use baluarte_core::{CoreError, Services};
use sqlx::Connection;

/// The password of every fixture account.
pub const PASSWORD: &str = "correct horse battery staple";

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
    baluarte_test_support::actors::user(user, national)
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
/// How many rows a table holds.
pub use baluarte_test_support::store::count_rows as count;

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
