//! 6. Backup and restore.

use super::*;

conformance!(backup_restore_round_trip, backup_refuses_bad_targets_and_tampered_files,);

/// What must survive a backup: row counts and digests of every table that matters.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    counts: Vec<(&'static str, i64)>,
    digests: Vec<(&'static str, String)>,
    head: Vec<Vec<Option<String>>>,
}

async fn snapshot(db: &baluarte_core::db::Db) -> TestResult<Snapshot> {
    let mut counts = Vec::new();
    for table in [
        "sectors",
        "entities",
        "contacts",
        "users",
        "api_tokens",
        "audit_log",
        "audit_checkpoints",
    ] {
        counts.push((table, count(db, table).await?));
    }
    let queries: [(&str, &str, usize); 5] = [
        (
            "entities",
            "SELECT id, name, acronym, kind, parent_id, sector_id, state_code, time_zone, CAST(national_authority AS TEXT), \
             CAST(active AS TEXT), CAST(created_at AS TEXT), CAST(updated_at AS TEXT) FROM entities ORDER BY id",
            12,
        ),
        ("contacts", "SELECT id, entity_id, name, title, email, phone, CAST(is_24_7 AS TEXT), tlp, CAST(active AS TEXT) FROM contacts ORDER BY id", 9),
        ("users", "SELECT id, entity_id, email, name, role, password_hash, CAST(active AS TEXT) FROM users ORDER BY id", 7),
        ("sectors", "SELECT id, parent_id, name_es, name_en FROM sectors ORDER BY id", 4),
        ("audit_log", "SELECT CAST(seq AS TEXT), hash FROM audit_log ORDER BY seq", 2),
    ];
    let mut digests = Vec::new();
    for (name, sql, n) in queries {
        let rows = text_rows(db, sql, n).await?;
        digests.push((name, hex::encode(Sha256::digest(serde_json::to_vec(&rows)?))));
    }
    let head = text_rows(db, "SELECT CAST(seq AS TEXT), hash FROM audit_head", 2).await?;
    Ok(Snapshot { counts, digests, head })
}

async fn load_demo(svc: &Services) -> TestResult<demo::DemoSummary> {
    Ok(demo::load(svc, &parse_dataset(MX_DATASET)?, &|_, _| {}).await?)
}

async fn backup_restore_round_trip(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let summary = load_demo(svc).await?;
    assert!(summary.entities >= 250 && summary.users > 0 && summary.contacts > 0);
    // Something after the demo's checkpoint, so the backup holds an unsigned tail too.
    let admin_email = summary
        .accounts
        .iter()
        .find(|a| a.role == Role::Admin)
        .ok_or("no admin account")?
        .email
        .clone();
    svc.accounts().login(&admin_email, DEMO_PASSWORD, IP).await?;
    let before = snapshot(svc.db()).await?;
    assert!(before
        .counts
        .iter()
        .any(|(t, n)| *t == "entities" && *n as usize == summary.entities));

    let out = store.scratch("backup");
    let manifest = backup::backup(svc.db(), &store.data_dir, &out).await?;
    let want_backend = if store.backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(manifest.backend, want_backend);
    assert!(manifest.files.iter().any(|(f, _)| f == KEY_FILE));

    let target = store.scratch("restored");
    let url = match &store.pg {
        None => {
            backup::restore(&out, &target, None).await?;
            baluarte_core::db::Db::sqlite_url(&target)
        }
        Some(pg) => {
            let url = pg.fresh_database().await?;
            backup::restore(&out, &target, Some(&url)).await?;
            url
        }
    };
    let restored = open_services(&url, &target).await?;
    assert_eq!(
        restored.server_key().public_hex(),
        svc.server_key().public_hex(),
        "the key comes back"
    );
    assert_eq!(snapshot(restored.db()).await?, before);
    let report = audit::verify_chain(restored.db(), &ServerKey::load_or_create(&target)?.public_hex()).await?;
    assert_eq!(report.broken, None);
    assert_eq!(
        Some(&("audit_log", report.entries)),
        before.counts.iter().find(|(t, _)| *t == "audit_log")
    );
    // The restored store works: its people log in and its chain grows and verifies.
    let login = restored.accounts().login(&admin_email, DEMO_PASSWORD, IP).await?;
    assert_eq!(
        restored.accounts().session(&login.secret).await?.user.email,
        admin_email
    );
    assert_eq!(
        restored
            .audit()
            .verify_audit(&baluarte_test_support::actors::system())
            .await?
            .broken,
        None
    );
    // The original is untouched by all this.
    assert_eq!(
        audit::verify_chain(svc.db(), &svc.server_key().public_hex())
            .await?
            .broken,
        None
    );
    restored.db().close().await;
    Ok(())
}

