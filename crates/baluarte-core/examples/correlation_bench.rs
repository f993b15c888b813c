//! Correlation lookup time with a million stored observables.
//!
//! ```text
//! cargo run --release -p baluarte-core --example correlation_bench -- [ROWS] [postgres://…]
//! ```
//! Loads ROWS observables (default 1,000,000: addresses, domains, URLs, hashes and 1,000 networks) into a
//! fresh store — SQLite in a temporary directory, or a new database on the given PostgreSQL server — then
//! times `lookup_observable` (the service call behind the analyst's search and the case file's hints)
//! for hits, misses, an address inside a stored network and a network holding stored addresses.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use baluarte_core::crypto::ServerKey;
use baluarte_core::db::Db;
use baluarte_core::model::Role;
use baluarte_core::policy::Actor;
use baluarte_core::service::Settings;
use baluarte_core::Services;
use baluarte_observables::{normalise, Kind, Observable};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

fn value(rng: &mut StdRng, i: usize) -> Observable {
    let pick = rng.gen_range(0..100);
    let (kind, raw) = if i.is_multiple_of(1000) {
        (
            Kind::Cidr,
            format!("10.{}.{}.0/24", (i / 1000) % 256, (i / 256_000) % 256),
        )
    } else if pick < 60 {
        (
            Kind::Ipv4,
            format!(
                "{}.{}.{}.{}",
                rng.gen_range(1..224),
                rng.gen::<u8>(),
                rng.gen::<u8>(),
                rng.gen_range(1..255)
            ),
        )
    } else if pick < 85 {
        (Kind::Domain, format!("host{i}.example"))
    } else if pick < 95 {
        (
            Kind::Sha256,
            (0..32).map(|_| format!("{:02x}", rng.gen::<u8>())).collect(),
        )
    } else {
        (Kind::Url, format!("https://site{i}.example/path/{}", rng.gen::<u32>()))
    };
    normalise(kind, &raw).expect("generated values are valid")
}

async fn load(svc: &Services, rows: usize) -> String {
    let admin = svc
        .users()
        .bootstrap_admin(
            "Autoridad",
            "admin@bench.example",
            "Admin",
            "correct horse battery staple",
        )
        .await
        .unwrap();
    let entity = admin.entity_id.clone();
    let mut tx = svc.db().begin_write().await.unwrap();
    sqlx::query("INSERT INTO stix_imports (id, bundle_id, source, imported_by, imported_at, entity_id, tlp, objects, summary) VALUES ('bench', 'bundle--bench', 'bench', 'bench', 0, $1, 'GREEN', 0, '{}')")
        .bind(&entity)
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let batch = 400;
    let mut i = 0;
    while i < rows {
        let n = batch.min(rows - i);
        let mut sql = String::from("INSERT INTO observables (id, import_id, entity_id, kind, value, corr_key, related_key, ip_lo, ip_hi, tlp, created_at) VALUES ");
        let mut vals: Vec<Observable> = Vec::with_capacity(n);
        for k in 0..n {
            let b = k * 9;
            if k > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, 'bench', ${}, ${}, ${}, ${}, ${}, ${}, ${}, 'GREEN', ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
            vals.push(value(&mut rng, i + k));
        }
        let mut q = sqlx::query(&sql);
        for (k, o) in vals.iter().enumerate() {
            let (lo, hi) = o.ip_range().unzip();
            q = q
                .bind(format!("b{}", i + k))
                .bind(&entity)
                .bind(o.kind.as_str())
                .bind(&o.value)
                .bind(o.key())
                .bind(o.related_keys().into_iter().next())
                .bind(lo)
                .bind(hi)
                .bind(0i64);
        }
        let mut tx = svc.db().begin_write().await.unwrap();
        q.execute(tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
        i += n;
        if i.is_multiple_of(100_000) {
            eprintln!(
                "  {i} rows loaded ({:.0} rows/s)",
                i as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    println!("loaded {rows} observables in {:.1} s", started.elapsed().as_secs_f64());
    entity
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

async fn time_lookups(svc: &Services, actor: &Actor, label: &str, values: &[String]) {
    let mut times = Vec::with_capacity(values.len());
    let mut found = 0i64;
    for v in values {
        let t = Instant::now();
        let r = svc.incidents().lookup_observable(actor, v).await.unwrap();
        times.push(t.elapsed());
        found += r.reports;
    }
    times.sort();
    println!(
        "{label:<34} n={:<5} p50 {:>7.3} ms  p95 {:>7.3} ms  p99 {:>7.3} ms  (matches {found})",
        values.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99)
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let pg = args.next();
    let dir = std::env::temp_dir().join(format!("baluarte-corr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = match &pg {
        Some(admin_url) => {
            use sqlx::Connection;
            let name = format!("baluarte_bench_{}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let mut u = url::Url::parse(admin_url).unwrap();
            u.set_path(&format!("/{name}"));
            u.to_string()
        }
        None => Db::sqlite_url(&dir),
    };
    let svc = Services::new(
        Db::connect(&url).await.unwrap(),
        ServerKey::load_or_create(&dir).unwrap(),
        Settings::default(),
    );
    println!("backend: {}", if pg.is_some() { "PostgreSQL" } else { "SQLite" });
    let entity = load(&svc, rows).await;
    if pg.is_some() {
        sqlx::query("ANALYZE observables")
            .execute(svc.db().pool())
            .await
            .unwrap();
    }
    let actor = baluarte_test_support::actors::at_entity(Role::CsirtAnalyst, &entity);
    let mut rng = StdRng::seed_from_u64(99);
    let hits: Vec<String> = (0..1000)
        .map(|_| format!("HOST{}.Example.", rng.gen_range(0..rows)))
        .collect();
    let misses: Vec<String> = (0..1000).map(|i| format!("absent{i}.example")).collect();
    let in_net: Vec<String> = (0..500)
        .map(|i| format!("10.{}.0.{}", (i % 250) + 1, rng.gen_range(1..255)))
        .collect();
    let nets: Vec<String> = (0..200).map(|i| format!("{}.0.0.0/16", (i % 200) + 1)).collect();
    time_lookups(&svc, &actor, "domain (any spelling; ~25% exist)", &hits).await;
    time_lookups(&svc, &actor, "domain, absent", &misses).await;
    time_lookups(&svc, &actor, "address inside a stored /24", &in_net).await;
    time_lookups(&svc, &actor, "/16 holding stored addresses", &nets).await;
    svc.db().close().await;
    if let Some(admin_url) = pg {
        use sqlx::Connection;
        let name = format!("baluarte_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