async fn backup_refuses_bad_targets_and_tampered_files(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    svc.registry()
        .create_contact(&fx.admin, &fx.a, contact_input("Guardia Nocturna", Tlp::Amber))
        .await?;
    let out = store.scratch("backup");
    backup::backup(svc.db(), &store.data_dir, &out).await?;
    // Backing up into a directory that holds something is refused.
    assert_invalid_field(backup::backup(svc.db(), &store.data_dir, &out).await, "out");
    let restore_url = match &store.pg {
        None => None,
        Some(pg) => Some(pg.fresh_database().await?),
    };

    // Restoring into a non-empty directory is refused, and leaves it as it was.
    let occupied = store.scratch("occupied");
    std::fs::create_dir_all(&occupied)?;
    std::fs::write(occupied.join("notes.txt"), "keep me")?;
    assert_invalid_field(
        backup::restore(&out, &occupied, restore_url.as_deref()).await,
        "data_dir",
    );
    assert_eq!(std::fs::read_dir(&occupied)?.count(), 1);
    assert_eq!(std::fs::read_to_string(occupied.join("notes.txt"))?, "keep me");

    // A backup whose files were modified is refused before anything is written.
    for (i, name) in [
        if store.backend == Backend::Sqlite {
            "baluarte.db"
        } else {
            "baluarte.pgdump"
        },
        KEY_FILE,
    ]
    .into_iter()
    .enumerate()
    {
        let tampered = store.scratch(&format!("tampered-{i}"));
        std::fs::create_dir_all(&tampered)?;
        for f in std::fs::read_dir(&out)? {
            let f = f?;
            std::fs::copy(f.path(), tampered.join(f.file_name()))?;
        }
        let mut bytes = std::fs::read(tampered.join(name))?;
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        std::fs::write(tampered.join(name), bytes)?;
        let target = store.scratch(&format!("from-tampered-{i}"));
        assert_invalid_field(
            backup::restore(&tampered, &target, restore_url.as_deref()).await,
            "backup",
        );
        assert!(!target.exists(), "nothing restored from a tampered backup");
    }
    if let Some(url) = &restore_url {
        assert_eq!(pg_table_count(url).await?, 0, "the target database was not written");
    }

    // A PostgreSQL backup does not restore over a database that already holds a store.
    if store.pg.is_some() {
        let before = snapshot(svc.db()).await?;
        let r = backup::restore(&out, &store.scratch("over-live"), Some(svc.db().url().expose())).await;
        assert!(r.is_err(), "restoring over a live database must fail: {r:?}");
        assert_eq!(snapshot(svc.db()).await?, before, "and must leave it as it was");
    }
    // The untampered backup still restores.
    let target = store.scratch("good");
    backup::restore(&out, &target, restore_url.as_deref()).await?;
    let url = restore_url
        .clone()
        .unwrap_or_else(|| baluarte_core::db::Db::sqlite_url(&target));
    let restored = open_services(&url, &target).await?;
    assert_eq!(snapshot(restored.db()).await?, snapshot(svc.db()).await?);
    restored.db().close().await;
    Ok(())
}
