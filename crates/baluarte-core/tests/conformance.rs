//! The storage conformance suite: the service layer's promises, checked on SQLite and on PostgreSQL.
//!
//! Each `async fn name(store: TestStore) -> TestResult` below runs twice, as `sqlite_name` and
//! `postgres_name`, each on a store of its own (see `common/mod.rs`). The tests talk to the services as
//! the web and the CLI do; they touch SQL directly only to look at what is stored (secrets must not be)
//! or to play the attacker who edits the database behind the platform's back.

mod common;

use baluarte_core::audit::{self, entry_from_row, ENTRY_COLUMNS};
use baluarte_core::backup;
use baluarte_core::crypto::{totp, ServerKey, KEY_FILE};
use baluarte_core::demo::{self, parse_dataset, DEMO_PASSWORD, MX_DATASET};
use baluarte_core::model::{AuditEntry, EntityKind, PageRequest, Purpose, Role, Tlp};
use baluarte_core::service::{
    ContactInput, EntityFilter, EntityInput, SectorInput, SessionStage, TokenInput, UserFilter, UserInput, UserPatch,
};
use baluarte_core::{CoreError, Services};
use common::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::future::Future;

conformance!(
    registry_round_trip,
    entity_search_filters_and_pages,
    tenancy_keeps_entities_apart,
    contacts_follow_tlp,
    role_grants_stay_within_bounds,
    national_seats_are_changed_only_by_administrators,
    login_and_throttling,
    deactivation_ends_access,
    totp_second_factor,
    totp_code_is_accepted_once_even_when_raced,
    api_token_lifecycle,
    audit_records_every_write,
    audit_detects_edited_entry,
    audit_detects_deleted_entry,
    audit_detects_swapped_entries,
    audit_detects_reordered_rehashed_entries,
    audit_detects_truncated_tail,
    audit_detects_entry_forged_beyond_tip,
    audit_detects_foreign_checkpoint,
    audit_detects_rewritten_chain,
    audit_chain_of_v1_then_v2_entries_verifies,
    audit_chain_holds_under_concurrent_writes,
    backup_restore_round_trip,
    backup_refuses_bad_targets_and_tampered_files,
    hostile_strings_are_stored_verbatim,
    control_characters_are_rejected,
);

const IP: &str = "203.0.113.10";

fn all() -> PageRequest {
    PageRequest::new(Some(1), Some(PageRequest::MAX_PER_PAGE))
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> BTreeSet<String> {
    items.iter().map(|x| id(x).to_string()).collect()
}

fn set<S: AsRef<str>>(items: &[S]) -> BTreeSet<String> {
    items.iter().map(|s| s.as_ref().to_string()).collect()
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

// =====================================================================================================
// 1. Registry
// =====================================================================================================

async fn registry_round_trip(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let admin = &fx.admin;

    // Sectors: the fixture's tree reads back with its parents.
    let sectors = svc.registry().list_sectors(admin).await?;
    let tree: BTreeSet<(String, Option<String>)> =
        sectors.iter().map(|s| (s.id.clone(), s.parent_id.clone())).collect();
    let want: BTreeSet<(String, Option<String>)> = [
        ("energia", None),
        ("electricidad", Some("energia")),
        ("finanzas", None),
        ("banca", Some("finanzas")),
    ]
    .iter()
    .map(|(id, p)| (id.to_string(), p.map(str::to_string)))
    .collect();
    assert_eq!(tree, want);
    let sector = |id: &str, parent: Option<&str>| SectorInput {
        id: id.into(),
        parent_id: parent.map(Into::into),
        name_es: "Nombre".into(),
        name_en: "Name".into(),
    };
    assert_invalid_field(svc.registry().create_sector(admin, sector("Energía", None)).await, "id");
    assert_invalid_field(svc.registry().create_sector(admin, sector("energia", None)).await, "id");
    assert_invalid_field(
        svc.registry()
            .create_sector(admin, sector("agua", Some("no-existe")))
            .await,
        "parent_id",
    );
    assert_eq!(
        svc.registry().list_sectors(admin).await?.len(),
        4,
        "a rejected sector is not stored"
    );

    // Entity validation names the field, every field at once.
    let entities_before = count(svc.db(), "entities").await?;
    let mut bad = entity_input("Secretaría de Prueba", Some("energia"));
    bad.time_zone = "Marte/Olympus_Mons".into();
    assert_eq!(
        invalid_fields(svc.registry().create_entity(admin, bad).await),
        ["time_zone"]
    );
    assert_eq!(
        invalid_fields(
            svc.registry()
                .create_entity(admin, entity_input("Secretaría de Prueba", Some("no-existe")))
                .await
        ),
        ["sector_id"]
    );
    assert_eq!(
        invalid_fields(
            svc.registry()
                .create_entity(admin, entity_input("   ", Some("energia")))
                .await
        ),
        ["name"]
    );
    let mut all_wrong = entity_input("", Some("no-existe"));
    all_wrong.time_zone = "UTC+25".into();
    all_wrong.state_code = Some("Jalisco".into());
    all_wrong.parent_id = Some("no-existe".into());
    let fields: BTreeSet<String> = invalid_fields(svc.registry().create_entity(admin, all_wrong).await)
        .into_iter()
        .collect();
    assert_eq!(
        fields,
        set(&["name", "sector_id", "time_zone", "state_code", "parent_id"])
    );
    assert_eq!(
        count(svc.db(), "entities").await?,
        entities_before,
        "rejected entities are not stored"
    );

    // Create: trimmed, normalised, and read back as written.
    let input = EntityInput {
        name: "  Petróleos Mexicanos ".into(),
        acronym: Some("PEMEX".into()),
        kind: EntityKind::Federal,
        parent_id: None,
        sector_id: Some("energia".into()),
        state_code: Some("mx-cmx".into()),
        time_zone: "America/Mexico_City".into(),
    };
    let created = svc.registry().create_entity(admin, input.clone()).await?;
    assert_eq!(created.name, "Petróleos Mexicanos");
    assert_eq!(created.state_code.as_deref(), Some("MX-CMX"));
    assert!(created.active && !created.national_authority);
    let got = svc.registry().get_entity(admin, &created.id).await?;
    assert_eq!(json(&got), json(&created));

    // Update.
    let mut change = input.clone();
    change.name = "Petróleos Mexicanos (Pemex)".into();
    change.time_zone = "America/Cancun".into();
    change.sector_id = Some("electricidad".into());
    change.parent_id = Some(fx.a.clone());
    let updated = svc.registry().update_entity(admin, &created.id, change.clone()).await?;
    let got = svc.registry().get_entity(admin, &created.id).await?;
    assert_eq!(json(&got), json(&updated));
    assert_eq!(got.name, "Petróleos Mexicanos (Pemex)");
    assert_eq!(got.time_zone, "America/Cancun");
    assert_eq!(got.sector_id.as_deref(), Some("electricidad"));
    assert_eq!(got.parent_id.as_deref(), Some(fx.a.as_str()));
    assert_eq!(got.created_at, created.created_at);
    assert!(got.updated_at >= created.updated_at);
    // A rejected update changes nothing.
    let mut bad = change.clone();
    bad.time_zone = "America/Ciudad_Gotica".into();
    bad.name = "Otro nombre".into();
    assert_eq!(
        invalid_fields(svc.registry().update_entity(admin, &created.id, bad).await),
        ["time_zone"]
    );
    let mut own_parent = change.clone();
    own_parent.parent_id = Some(created.id.clone());
    assert_invalid_field(
        svc.registry().update_entity(admin, &created.id, own_parent).await,
        "parent_id",
    );
    assert_eq!(
        json(&svc.registry().get_entity(admin, &created.id).await?),
        json(&updated)
    );
    assert_not_found(svc.registry().update_entity(admin, "no-existe", change.clone()).await);

    // Deactivate and reactivate.
    let off = svc.registry().set_entity_active(admin, &created.id, false).await?;
    assert!(!off.active);
    assert!(!svc.registry().get_entity(admin, &created.id).await?.active);
    let listed = svc
        .registry()
        .list_entities(admin, &EntityFilter::default(), all())
        .await?;
    assert!(
        !ids(&listed.items, |e| &e.id).contains(&created.id),
        "inactive entities are not listed by default"
    );
    let listed = svc
        .registry()
        .list_entities(
            admin,
            &EntityFilter {
                include_inactive: true,
                ..Default::default()
            },
            all(),
        )
        .await?;
    assert!(
        ids(&listed.items, |e| &e.id).contains(&created.id),
        "include_inactive lists them"
    );
    assert!(svc.registry().set_entity_active(admin, &created.id, true).await?.active);
    assert!(svc.registry().get_entity(admin, &created.id).await?.active);
    // The national authority cannot be switched off.
    assert!(matches!(
        svc.registry().set_entity_active(admin, &fx.national_id, false).await,
        Err(CoreError::Conflict(_))
    ));
    assert!(svc.registry().get_entity(admin, &fx.national_id).await?.active);
    Ok(())
}

async fn entity_search_filters_and_pages(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let admin = &fx.admin;
    let mut pemex = entity_input("Petróleos Mexicanos", Some("energia"));
    pemex.acronym = Some("PEMEX".into());
    let pemex = svc.registry().create_entity(admin, pemex).await?.id;
    let mut municipios = Vec::new();
    for i in 0..7 {
        let mut m = entity_input(&format!("Municipio de Prueba {i}"), None);
        m.kind = EntityKind::Municipal;
        m.state_code = Some(if i % 2 == 0 { "MX-JAL" } else { "MX-OAX" }.into());
        municipios.push(svc.registry().create_entity(admin, m).await?.id);
    }

    let find = |q: &str| EntityFilter {
        q: Some(q.into()),
        ..Default::default()
    };
    let search = |f: EntityFilter| async move {
        svc.registry()
            .list_entities(admin, &f, all())
            .await
            .map(|p| (p.total, ids(&p.items, |e| &e.id)))
    };
    // `q` matches name or acronym, in any case.
    for q in ["pemex", "PEMEX", "Pemex", "petróleos", "PETRÓLEOS mex", "leos Mexi"] {
        assert_eq!(search(find(q)).await?, (1, set(&[&pemex])), "q = {q:?}");
    }
    assert_eq!(search(find("comisión federal")).await?, (1, set(&[&fx.a])));
    assert_eq!(search(find("BANCO")).await?, (1, set(&[&fx.b])));
    assert_eq!(search(find("no hay tal")).await?.0, 0);
    // LIKE wildcards in `q` are literal.
    assert_eq!(search(find("%")).await?.0, 0);
    assert_eq!(search(find("Municipio_de")).await?.0, 0);

    // A sector filter includes its subsectors.
    let by_sector = |s: &str| EntityFilter {
        sector_id: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(search(by_sector("energia")).await?, (2, set(&[&fx.a, &pemex])));
    assert_eq!(search(by_sector("electricidad")).await?, (1, set(&[&fx.a])));
    assert_eq!(search(by_sector("finanzas")).await?, (1, set(&[&fx.b])));
    assert_eq!(search(by_sector("banca")).await?, (1, set(&[&fx.b])));
    // Filters combine.
    let f = EntityFilter {
        q: Some("prueba".into()),
        kind: Some(EntityKind::Municipal),
        state_code: Some("MX-JAL".into()),
        ..Default::default()
    };
    assert_eq!(search(f).await?.0, 4);

    // Pages: the total is the whole match, pages are disjoint, in name order, and cover it.
    let filter = EntityFilter {
        kind: Some(EntityKind::Municipal),
        ..Default::default()
    };
    let mut seen = Vec::new();
    for page in 1..=4 {
        let p = svc
            .registry()
            .list_entities(admin, &filter, PageRequest::new(Some(page), Some(3)))
            .await?;
        assert_eq!(p.total, 7, "page {page}");
        assert_eq!((p.page, p.per_page), (page, 3));
        assert_eq!(p.items.len(), [3, 3, 1, 0][page as usize - 1], "page {page}");
        seen.extend(p.items.into_iter().map(|e| (e.name, e.id)));
    }
    let names: Vec<&String> = seen.iter().map(|(n, _)| n).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "pages follow name order");
    assert_eq!(
        seen.iter().map(|(_, id)| id.clone()).collect::<BTreeSet<_>>(),
        municipios.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(seen.len(), 7, "no entity on two pages");
    // Out-of-range page requests are clamped, not errors.
    let p = svc
        .registry()
        .list_entities(admin, &filter, PageRequest::new(Some(-3), Some(100_000)))
        .await?;
    assert_eq!((p.page, p.per_page, p.items.len()), (1, PageRequest::MAX_PER_PAGE, 7));
    Ok(())
}

// =====================================================================================================
// 2. Tenancy
// =====================================================================================================

async fn tenancy_keeps_entities_apart(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (officer_a_user, officer_a) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let (reporter_a_user, reporter_a) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (officer_b_user, officer_b) = fx
        .person(svc, &fx.b, Role::SecurityOfficer, "oficial@banco.example")
        .await?;
    let token = |entity: &str| TokenInput {
        entity_id: entity.into(),
        name: "Sensor".into(),
        purposes: vec![Purpose::RegistryRead],
        expires_in_days: None,
    };
    let tok_a = svc.tokens().create_token(&officer_a, token(&fx.a)).await?;
    let tok_b = svc.tokens().create_token(&officer_b, token(&fx.b)).await?;
    svc.registry()
        .create_contact(&officer_b, &fx.b, contact_input("Beatriz Verde", Tlp::Green))
        .await?;

    // Entities: A's officer lists only A, whatever the filter asks for.
    let page = svc
        .registry()
        .list_entities(&officer_a, &EntityFilter::default(), all())
        .await?;
    assert_eq!((page.total, ids(&page.items, |e| &e.id)), (1, set(&[&fx.a])));
    let page = svc
        .registry()
        .list_entities(
            &officer_a,
            &EntityFilter {
                q: Some("banco".into()),
                ..Default::default()
            },
            all(),
        )
        .await?;
    assert_eq!(page.total, 0);
    let page = svc
        .registry()
        .list_entities(
            &officer_a,
            &EntityFilter {
                sector_id: Some("banca".into()),
                ..Default::default()
            },
            all(),
        )
        .await?;
    assert_eq!(page.total, 0);
    let counts = svc.registry().registry_counts(&officer_a).await?;
    assert_eq!(counts.by_kind.iter().map(|(_, n)| n).sum::<i64>(), 1);
    assert_eq!(svc.registry().get_entity(&officer_a, &fx.a).await?.id, fx.a);
    assert_not_found(svc.registry().get_entity(&officer_a, &fx.b).await);
    assert_not_found(svc.registry().get_entity(&officer_a, &fx.national_id).await);
    assert_not_found(
        svc.registry()
            .update_entity(&officer_a, &fx.b, entity_input("Banco Tomado", None))
            .await,
    );
    assert_eq!(svc.registry().get_entity(&fx.admin, &fx.b).await?.name, "Banco Ejemplo");
    // A foreign id and an unknown id answer the same.
    assert_not_found(
        svc.registry()
            .get_entity(&officer_a, "00000000-0000-0000-0000-000000000000")
            .await,
    );

    // Users.
    let page = svc
        .users()
        .list_users(&officer_a, &UserFilter::default(), all())
        .await?;
    assert_eq!(
        ids(&page.items, |u| &u.id),
        set(&[&officer_a_user.id, &reporter_a_user.id])
    );
    assert_eq!(page.total, 2);
    assert_not_found(
        svc.users()
            .list_users(
                &officer_a,
                &UserFilter {
                    entity_id: Some(fx.b.clone()),
                    ..Default::default()
                },
                all(),
            )
            .await,
    );
    assert_eq!(
        svc.users()
            .list_users(
                &officer_a,
                &UserFilter {
                    q: Some("banco".into()),
                    ..Default::default()
                },
                all()
            )
            .await?
            .total,
        0
    );
    assert_not_found(svc.users().get_user(&officer_a, &officer_b_user.id).await);
    assert_not_found(svc.users().get_user(&officer_a, &fx.admin_user.id).await);
    assert_not_found(
        svc.users()
            .update_user(
                &officer_a,
                &officer_b_user.id,
                UserPatch {
                    name: Some("Tomado".into()),
                    role: None,
                    lang: None,
                },
            )
            .await,
    );
    assert_not_found(svc.users().set_user_active(&officer_a, &officer_b_user.id, false).await);
    let b_user = svc.users().get_user(&fx.admin, &officer_b_user.id).await?;
    assert!(b_user.active && b_user.name == officer_b_user.name);

    // Tokens.
    let page = svc.tokens().list_tokens(&officer_a, None, all()).await?;
    assert_eq!((page.total, ids(&page.items, |t| &t.id)), (1, set(&[&tok_a.token.id])));
    assert_not_found(svc.tokens().list_tokens(&officer_a, Some(&fx.b), all()).await);
    assert_not_found(svc.tokens().get_token(&officer_a, &tok_b.token.id).await);
    assert_not_found(svc.tokens().revoke_token(&officer_a, &tok_b.token.id).await);
    assert_eq!(
        svc.tokens().authenticate_token(&tok_b.secret).await?.entity_id(),
        fx.b,
        "B's token still works"
    );
    assert_eq!(
        svc.tokens().get_token(&officer_a, &tok_a.token.id).await?.id,
        tok_a.token.id
    );

    // Audit trail: only A's entries, and never B's history.
    let page = svc.audit().list_audit(&officer_a, None, None, all()).await?;
    assert!(
        page.total >= 4,
        "A's creation, its two people and its token: {}",
        page.total
    );
    assert_eq!(page.total as usize, page.items.len());
    assert!(
        page.items.iter().all(|e| e.entity_id == fx.a),
        "only A's entries: {:?}",
        page.items.iter().map(|e| &e.entity_id).collect::<BTreeSet<_>>()
    );
    assert_not_found(svc.audit().list_audit(&officer_a, Some(&fx.b), None, all()).await);
    assert_not_found(svc.audit().object_history(&officer_a, "entity", &fx.b).await);
    assert_not_found(svc.audit().object_history(&officer_a, "user", &officer_b_user.id).await);
    assert!(!svc
        .audit()
        .object_history(&officer_a, "entity", &fx.a)
        .await?
        .is_empty());
    assert_forbidden(svc.audit().verify_audit(&officer_a).await);

    // A reporter of A sees its entity but manages nothing.
    assert_eq!(svc.registry().get_entity(&reporter_a, &fx.a).await?.id, fx.a);
    assert_eq!(
        svc.users().get_user(&reporter_a, &reporter_a_user.id).await?.id,
        reporter_a_user.id,
        "one's own account"
    );
    assert_forbidden(svc.users().list_users(&reporter_a, &UserFilter::default(), all()).await);
    assert_forbidden(svc.users().get_user(&reporter_a, &officer_a_user.id).await);
    assert_forbidden(svc.tokens().list_tokens(&reporter_a, None, all()).await);
    assert_forbidden(svc.audit().list_audit(&reporter_a, None, None, all()).await);
    assert_forbidden(
        svc.registry()
            .update_entity(&reporter_a, &fx.a, entity_input("Renombrada", None))
            .await,
    );
    assert_not_found(svc.registry().get_entity(&reporter_a, &fx.b).await);

    // A token of A acts only on A, and only through its purposes.
    let tok = svc.tokens().authenticate_token(&tok_a.secret).await?;
    assert_eq!(svc.registry().get_entity(&tok, &fx.a).await?.id, fx.a);
    assert_not_found(svc.registry().get_entity(&tok, &fx.b).await);
    assert_eq!(
        svc.registry()
            .list_entities(&tok, &EntityFilter::default(), all())
            .await?
            .total,
        1
    );
    assert_forbidden(svc.users().list_users(&tok, &UserFilter::default(), all()).await);
    assert_forbidden(svc.audit().list_audit(&tok, None, None, all()).await);
    Ok(())
}

async fn contacts_follow_tlp(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (_, officer_a) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let (_, officer_b) = fx
        .person(svc, &fx.b, Role::SecurityOfficer, "oficial@banco.example")
        .await?;
    let (_, csirt) = fx
        .person(svc, &fx.national_id, Role::CsirtAnalyst, "csirt@nacional.example")
        .await?;
    let a_amber = svc
        .registry()
        .create_contact(&officer_a, &fx.a, contact_input("Ana Ambar", Tlp::Amber))
        .await?;
    let b_amber = svc
        .registry()
        .create_contact(&officer_b, &fx.b, contact_input("Beatriz Ambar", Tlp::Amber))
        .await?;
    let b_green = svc
        .registry()
        .create_contact(&officer_b, &fx.b, contact_input("Bruno Verde", Tlp::Green))
        .await?;
    let b_clear = svc
        .registry()
        .create_contact(&officer_b, &fx.b, contact_input("Blanca Clara", Tlp::Clear))
        .await?;
    let b_strict = svc
        .registry()
        .create_contact(&officer_b, &fx.b, contact_input("Berta Estricta", Tlp::AmberStrict))
        .await?;
    let b_old = svc
        .registry()
        .create_contact(&officer_b, &fx.b, contact_input("Bernardo Antiguo", Tlp::Green))
        .await?;
    svc.registry().set_contact_active(&officer_b, &b_old.id, false).await?;
    assert_invalid_field(
        svc.registry()
            .create_contact(&officer_b, &fx.b, contact_input("Rojo Prohibido", Tlp::Red))
            .await,
        "tlp",
    );

    // A's officer: B's AMBER and AMBER+STRICT contacts do not exist for it; GREEN and CLEAR do.
    assert_not_found(svc.registry().get_contact(&officer_a, &b_amber.id).await);
    assert_not_found(svc.registry().get_contact(&officer_a, &b_strict.id).await);
    assert_eq!(
        json(&svc.registry().get_contact(&officer_a, &b_green.id).await?),
        json(&b_green)
    );
    assert_eq!(
        svc.registry().get_contact(&officer_a, &b_clear.id).await?.id,
        b_clear.id
    );
    assert_eq!(
        svc.registry().get_contact(&officer_a, &a_amber.id).await?.id,
        a_amber.id
    );
    assert_not_found(svc.registry().list_contacts(&officer_a, &fx.b).await);
    let dir = svc.registry().contact_directory(&officer_a, None, all()).await?;
    assert_eq!(dir.total as usize, dir.items.len());
    assert_eq!(
        ids(&dir.items, |c| &c.id),
        set(&[&a_amber.id, &b_green.id, &b_clear.id]),
        "own contacts and everyone's GREEN/CLEAR, active only"
    );
    let dir = svc
        .registry()
        .contact_directory(&officer_a, Some("BRUNO"), all())
        .await?;
    assert_eq!(ids(&dir.items, |c| &c.id), set(&[&b_green.id]));
    assert_eq!(
        svc.registry()
            .contact_directory(&officer_a, Some("beatriz"), all())
            .await?
            .total,
        0
    );
    // Seeing a GREEN contact is not a licence to edit it.
    assert!(svc
        .registry()
        .update_contact(&officer_a, &b_green.id, contact_input("Bruno Cambiado", Tlp::Clear))
        .await
        .is_err());
    assert!(svc
        .registry()
        .set_contact_active(&officer_a, &b_green.id, false)
        .await
        .is_err());
    assert_not_found(
        svc.registry()
            .update_contact(&officer_a, &b_amber.id, contact_input("Beatriz Cambiada", Tlp::Clear))
            .await,
    );
    assert_not_found(
        svc.registry()
            .create_contact(&officer_a, &fx.b, contact_input("Intruso", Tlp::Green))
            .await,
    );
    assert_eq!(
        json(&svc.registry().get_contact(&officer_b, &b_green.id).await?),
        json(&b_green)
    );

    // B's officer does not see A's AMBER contact.
    assert_not_found(svc.registry().get_contact(&officer_b, &a_amber.id).await);
    let dir = svc.registry().contact_directory(&officer_b, None, all()).await?;
    assert!(!ids(&dir.items, |c| &c.id).contains(&a_amber.id));
    assert_eq!(
        svc.registry().list_contacts(&officer_b, &fx.b).await?.len(),
        5,
        "all of one's own, inactive included"
    );

    // The national CSIRT sees AMBER and AMBER+STRICT of every entity.
    assert_eq!(
        json(&svc.registry().get_contact(&csirt, &b_strict.id).await?),
        json(&b_strict)
    );
    assert_eq!(svc.registry().get_contact(&csirt, &b_amber.id).await?.id, b_amber.id);
    assert_eq!(svc.registry().list_contacts(&csirt, &fx.b).await?.len(), 5);
    let dir = svc.registry().contact_directory(&csirt, None, all()).await?;
    assert_eq!(
        ids(&dir.items, |c| &c.id),
        set(&[&a_amber.id, &b_amber.id, &b_green.id, &b_clear.id, &b_strict.id])
    );
    // and may correct a contact of any entity.
    let fixed = svc
        .registry()
        .update_contact(
            &csirt,
            &b_strict.id,
            ContactInput {
                phone: "+52 55 1234 5678".into(),
                ..contact_input("Berta Estricta", Tlp::AmberStrict)
            },
        )
        .await?;
    assert_eq!(
        svc.registry().get_contact(&officer_b, &b_strict.id).await?.phone,
        fixed.phone
    );

    // An API token reads only its own entity's contacts.
    let tok = svc
        .tokens()
        .create_token(
            &officer_a,
            TokenInput {
                entity_id: fx.a.clone(),
                name: "Directorio".into(),
                purposes: vec![Purpose::RegistryRead],
                expires_in_days: None,
            },
        )
        .await?;
    let tok = svc.tokens().authenticate_token(&tok.secret).await?;
    let dir = svc.registry().contact_directory(&tok, None, all()).await?;
    assert_eq!(ids(&dir.items, |c| &c.id), set(&[&a_amber.id]));
    assert_eq!(svc.registry().get_contact(&tok, &a_amber.id).await?.id, a_amber.id);
    assert_not_found(svc.registry().get_contact(&tok, &b_green.id).await);
    assert_not_found(svc.registry().get_contact(&tok, &b_amber.id).await);
    Ok(())
}

// =====================================================================================================
// 3. Role grants
// =====================================================================================================

async fn role_grants_stay_within_bounds(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let admin = &fx.admin;
    let (_, officer_a) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let officer_a_id = officer_a.user_id().unwrap_or_default().to_string();
    let (reporter, _) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let national_roles = [Role::Admin, Role::Coordinator, Role::CsirtAnalyst, Role::SocAnalyst];
    let new_user = |entity: &str, email: &str, role: Role| UserInput {
        entity_id: entity.into(),
        email: email.into(),
        name: "Persona Nueva".into(),
        role,
        password: None,
    };
    let users_before = count(svc.db(), "users").await?;

    // An entity's security officer grants no national role, in its entity or elsewhere.
    for role in national_roles {
        let r = svc
            .users()
            .create_user(&officer_a, new_user(&fx.a, &format!("{role}@cfe.example"), role))
            .await;
        assert!(
            matches!(r, Err(CoreError::Invalid(_) | CoreError::Forbidden(_))),
            "{role}: {r:?}"
        );
        assert_not_found(
            svc.users()
                .create_user(
                    &officer_a,
                    new_user(&fx.national_id, &format!("{role}@nacional.example"), role),
                )
                .await,
        );
        let r = svc
            .users()
            .update_user(
                &officer_a,
                &reporter.id,
                UserPatch {
                    name: None,
                    role: Some(role),
                    lang: None,
                },
            )
            .await;
        assert!(
            matches!(r, Err(CoreError::Invalid(_) | CoreError::Forbidden(_))),
            "{role}: {r:?}"
        );
    }
    assert_eq!(svc.users().get_user(admin, &reporter.id).await?.role, Role::Reporter);
    // nor touches a national account,
    assert!(svc
        .users()
        .update_user(
            &officer_a,
            &fx.admin_user.id,
            UserPatch {
                name: Some("Tomado".into()),
                role: None,
                lang: None
            }
        )
        .await
        .is_err());
    assert!(svc
        .users()
        .set_user_active(&officer_a, &fx.admin_user.id, false)
        .await
        .is_err());
    assert_forbidden(svc.users().reset_password(&officer_a, &reporter.id, false).await);
    // nor its own role.
    assert_forbidden(
        svc.users()
            .update_user(
                &officer_a,
                &officer_a_id,
                UserPatch {
                    name: None,
                    role: Some(Role::Auditor),
                    lang: None,
                },
            )
            .await,
    );
    // It does manage entity roles in its own entity.
    assert_eq!(
        svc.users()
            .update_user(
                &officer_a,
                &reporter.id,
                UserPatch {
                    name: None,
                    role: Some(Role::Auditor),
                    lang: None
                }
            )
            .await?
            .role,
        Role::Auditor
    );

    // Even a security officer *at the national authority* neither grants nor changes national accounts.
    let (_, nat_officer) = fx
        .person(svc, &fx.national_id, Role::SecurityOfficer, "oficial@nacional.example")
        .await?;
    let (csirt, _) = fx
        .person(svc, &fx.national_id, Role::CsirtAnalyst, "csirt@nacional.example")
        .await?;
    for role in national_roles.into_iter().chain([Role::Auditor]) {
        assert_forbidden(
            svc.users()
                .create_user(
                    &nat_officer,
                    new_user(&fx.national_id, &format!("{role}2@nacional.example"), role),
                )
                .await,
        );
    }
    assert_forbidden(
        svc.users()
            .update_user(
                &nat_officer,
                &csirt.id,
                UserPatch {
                    name: Some("Renombrado".into()),
                    role: None,
                    lang: None,
                },
            )
            .await,
    );
    assert_forbidden(
        svc.users()
            .update_user(
                &nat_officer,
                &csirt.id,
                UserPatch {
                    name: None,
                    role: Some(Role::Reporter),
                    lang: None,
                },
            )
            .await,
    );
    assert_forbidden(svc.users().set_user_active(&nat_officer, &csirt.id, false).await);
    assert_forbidden(
        svc.users()
            .update_user(
                &nat_officer,
                &fx.admin_user.id,
                UserPatch {
                    name: Some("Renombrado".into()),
                    role: None,
                    lang: None,
                },
            )
            .await,
    );
    let csirt_now = svc.users().get_user(admin, &csirt.id).await?;
    assert!(csirt_now.active && csirt_now.role == Role::CsirtAnalyst && csirt_now.name == csirt.name);
    // The national CSIRT manages no accounts at all.
    let csirt_actor = actor_of(&csirt, true);
    assert_forbidden(
        svc.users()
            .create_user(&csirt_actor, new_user(&fx.a, "x@cfe.example", Role::Reporter))
            .await,
    );

    // National roles exist only at the national authority, even for the administrator.
    for role in national_roles {
        assert_eq!(
            invalid_fields(
                svc.users()
                    .create_user(admin, new_user(&fx.a, &format!("{role}3@cfe.example"), role))
                    .await
            ),
            ["role"],
            "{role}"
        );
        assert_eq!(
            invalid_fields(
                svc.users()
                    .update_user(
                        admin,
                        &reporter.id,
                        UserPatch {
                            name: None,
                            role: Some(role),
                            lang: None
                        }
                    )
                    .await
            ),
            ["role"],
            "{role}"
        );
    }
    assert_eq!(
        svc.users().get_user(admin, &reporter.id).await?.role,
        Role::Auditor,
        "rejected changes change nothing"
    );
    assert_eq!(
        count(svc.db(), "users").await?,
        users_before + 2,
        "only the two people made on purpose were added"
    );

    // The administrator grants them there.
    let coordinator = svc
        .users()
        .create_user(
            admin,
            new_user(&fx.national_id, "coordinacion@nacional.example", Role::Coordinator),
        )
        .await?;
    assert_eq!(coordinator.user.role, Role::Coordinator);
    assert!(
        coordinator.temporary_password.as_ref().is_some_and(|p| p.len() >= 12),
        "a temporary password is returned once"
    );
    Ok(())
}

// =====================================================================================================
// 4. Accounts
// =====================================================================================================

/// A security officer at the national authority manages its entity's people, but not the seats that see
/// across entities (the national auditor): granting them needs an administrator, and so does changing them.
async fn national_seats_are_changed_only_by_administrators(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (_, officer) = fx
        .person(svc, &fx.national_id, Role::SecurityOfficer, "oficial@nacional.example")
        .await?;
    let (auditor, _) = fx
        .person(svc, &fx.national_id, Role::Auditor, "auditoria@nacional.example")
        .await?;
    let (clerk, _) = fx
        .person(svc, &fx.national_id, Role::Reporter, "enlace@nacional.example")
        .await?;
    let demote = UserPatch {
        name: None,
        role: Some(Role::Reporter),
        lang: None,
    };
    assert_forbidden(svc.users().update_user(&officer, &auditor.id, demote.clone()).await);
    assert_forbidden(svc.users().set_user_active(&officer, &auditor.id, false).await);
    assert!(
        svc.users().get_user(&fx.admin, &auditor.id).await?.active,
        "the auditor keeps the seat"
    );
    // The officer's own entity's ordinary people remain theirs to manage.
    svc.users().set_user_active(&officer, &clerk.id, false).await?;
    // The administrator may.
    let changed = svc.users().update_user(&fx.admin, &auditor.id, demote).await?;
    assert_eq!(changed.role, Role::Reporter);
    Ok(())
}

async fn login_and_throttling(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (officer, _) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let (reporter, _) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;

    // The right password opens a full session for an entity role; the e-mail's case does not matter.
    let ok = svc.accounts().login("  Oficial@CFE.example ", PASSWORD, IP).await?;
    assert_eq!(ok.stage, SessionStage::Full);
    let s = svc.accounts().session(&ok.secret).await?;
    assert_eq!(s.user.id, officer.id);
    assert_eq!(
        (s.actor.entity_id(), s.actor.role(), s.actor.national()),
        (fx.a.as_str(), Some(Role::SecurityOfficer), false)
    );
    assert_eq!(s.entity_name, "Comisión Federal de Electricidad");
    assert_eq!(s.csrf, ok.csrf);
    // The session secret is stored only hashed.
    let rows = text_rows(svc.db(), "SELECT id_hash, csrf_token FROM sessions", 2).await?;
    assert!(!rows.is_empty());
    assert!(
        rows.iter().flatten().flatten().all(|v| !v.contains(&ok.secret)),
        "the session secret must not be stored"
    );

    // Wrong password, unknown account: the same answer.
    assert_unauthenticated(
        svc.accounts()
            .login("oficial@cfe.example", "wrong horse battery staple", IP)
            .await,
    );
    assert_unauthenticated(svc.accounts().login("nadie@cfe.example", PASSWORD, IP).await);
    assert_unauthenticated(svc.accounts().login("oficial@cfe.example", "", IP).await);
    assert_unauthenticated(svc.accounts().session("bls_not-a-session").await);

    // Five failures lock the account, even against the right password, from any address.
    for _ in 0..5 {
        assert_unauthenticated(
            svc.accounts()
                .login(&reporter.email, "wrong horse battery staple", "198.51.100.1")
                .await,
        );
    }
    for ip in ["198.51.100.1", "198.51.100.2"] {
        match svc.accounts().login(&reporter.email, PASSWORD, ip).await {
            Err(CoreError::TooManyAttempts { retry_after_secs }) => {
                assert!((1..=15 * 60).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("expected TooManyAttempts, got {other:?}"),
        }
    }
    // Other accounts are not locked out by it.
    assert_eq!(
        svc.accounts()
            .login(&officer.email, PASSWORD, "198.51.100.1")
            .await?
            .stage,
        SessionStage::Full
    );
    // Once the window has passed (failures aged in the store), the right password works again.
    sqlx::query("UPDATE login_attempts SET at = at - $1")
        .bind(3_600_000_000_i64)
        .execute(svc.db().pool())
        .await?;
    let back = svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.1").await?;
    assert_eq!(svc.accounts().session(&back.secret).await?.user.id, reporter.id);

    // Logout and expiry end a session.
    svc.accounts().logout(&back.secret).await?;
    assert_unauthenticated(svc.accounts().session(&back.secret).await);
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(svc.now() - 1)
        .execute(svc.db().pool())
        .await?;
    assert_unauthenticated(svc.accounts().session(&ok.secret).await);

    // A national role starts at enrolment of the second factor.
    let admin_login = svc.accounts().login("admin@nacional.example", PASSWORD, IP).await?;
    assert_eq!(admin_login.stage, SessionStage::Enrol);
    let s = svc.accounts().session(&admin_login.secret).await?;
    assert!(s.actor.national() && s.actor.role() == Some(Role::Admin));
    Ok(())
}

async fn deactivation_ends_access(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (reporter, _) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (officer, officer_actor) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;

    // A deactivated user cannot log in, and its open sessions end.
    let s1 = svc.accounts().login(&reporter.email, PASSWORD, IP).await?;
    let s2 = svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.9").await?;
    svc.users().set_user_active(&fx.admin, &reporter.id, false).await?;
    assert_unauthenticated(svc.accounts().session(&s1.secret).await);
    assert_unauthenticated(svc.accounts().session(&s2.secret).await);
    assert_unauthenticated(svc.accounts().login(&reporter.email, PASSWORD, IP).await);
    assert!(!svc
        .users()
        .list_users(&officer_actor, &UserFilter::default(), all())
        .await?
        .items
        .iter()
        .any(|u| u.id == reporter.id));
    assert_eq!(
        svc.users()
            .list_users(
                &officer_actor,
                &UserFilter {
                    include_inactive: true,
                    ..Default::default()
                },
                all()
            )
            .await?
            .total,
        2
    );
    // Reactivated, it can again.
    svc.users().set_user_active(&fx.admin, &reporter.id, true).await?;
    assert_eq!(
        svc.accounts()
            .session(&svc.accounts().login(&reporter.email, PASSWORD, IP).await?.secret)
            .await?
            .user
            .id,
        reporter.id
    );
    // Nobody deactivates themselves.
    let own = svc.users().set_user_active(&fx.admin, &fx.admin_user.id, false).await;
    assert!(matches!(own, Err(CoreError::Conflict(_))), "{own:?}");

    // A password reset ends sessions; the old password stops working, the temporary one works.
    let before_reset = svc.accounts().login(&officer.email, PASSWORD, IP).await?;
    let temporary = svc.users().reset_password(&fx.admin, &officer.id, false).await?;
    assert!(temporary.len() >= 12);
    assert_unauthenticated(svc.accounts().session(&before_reset.secret).await);
    assert_unauthenticated(svc.accounts().login(&officer.email, PASSWORD, IP).await);
    let after_reset = svc.accounts().login(&officer.email, &temporary, IP).await?;
    // Changing one's own password keeps the current session and ends the others.
    let other = svc.accounts().login(&officer.email, &temporary, "198.51.100.9").await?;
    let me = svc.accounts().session(&after_reset.secret).await?.actor;
    assert_invalid_field(
        svc.accounts()
            .change_own_password(&me, "not the current one", "a brand new passphrase", None)
            .await,
        "current_password",
    );
    assert_invalid_field(
        svc.accounts().change_own_password(&me, &temporary, "short", None).await,
        "new_password",
    );
    svc.accounts()
        .change_own_password(&me, &temporary, "a brand new passphrase", Some(&after_reset.secret))
        .await?;
    assert!(svc.accounts().session(&after_reset.secret).await.is_ok());
    assert_unauthenticated(svc.accounts().session(&other.secret).await);
    assert_unauthenticated(svc.accounts().login(&officer.email, &temporary, IP).await);
    let fresh = svc
        .accounts()
        .login(&officer.email, "a brand new passphrase", IP)
        .await?;

    // Deactivating the entity ends its people's sessions and its tokens, and stops their logins.
    let tok = svc
        .tokens()
        .create_token(
            &officer_actor,
            TokenInput {
                entity_id: fx.a.clone(),
                name: "Sensor".into(),
                purposes: vec![Purpose::EventsWrite],
                expires_in_days: Some(10),
            },
        )
        .await?;
    assert!(svc.tokens().authenticate_token(&tok.secret).await.is_ok());
    svc.registry().set_entity_active(&fx.admin, &fx.a, false).await?;
    assert_unauthenticated(svc.accounts().session(&fresh.secret).await);
    assert_unauthenticated(svc.accounts().session(&after_reset.secret).await);
    assert_unauthenticated(svc.tokens().authenticate_token(&tok.secret).await);
    assert_unauthenticated(svc.accounts().login(&officer.email, "a brand new passphrase", IP).await);
    // B's people are unaffected.
    let (b_person, _) = fx.person(svc, &fx.b, Role::Reporter, "reportes@banco.example").await?;
    assert!(svc
        .accounts()
        .session(&svc.accounts().login(&b_person.email, PASSWORD, IP).await?.secret)
        .await
        .is_ok());
    Ok(())
}

fn wrong_code(svc: &Services, secret: &str) -> TestResult<String> {
    let code: u32 = totp::code_at(secret, svc.now())?.parse()?;
    Ok(format!("{:06}", (code + 500_000) % 1_000_000))
}

async fn totp_second_factor(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (officer, actor) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;

    // Enrolment: a wrong code confirms nothing, the authenticator's code does.
    let enrol = svc.accounts().begin_totp_enrolment(&actor).await?;
    assert!(enrol.url.starts_with("otpauth://totp/"), "{}", enrol.url);
    assert!(enrol.url.contains(&enrol.secret));
    assert_invalid_field(
        svc.accounts()
            .confirm_totp_enrolment(&actor, None, &wrong_code(svc, &enrol.secret)?)
            .await,
        "code",
    );
    assert!(!svc.users().get_user(&actor, &officer.id).await?.totp_enabled);
    assert_eq!(
        svc.accounts().login(&officer.email, PASSWORD, IP).await?.stage,
        SessionStage::Full,
        "not enrolled yet"
    );
    let enrol_code = totp::code_at(&enrol.secret, svc.now())?;
    svc.accounts().confirm_totp_enrolment(&actor, None, &enrol_code).await?;
    assert!(svc.users().get_user(&actor, &officer.id).await?.totp_enabled);
    assert!(
        matches!(
            svc.accounts().begin_totp_enrolment(&actor).await,
            Err(CoreError::Conflict(_))
        ),
        "no silent re-enrolment"
    );

    // The next login stops at the second factor.
    let login = svc.accounts().login(&officer.email, PASSWORD, IP).await?;
    assert_eq!(login.stage, SessionStage::Totp);
    assert_eq!(svc.accounts().session(&login.secret).await?.stage, SessionStage::Totp);
    assert_invalid_field(
        svc.accounts()
            .complete_totp(&login.secret, &wrong_code(svc, &enrol.secret)?, IP)
            .await,
        "code",
    );
    assert_invalid_field(svc.accounts().complete_totp(&login.secret, "abcdef", IP).await, "code");
    // The code that confirmed the enrolment is spent.
    assert_invalid_field(
        svc.accounts().complete_totp(&login.secret, &enrol_code, IP).await,
        "code",
    );
    assert_eq!(svc.accounts().session(&login.secret).await?.stage, SessionStage::Totp);
    // The authenticator's next code opens the session.
    let next = totp_code(svc, &enrol.secret, 1)?;
    svc.accounts().complete_totp(&login.secret, &next, IP).await?;
    assert_eq!(svc.accounts().session(&login.secret).await?.stage, SessionStage::Full);
    assert!(matches!(
        svc.accounts().complete_totp(&login.secret, &next, IP).await,
        Err(CoreError::Conflict(_))
    ));
    // and only that one: replayed on another login, it is refused.
    let replay = svc.accounts().login(&officer.email, PASSWORD, IP).await?;
    assert_invalid_field(svc.accounts().complete_totp(&replay.secret, &next, IP).await, "code");
    assert_eq!(svc.accounts().session(&replay.secret).await?.stage, SessionStage::Totp);

    // Wrong codes count as failed logins.
    let login = svc.accounts().login(&officer.email, PASSWORD, IP).await?;
    for _ in 0..5 {
        assert!(svc
            .accounts()
            .complete_totp(&login.secret, &wrong_code(svc, &enrol.secret)?, IP)
            .await
            .is_err());
    }
    let r = svc
        .accounts()
        .complete_totp(&login.secret, &totp_code(svc, &enrol.secret, 1)?, IP)
        .await;
    assert!(matches!(r, Err(CoreError::TooManyAttempts { .. })), "{r:?}");
    assert_eq!(svc.accounts().session(&login.secret).await?.stage, SessionStage::Totp);
    assert!(matches!(
        svc.accounts().login(&officer.email, PASSWORD, IP).await,
        Err(CoreError::TooManyAttempts { .. })
    ));

    // A national role enrols during its first session, which then becomes full.
    let admin_login = svc.accounts().login("admin@nacional.example", PASSWORD, IP).await?;
    assert_eq!(admin_login.stage, SessionStage::Enrol);
    let admin = svc.accounts().session(&admin_login.secret).await?.actor;
    let enrol = svc.accounts().begin_totp_enrolment(&admin).await?;
    svc.accounts()
        .confirm_totp_enrolment(
            &admin,
            Some(&admin_login.secret),
            &totp::code_at(&enrol.secret, svc.now())?,
        )
        .await?;
    assert_eq!(
        svc.accounts().session(&admin_login.secret).await?.stage,
        SessionStage::Full
    );
    assert_eq!(
        svc.accounts()
            .login("admin@nacional.example", PASSWORD, IP)
            .await?
            .stage,
        SessionStage::Totp
    );

    // A lost phone: the administrator resets password and second factor.
    let temporary = svc.users().reset_password(&admin, &officer.id, true).await?;
    assert!(!svc.users().get_user(&admin, &officer.id).await?.totp_enabled);
    sqlx::query("DELETE FROM login_attempts")
        .execute(svc.db().pool())
        .await?;
    assert_eq!(
        svc.accounts().login(&officer.email, &temporary, IP).await?.stage,
        SessionStage::Full
    );
    Ok(())
}

/// One TOTP code, presented on several pending logins at once, opens exactly one of them.
async fn totp_code_is_accepted_once_even_when_raced(store: TestStore) -> TestResult {
    let svc = store.svc.clone();
    let fx = Fixture::new(&svc).await?;
    let (officer, actor) = fx
        .person(&svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let enrol = svc.accounts().begin_totp_enrolment(&actor).await?;
    svc.accounts()
        .confirm_totp_enrolment(&actor, None, &totp::code_at(&enrol.secret, svc.now())?)
        .await?;
    let code = totp_code(&svc, &enrol.secret, 1)?;
    let mut secrets = Vec::new();
    // Many contenders, so that the race is real on SQLite's single writer too.
    for _ in 0..16 {
        secrets.push(svc.accounts().login(&officer.email, PASSWORD, IP).await?.secret);
    }
    let tasks: Vec<_> = secrets
        .iter()
        .map(|secret| {
            let (svc, secret, code) = (svc.clone(), secret.clone(), code.clone());
            tokio::spawn(async move { svc.accounts().complete_totp(&secret, &code, IP).await })
        })
        .collect();
    let mut accepted = 0;
    for t in tasks {
        match t.await? {
            Ok(()) => accepted += 1,
            // Losers record failed attempts, so later contenders may be throttled: also a refusal.
            Err(CoreError::Invalid(_) | CoreError::TooManyAttempts { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    assert_eq!(accepted, 1, "the code is accepted once");
    let mut full = 0;
    for secret in &secrets {
        if svc.accounts().session(secret).await?.stage == SessionStage::Full {
            full += 1;
        }
    }
    assert_eq!(full, 1, "and opens one session only");
    Ok(())
}

async fn api_token_lifecycle(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (_, officer_a) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let (_, officer_b) = fx
        .person(svc, &fx.b, Role::SecurityOfficer, "oficial@banco.example")
        .await?;
    let input = |name: &str, purposes: Vec<Purpose>, days: Option<i64>| TokenInput {
        entity_id: fx.a.clone(),
        name: name.into(),
        purposes,
        expires_in_days: days,
    };

    // Validation names the field; a foreign entity's token cannot be made.
    assert_invalid_field(
        svc.tokens()
            .create_token(&officer_a, input("Sensor", vec![], None))
            .await,
        "purposes",
    );
    assert_invalid_field(
        svc.tokens()
            .create_token(&officer_a, input("Sensor", vec![Purpose::EventsWrite], Some(0)))
            .await,
        "expires_in_days",
    );
    assert_invalid_field(
        svc.tokens()
            .create_token(&officer_a, input("Sensor", vec![Purpose::EventsWrite], Some(366)))
            .await,
        "expires_in_days",
    );
    assert_invalid_field(
        svc.tokens()
            .create_token(&officer_a, input(" ", vec![Purpose::EventsWrite], None))
            .await,
        "name",
    );
    assert_not_found(
        svc.tokens()
            .create_token(&officer_b, input("Sensor", vec![Purpose::EventsWrite], None))
            .await,
    );
    assert_eq!(count(svc.db(), "api_tokens").await?, 0);

    // Created: the secret is returned once and authenticates as the entity, with its purposes.
    let before = svc.now();
    let nt = svc
        .tokens()
        .create_token(
            &officer_a,
            input(
                "SIEM central",
                vec![Purpose::RegistryRead, Purpose::EventsWrite, Purpose::RegistryRead],
                Some(30),
            ),
        )
        .await?;
    assert!(
        nt.secret.starts_with("blt_") && nt.secret.len() >= 40,
        "a long random secret"
    );
    assert_eq!(
        nt.token.purposes.iter().collect::<HashSet<_>>(),
        [Purpose::EventsWrite, Purpose::RegistryRead].iter().collect()
    );
    assert_eq!(nt.token.purposes.len(), 2, "purposes are deduplicated");
    let days = (nt.token.expires_at - before) / baluarte_core::time::DAY;
    assert!((29..=30).contains(&days), "expires in 30 days, got {days}");
    assert!(!format!("{nt:?}").contains(&nt.secret), "Debug never shows the secret");
    let actor = svc.tokens().authenticate_token(&nt.secret).await?;
    assert_eq!(
        (actor.entity_id(), actor.role(), actor.national()),
        (fx.a.as_str(), None, false)
    );
    assert_eq!(
        actor.purposes().iter().collect::<HashSet<_>>(),
        nt.token.purposes.iter().collect()
    );
    assert!(actor.label().contains("SIEM central"));
    assert!(
        svc.tokens()
            .get_token(&officer_a, &nt.token.id)
            .await?
            .last_used_at
            .is_some(),
        "use is recorded"
    );

    // The stored rows (token and audit trail) never contain the secret, not even its random part.
    let random_part = &nt.secret[4..];
    let rows = text_rows(
        svc.db(),
        "SELECT id, entity_id, name, prefix, token_hash, purposes, created_by FROM api_tokens",
        7,
    )
    .await?;
    assert_eq!(rows.len(), 1);
    for v in rows.iter().flatten().flatten() {
        assert!(
            !v.contains(random_part) && !v.contains(&nt.secret),
            "stored value {v:?} holds the secret"
        );
    }
    let prefix = &svc.tokens().get_token(&officer_a, &nt.token.id).await?.prefix;
    assert!(
        nt.secret.starts_with(prefix.as_str()) && prefix.len() < 16,
        "only a short prefix is kept"
    );
    let audit_rows = text_rows(svc.db(), &format!("SELECT {ENTRY_COLUMNS_TEXT} FROM audit_log"), 14).await?;
    assert!(
        audit_rows.iter().flatten().flatten().all(|v| !v.contains(random_part)),
        "the audit trail holds no secret"
    );

    // Anything else is refused.
    let (longer, huge, upper) = (
        format!("{}x", nt.secret),
        "blt_a".repeat(5000),
        nt.secret.to_uppercase(),
    );
    for bad in [
        "",
        "blt_",
        "bls_x",
        &nt.secret[..nt.secret.len() - 1],
        longer.as_str(),
        huge.as_str(),
        upper.as_str(),
    ] {
        assert_unauthenticated(svc.tokens().authenticate_token(bad).await);
    }

    // Revoked: refused from then on; revoking again changes nothing.
    let revoked = svc.tokens().revoke_token(&officer_a, &nt.token.id).await?;
    assert!(revoked.revoked_at.is_some());
    assert_unauthenticated(svc.tokens().authenticate_token(&nt.secret).await);
    let again = svc.tokens().revoke_token(&officer_a, &nt.token.id).await?;
    assert_eq!(again.revoked_at, revoked.revoked_at);

    // Expired: refused.
    let nt2 = svc
        .tokens()
        .create_token(
            &officer_a,
            input("Sensor de eventos", vec![Purpose::EventsWrite], Some(1)),
        )
        .await?;
    assert!(svc.tokens().authenticate_token(&nt2.secret).await.is_ok());
    sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE id = $2")
        .bind(svc.now() - 1_000_000)
        .bind(&nt2.token.id)
        .execute(svc.db().pool())
        .await?;
    assert_unauthenticated(svc.tokens().authenticate_token(&nt2.secret).await);

    // Listed (metadata only) for the entity's officer.
    let page = svc.tokens().list_tokens(&officer_a, Some(&fx.a), all()).await?;
    assert_eq!(ids(&page.items, |t| &t.id), set(&[&nt.token.id, &nt2.token.id]));
    Ok(())
}

/// Every audit column as text (CAST for the numeric ones), for looking at stored bytes.
const ENTRY_COLUMNS_TEXT: &str =
    "CAST(seq AS TEXT), CAST(at AS TEXT), actor_kind, actor_id, actor_label, action, object_type, object_id, \
     entity_id, before_digest, after_digest, changes, prev_hash, hash";

// =====================================================================================================
// 5. Audit trail
// =====================================================================================================

async fn newest_entry(svc: &Services) -> TestResult<Option<AuditEntry>> {
    Ok(svc
        .audit()
        .list_audit(
            &baluarte_test_support::actors::system(),
            None,
            None,
            PageRequest::new(Some(1), Some(1)),
        )
        .await?
        .items
        .into_iter()
        .next())
}

/// Run one write and check that it appended exactly one entry naming the actor, the action and the
/// object.
async fn audited<T, F>(
    svc: &Services,
    label: &str,
    action: &str,
    object_type: &str,
    write: F,
) -> TestResult<(T, AuditEntry)>
where
    F: Future<Output = Result<T, CoreError>>,
{
    let before = count(svc.db(), "audit_log").await?;
    let out = write.await?;
    let after = count(svc.db(), "audit_log").await?;
    assert_eq!(after, before + 1, "{action} {object_type} appends one entry");
    let entry = newest_entry(svc).await?.ok_or("no entry")?;
    assert_eq!(
        (
            entry.actor_label.as_str(),
            entry.action.as_str(),
            entry.object_type.as_str()
        ),
        (label, action, object_type)
    );
    Ok((out, entry))
}

/// Run a write that must fail, and check that it appended nothing.
async fn not_audited<T: std::fmt::Debug, F>(svc: &Services, write: F) -> TestResult
where
    F: Future<Output = Result<T, CoreError>>,
{
    let before = count(svc.db(), "audit_log").await?;
    let r = write.await;
    assert!(r.is_err(), "expected the write to fail, got {r:?}");
    assert_eq!(
        count(svc.db(), "audit_log").await?,
        before,
        "a refused write leaves no entry"
    );
    Ok(())
}

async fn audit_records_every_write(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let admin = &fx.admin;
    let al = fx.admin.label();

    let (sector, e) = audited(
        svc,
        al,
        "create",
        "sector",
        svc.registry().create_sector(
            admin,
            SectorInput {
                id: "agua".into(),
                parent_id: None,
                name_es: "Agua".into(),
                name_en: "Water".into(),
            },
        ),
    )
    .await?;
    assert_eq!((e.object_id.as_str(), e.entity_id.as_str()), (sector.id.as_str(), ""));
    let (ent, e) = audited(
        svc,
        al,
        "create",
        "entity",
        svc.registry()
            .create_entity(admin, entity_input("Comisión Nacional del Agua", Some("agua"))),
    )
    .await?;
    assert_eq!(
        (e.object_id.as_str(), e.entity_id.as_str()),
        (ent.id.as_str(), ent.id.as_str())
    );
    assert!(e.before_digest.is_empty() && !e.after_digest.is_empty());
    let (_, e) = audited(
        svc,
        al,
        "update",
        "entity",
        svc.registry().update_entity(
            admin,
            &ent.id,
            entity_input("Comisión Nacional del Agua (Conagua)", Some("agua")),
        ),
    )
    .await?;
    assert_eq!(e.object_id, ent.id);
    let changed: Vec<String> = serde_json::from_str(&e.changes)?;
    assert!(
        changed.contains(&"name".to_string()) && !changed.contains(&"time_zone".to_string()),
        "{changed:?}"
    );
    assert!(!e.before_digest.is_empty() && e.before_digest != e.after_digest);
    audited(
        svc,
        al,
        "deactivate",
        "entity",
        svc.registry().set_entity_active(admin, &ent.id, false),
    )
    .await?;
    audited(
        svc,
        al,
        "reactivate",
        "entity",
        svc.registry().set_entity_active(admin, &ent.id, true),
    )
    .await?;

    let (contact, e) = audited(
        svc,
        al,
        "create",
        "contact",
        svc.registry()
            .create_contact(admin, &ent.id, contact_input("Carla Contacto", Tlp::Green)),
    )
    .await?;
    assert_eq!(
        (e.object_id.as_str(), e.entity_id.as_str()),
        (contact.id.as_str(), ent.id.as_str())
    );
    audited(
        svc,
        al,
        "update",
        "contact",
        svc.registry()
            .update_contact(admin, &contact.id, contact_input("Carla Contacto", Tlp::Amber)),
    )
    .await?;
    audited(
        svc,
        al,
        "deactivate",
        "contact",
        svc.registry().set_contact_active(admin, &contact.id, false),
    )
    .await?;

    let (nu, e) = audited(
        svc,
        al,
        "create",
        "user",
        svc.users().create_user(
            admin,
            UserInput {
                entity_id: ent.id.clone(),
                email: "oficial@conagua.example".into(),
                name: "Oficial".into(),
                role: Role::SecurityOfficer,
                password: Some(PASSWORD.into()),
            },
        ),
    )
    .await?;
    assert_eq!(
        (e.object_id.as_str(), e.entity_id.as_str()),
        (nu.user.id.as_str(), ent.id.as_str())
    );
    let officer = actor_of(&nu.user, false);
    audited(
        svc,
        al,
        "update",
        "user",
        svc.users().update_user(
            admin,
            &nu.user.id,
            UserPatch {
                name: Some("Oficial de Seguridad".into()),
                role: None,
                lang: None,
            },
        ),
    )
    .await?;
    let ol = officer.label();
    let (login, e) = audited(svc, ol, "login", "user", svc.accounts().login(ol, PASSWORD, IP)).await?;
    assert_eq!(e.object_id, nu.user.id);
    audited(svc, ol, "update", "user", svc.accounts().set_own_lang(&officer, "en")).await?;
    audited(
        svc,
        ol,
        "change_password",
        "user",
        svc.accounts()
            .change_own_password(&officer, PASSWORD, "another fine passphrase", Some(&login.secret)),
    )
    .await?;
    let (nt, e) = audited(
        svc,
        ol,
        "create",
        "api_token",
        svc.tokens().create_token(
            &officer,
            TokenInput {
                entity_id: ent.id.clone(),
                name: "Sensor".into(),
                purposes: vec![Purpose::EventsWrite],
                expires_in_days: None,
            },
        ),
    )
    .await?;
    assert_eq!(e.object_id, nt.token.id);
    audited(
        svc,
        ol,
        "revoke",
        "api_token",
        svc.tokens().revoke_token(&officer, &nt.token.id),
    )
    .await?;
    let enrol = svc.accounts().begin_totp_enrolment(&officer).await?;
    audited(
        svc,
        ol,
        "enrol_totp",
        "user",
        svc.accounts()
            .confirm_totp_enrolment(&officer, Some(&login.secret), &totp::code_at(&enrol.secret, svc.now())?),
    )
    .await?;
    let (second, e) = audited(
        svc,
        ol,
        "login_password_step",
        "user",
        svc.accounts().login(ol, "another fine passphrase", IP),
    )
    .await?;
    assert_eq!(e.object_id, nu.user.id);
    audited(
        svc,
        ol,
        "login",
        "user",
        svc.accounts()
            .complete_totp(&second.secret, &totp_code(svc, &enrol.secret, 1)?, IP),
    )
    .await?;
    audited(svc, ol, "logout", "user", svc.accounts().logout(&second.secret)).await?;
    audited(
        svc,
        al,
        "reset_password_and_totp",
        "user",
        svc.users().reset_password(admin, &nu.user.id, true),
    )
    .await?;
    audited(
        svc,
        al,
        "deactivate",
        "user",
        svc.users().set_user_active(admin, &nu.user.id, false),
    )
    .await?;
    audited(
        svc,
        al,
        "reactivate",
        "user",
        svc.users().set_user_active(admin, &nu.user.id, true),
    )
    .await?;

    // Refused writes and failed logins leave no entry.
    not_audited(svc, svc.registry().create_entity(admin, entity_input("", None))).await?;
    not_audited(
        svc,
        svc.registry()
            .update_entity(&officer, &fx.a, entity_input("Ajena", None)),
    )
    .await?;
    not_audited(svc, svc.accounts().login(ol, "wrong horse battery staple", IP)).await?;
    not_audited(
        svc,
        svc.registry()
            .create_contact(&officer, &fx.b, contact_input("Intruso", Tlp::Green)),
    )
    .await?;

    // The object's history tells the story, newest first.
    let history = svc.audit().object_history(admin, "entity", &ent.id).await?;
    assert_eq!(
        history.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["reactivate", "deactivate", "update", "create"]
    );

    // The untouched chain verifies, before and after a checkpoint, and from the service too.
    let key = svc.server_key().public_hex();
    let report = audit::verify(svc.db(), &key).await?;
    assert_eq!(report.broken, None);
    assert_eq!(report.entries, count(svc.db(), "audit_log").await?);
    assert_eq!(report.head_seq, report.entries);
    let seq = svc.audit().audit_checkpoint().await?.ok_or("checkpoint")?;
    assert_eq!(seq, report.head_seq);
    assert_eq!(svc.audit().audit_checkpoint().await?, None, "nothing new to sign");
    let report = svc.audit().verify_audit(admin).await?;
    assert_eq!((report.broken, report.checkpoints), (None, 1));
    // Verifying against another key fails at the checkpoint.
    let other = audit::verify(svc.db(), &ServerKey::generate().public_hex()).await?;
    assert_eq!(other.broken.map(|b| b.seq), Some(seq));
    Ok(())
}

/// A fresh store with more than ten entries and a signed checkpoint at its tip. Returns the tip.
async fn chain_with_checkpoint(svc: &Services) -> TestResult<i64> {
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
    svc.registry()
        .create_sector(
            &admin,
            SectorInput {
                id: "salud".into(),
                parent_id: None,
                name_es: "Salud".into(),
                name_en: "Health".into(),
            },
        )
        .await?;
    for i in 0..3 {
        let e = svc
            .registry()
            .create_entity(&admin, entity_input(&format!("Hospital General {i}"), Some("salud")))
            .await?;
        svc.registry()
            .create_contact(&admin, &e.id, contact_input(&format!("Guardia {i}"), Tlp::Green))
            .await?;
        svc.registry()
            .update_entity(
                &admin,
                &e.id,
                entity_input(&format!("Hospital General de Zona {i}"), Some("salud")),
            )
            .await?;
    }
    let tip = svc.audit().audit_checkpoint().await?.ok_or("no checkpoint")?;
    assert!(tip >= 10, "{tip} entries");
    let report = audit::verify(svc.db(), &svc.server_key().public_hex()).await?;
    assert_eq!((report.broken, report.entries, report.checkpoints), (None, tip, 1));
    Ok(tip)
}

async fn broken_at(svc: &Services) -> TestResult<Option<i64>> {
    let report = audit::verify(svc.db(), &svc.server_key().public_hex()).await?;
    Ok(report.broken.map(|b| b.seq))
}

async fn entry(svc: &Services, seq: i64) -> TestResult<AuditEntry> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq = $1"))
        .bind(seq)
        .fetch_one(svc.db().pool())
        .await?;
    Ok(entry_from_row(&row)?)
}

async fn overwrite(svc: &Services, seq: i64, e: &AuditEntry) -> TestResult {
    sqlx::query(
        "UPDATE audit_log SET at = $1, actor_kind = $2, actor_id = $3, actor_label = $4, action = $5, object_type = $6, object_id = $7, \
         entity_id = $8, before_digest = $9, after_digest = $10, changes = $11, prev_hash = $12, hash = $13, format = $14 \
         WHERE seq = $15",
    )
    .bind(e.at)
    .bind(&e.actor_kind)
    .bind(&e.actor_id)
    .bind(&e.actor_label)
    .bind(&e.action)
    .bind(&e.object_type)
    .bind(&e.object_id)
    .bind(&e.entity_id)
    .bind(&e.before_digest)
    .bind(&e.after_digest)
    .bind(&e.changes)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .bind(e.format)
    .bind(seq)
    .execute(svc.db().pool())
    .await?;
    Ok(())
}

async fn audit_detects_edited_entry(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    sqlx::query("UPDATE audit_log SET actor_label = $1 WHERE seq = $2")
        .bind("alguien-mas@nacional.example")
        .bind(k)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(k));
    Ok(())
}

async fn audit_detects_deleted_entry(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(k)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(k));
    Ok(())
}

async fn audit_detects_swapped_entries(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    let (a, b) = (entry(svc, k).await?, entry(svc, k + 1).await?);
    overwrite(svc, k, &b).await?;
    overwrite(svc, k + 1, &a).await?;
    assert_eq!(broken_at(svc).await?, Some(k));
    Ok(())
}

/// The attacker swaps two entries and recomputes each one's own hash at its new place (but not the
/// chain): every entry is self-consistent, and only the link to the previous entry tells.
async fn audit_detects_reordered_rehashed_entries(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    let (mut a, mut b) = (entry(svc, k).await?, entry(svc, k + 1).await?);
    std::mem::swap(&mut a.seq, &mut b.seq);
    a.hash = audit::entry_hash(&a);
    b.hash = audit::entry_hash(&b);
    overwrite(svc, k, &b).await?;
    overwrite(svc, k + 1, &a).await?;
    assert_eq!(broken_at(svc).await?, Some(k));
    Ok(())
}

async fn audit_detects_truncated_tail(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(tip)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    // Also when the head is moved back to hide it: the signed checkpoint still covers the entry.
    let prev = entry(svc, tip - 1).await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(tip - 1)
        .bind(&prev.hash)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    Ok(())
}

/// An entry slipped in after the tip, correctly chained, but without the platform moving its tip.
async fn audit_detects_entry_forged_beyond_tip(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let mut forged = entry(svc, tip).await?;
    forged.seq = tip + 1;
    forged.action = "deactivate".into();
    forged.prev_hash = forged.hash.clone();
    forged.hash = audit::entry_hash(&forged);
    sqlx::query("INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_label, action, object_type, object_id, entity_id, before_digest, after_digest, changes, prev_hash, hash) VALUES ($1, 0, '', '', '', '', '', '', '', '', '', '', '', '')")
        .bind(forged.seq)
        .execute(svc.db().pool())
        .await?;
    overwrite(svc, forged.seq, &forged).await?;
    assert_eq!(broken_at(svc).await?, Some(tip + 1));
    Ok(())
}

async fn audit_detects_foreign_checkpoint(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let intruder = ServerKey::generate();
    let hash = entry(svc, tip).await?.hash;
    let signature = intruder.sign_hex(format!("baluarte-audit-checkpoint-v1:{tip}:{hash}").as_bytes());
    // Re-signed with another key, claiming to be that key's.
    sqlx::query("UPDATE audit_checkpoints SET public_key = $1, signature = $2 WHERE seq = $3")
        .bind(intruder.public_hex())
        .bind(&signature)
        .bind(tip)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    // Re-signed with another key, claiming to be the server's.
    sqlx::query("UPDATE audit_checkpoints SET public_key = $1 WHERE seq = $2")
        .bind(svc.server_key().public_hex())
        .bind(tip)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    Ok(())
}

/// The attacker edits an entry and recomputes every hash after it, and the tip: the chain is then
/// consistent, and only the signed checkpoint tells.
async fn audit_detects_rewritten_chain(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let tip = chain_with_checkpoint(svc).await?;
    let k = tip / 2;
    let mut prev_hash = entry(svc, k - 1).await?.hash;
    for seq in k..=tip {
        let mut e = entry(svc, seq).await?;
        if seq == k {
            e.actor_label = "alguien-mas@nacional.example".into();
        }
        e.prev_hash = prev_hash;
        e.hash = audit::entry_hash(&e);
        overwrite(svc, seq, &e).await?;
        prev_hash = e.hash;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip), "the checkpoint no longer matches");
    // Re-signing the checkpoint needs the server's key.
    let intruder = ServerKey::generate();
    let signature = intruder.sign_hex(format!("baluarte-audit-checkpoint-v1:{tip}:{prev_hash}").as_bytes());
    sqlx::query("UPDATE audit_checkpoints SET hash = $1, signature = $2 WHERE seq = $3")
        .bind(&prev_hash)
        .bind(&signature)
        .bind(tip)
        .execute(svc.db().pool())
        .await?;
    assert_eq!(broken_at(svc).await?, Some(tip));
    Ok(())
}

/// The entry hash of the first release (format 1), kept here as it was: the fixture of an old chain.
fn v1_entry_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let (seq, at) = (e.seq.to_string(), e.at.to_string());
    for field in [
        "baluarte-audit-v1",
        &seq,
        &at,
        &e.actor_kind,
        &e.actor_id,
        &e.actor_label,
        &e.action,
        &e.object_type,
        &e.object_id,
        &e.entity_id,
        &e.before_digest,
        &e.after_digest,
        &e.changes,
        &e.prev_hash,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Entries 1..=n as the first release wrote them (its INSERT, its hash rule, its digests over
/// serde_json's text in the record's own key order), and the tip moved to the last.
async fn write_v1_entries(svc: &Services, n: i64) -> TestResult {
    let mut prev_hash = audit::GENESIS.to_string();
    for seq in 1..=n {
        let state = format!(r#"{{"name":"Entidad {seq}","id":"e{seq}","active":1}}"#);
        let mut e = entry_template(seq, prev_hash, svc.now());
        e.after_digest = hex::encode(Sha256::digest(state.as_bytes()));
        e.hash = v1_entry_hash(&e);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_label, action, object_type, object_id, \
             entity_id, before_digest, after_digest, changes, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(e.seq)
        .bind(e.at)
        .bind(&e.actor_kind)
        .bind(&e.actor_id)
        .bind(&e.actor_label)
        .bind(&e.action)
        .bind(&e.object_type)
        .bind(&e.object_id)
        .bind(&e.entity_id)
        .bind(&e.before_digest)
        .bind(&e.after_digest)
        .bind(&e.changes)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute(svc.db().pool())
        .await?;
        prev_hash = e.hash;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(n)
        .bind(&prev_hash)
        .execute(svc.db().pool())
        .await?;
    Ok(())
}

/// What the first release recorded for an entity it created.
fn entry_template(seq: i64, prev_hash: String, now: i64) -> AuditEntry {
    AuditEntry {
        seq,
        format: 1,
        at: now - (100 - seq) * 1_000_000,
        actor_kind: "system".into(),
        actor_id: String::new(),
        actor_label: "system".into(),
        action: "create".into(),
        object_type: "entity".into(),
        object_id: format!("e{seq}"),
        entity_id: format!("e{seq}"),
        before_digest: String::new(),
        after_digest: String::new(),
        changes: r#"["active","id","name"]"#.into(),
        prev_hash,
        hash: String::new(),
    }
}

async fn entry_formats(svc: &Services) -> TestResult<Vec<(i64, i64)>> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT seq, format FROM audit_log ORDER BY seq")
        .fetch_all(svc.db().pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get("seq")?, r.try_get("format")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

/// A store written by the first release (format 1 entries) and then by this one (format 2) verifies as
/// one chain; an entry of either format that is altered, or whose format is changed, is named.
async fn audit_chain_of_v1_then_v2_entries_verifies(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let old = 3;
    write_v1_entries(svc, old).await?;
    Fixture::new(svc).await?;
    let tip = svc.audit().audit_checkpoint().await?.ok_or("no checkpoint")?;
    assert!(tip > old + 3, "{tip} entries");
    let report = audit::verify(svc.db(), &svc.server_key().public_hex()).await?;
    assert_eq!((report.broken, report.entries), (None, tip));
    let formats = entry_formats(svc).await?;
    assert!(
        formats.iter().all(|&(seq, f)| f == if seq <= old { 1 } else { 2 }),
        "{formats:?}"
    );
    let first_new = entry(svc, old + 1).await?;
    assert_ne!(
        first_new.hash,
        v1_entry_hash(&first_new),
        "new entries are hashed by the v2 rule"
    );

    for (seq, what) in [
        (old - 1, "UPDATE audit_log SET actor_label = 'mallory' WHERE seq = $1"),
        (old + 2, "UPDATE audit_log SET actor_label = 'mallory' WHERE seq = $1"),
        (old + 2, "UPDATE audit_log SET format = 1 WHERE seq = $1"),
        (old - 1, "UPDATE audit_log SET format = 2 WHERE seq = $1"),
        (old + 2, "UPDATE audit_log SET format = 9 WHERE seq = $1"),
    ] {
        let original = entry(svc, seq).await?;
        sqlx::query(what).bind(seq).execute(svc.db().pool()).await?;
        let report = audit::verify(svc.db(), &svc.server_key().public_hex()).await?;
        assert_eq!(report.broken.as_ref().map(|b| b.seq), Some(seq), "{what}: {report:?}");
        if what.contains("format = 9") {
            let reason = report.broken.map(|b| b.reason).unwrap_or_default();
            assert!(reason.contains("unknown format 9"), "{reason}");
        }
        // Put it back as it was: the chain verifies again.
        sqlx::query("UPDATE audit_log SET actor_label = $1, format = $2 WHERE seq = $3")
            .bind(&original.actor_label)
            .bind(formats[(seq - 1) as usize].1)
            .bind(seq)
            .execute(svc.db().pool())
            .await?;
        assert_eq!(broken_at(svc).await?, None, "restored after {what}");
    }
    Ok(())
}

/// Writers on several connections at once still build one unbroken chain, and a verification that
/// runs while they write does not cry wolf.
async fn audit_chain_holds_under_concurrent_writes(store: TestStore) -> TestResult {
    let svc = store.svc.clone();
    let fx = Fixture::new(&svc).await?;
    let start = count(svc.db(), "audit_log").await?;
    let writers = 4;
    let per_writer = 8;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (svc, admin, entity) = (
            svc.clone(),
            fx.admin.clone(),
            if w % 2 == 0 { fx.a.clone() } else { fx.b.clone() },
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                svc.registry()
                    .create_contact(&admin, &entity, contact_input(&format!("Guardia {w} {i}"), Tlp::Green))
                    .await?;
            }
            Ok::<_, CoreError>(())
        }));
    }
    let verifier = {
        let svc = svc.clone();
        tokio::spawn(async move {
            let key = svc.server_key().public_hex();
            let mut reports = Vec::new();
            for _ in 0..15 {
                reports.push(audit::verify(svc.db(), &key).await?);
            }
            Ok::<_, CoreError>(reports)
        })
    };
    for t in tasks {
        t.await??;
    }
    for report in verifier.await?? {
        assert_eq!(report.broken, None, "a verification during writes reported {report:?}");
    }
    let total = count(svc.db(), "audit_log").await?;
    assert_eq!(total, start + writers * per_writer);
    let report = audit::verify(svc.db(), &svc.server_key().public_hex()).await?;
    assert_eq!((report.broken, report.entries, report.head_seq), (None, total, total));
    Ok(())
}

// =====================================================================================================
// 6. Backup and restore
// =====================================================================================================

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
    let report = audit::verify(restored.db(), &ServerKey::load_or_create(&target)?.public_hex()).await?;
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
        audit::verify(svc.db(), &svc.server_key().public_hex()).await?.broken,
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

// =====================================================================================================
// 7. Hostile strings
// =====================================================================================================

const HOSTILE: &[&str] = &[
    "'; DROP TABLE users; --",
    "Robert'); DROP TABLE entities;-- \"quoted\"",
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)> & &amp; </textarea>",
    "Institución Ñandú — Oaxaca 🌵🇲🇽",
    "ÁÉÍÓÚ Üñ çàè 日本語 عربى ελληνικά",
    "Descuento 50% _total_ \\ barra",
    "Operador [beta] *estrella* ¿sí?",
    "Zero\u{200B}width and \u{202E}RTL\u{202D} text",
];

async fn hostile_strings_are_stored_verbatim(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let admin = &fx.admin;
    let mut made = Vec::new();
    for name in HOSTILE {
        let mut input = entity_input(name, Some("energia"));
        input.acronym = Some(name.chars().take(30).collect());
        let e = svc.registry().create_entity(admin, input).await?;
        assert_eq!(e.name, *name);
        let got = svc.registry().get_entity(admin, &e.id).await?;
        assert_eq!(got.name, *name, "read back verbatim");
        assert_eq!(
            got.acronym.as_deref(),
            Some(name.chars().take(30).collect::<String>().as_str())
        );
        let c = svc
            .registry()
            .create_contact(
                admin,
                &e.id,
                ContactInput {
                    name: name.to_string(),
                    title: name.to_string(),
                    email: "o'brien+guardia@ejemplo.example".into(),
                    phone: "+52 (55) 5555-0000".into(),
                    is_24_7: true,
                    tlp: Tlp::Green,
                },
            )
            .await?;
        let got = svc.registry().get_contact(admin, &c.id).await?;
        assert_eq!(
            (got.name.as_str(), got.title.as_str(), got.email.as_str()),
            (*name, *name, "o'brien+guardia@ejemplo.example")
        );
        made.push(e.id);
    }
    // The listing returns them verbatim too, and every table is still there.
    let page = svc
        .registry()
        .list_entities(
            admin,
            &EntityFilter {
                sector_id: Some("energia".into()),
                ..Default::default()
            },
            all(),
        )
        .await?;
    let names: BTreeSet<&str> = page.items.iter().map(|e| e.name.as_str()).collect();
    for name in HOSTILE {
        assert!(names.contains(name), "{name:?} listed");
    }
    for table in ["users", "entities", "contacts", "sectors", "audit_log"] {
        assert!(count(svc.db(), table).await? > 0, "{table} survived");
    }
    let person = svc
        .users()
        .create_user(
            admin,
            UserInput {
                entity_id: fx.a.clone(),
                email: "persona@cfe.example".into(),
                name: HOSTILE[2].into(),
                role: Role::Reporter,
                password: None,
            },
        )
        .await?;
    assert_eq!(svc.users().get_user(admin, &person.user.id).await?.name, HOSTILE[2]);

    // Searching for them finds exactly them: quotes and LIKE wildcards are literal.
    let search = |q: &'static str| async move {
        let p = svc
            .registry()
            .list_entities(
                admin,
                &EntityFilter {
                    q: Some(q.into()),
                    ..Default::default()
                },
                all(),
            )
            .await?;
        Ok::<_, CoreError>(p.items.into_iter().map(|e| e.name).collect::<BTreeSet<_>>())
    };
    assert_eq!(search("DROP TABLE").await?, set(&[HOSTILE[0], HOSTILE[1]]));
    assert_eq!(search("'); drop").await?, set(&[HOSTILE[1]]));
    assert_eq!(search("50%").await?, set(&[HOSTILE[6]]));
    assert_eq!(search("%").await?, set(&[HOSTILE[6]]));
    assert_eq!(search("_total_").await?, set(&[HOSTILE[6]]));
    assert_eq!(search("\\").await?, set(&[HOSTILE[6]]));
    assert_eq!(search("<SCRIPT>").await?, set(&[HOSTILE[2]]));
    assert_eq!(search("[beta]").await?, set(&[HOSTILE[7]]));
    assert_eq!(search("*").await?, set(&[HOSTILE[7]]));
    assert_eq!(search("?").await?, set(&[HOSTILE[7]]));
    assert_eq!(search("[").await?, set(&[HOSTILE[7]]));
    assert_eq!(search("🌵").await?, set(&[HOSTILE[4]]));
    assert_eq!(search("日本語").await?, set(&[HOSTILE[5]]));
    // Case-insensitive beyond ASCII, as Spanish needs: "ñandú" finds "Ñandú", "ÁÉÍ" finds "ÁÉÍ".
    assert_eq!(search("institución ñandú").await?, set(&[HOSTILE[4]]));
    assert_eq!(search("ÑANDÚ").await?, set(&[HOSTILE[4]]));
    assert_eq!(search("áéíóú üñ").await?, set(&[HOSTILE[5]]));
    let dir = svc.registry().contact_directory(admin, Some("Ñandú"), all()).await?;
    assert_eq!(
        dir.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        [HOSTILE[4]]
    );
    Ok(())
}

async fn control_characters_are_rejected(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let admin = &fx.admin;
    let (entities, contacts, users, audit) = (
        count(svc.db(), "entities").await?,
        count(svc.db(), "contacts").await?,
        count(svc.db(), "users").await?,
        count(svc.db(), "audit_log").await?,
    );
    for bad in [
        "Línea\nnueva",
        "Nulo\0byte",
        "Campana\u{7}",
        "Tab\tulador",
        "\u{1b}[31mrojo",
        "Borrar\u{7f}",
        "Sig\u{85}uiente",
    ] {
        assert_eq!(
            invalid_fields(svc.registry().create_entity(admin, entity_input(bad, None)).await),
            ["name"],
            "{bad:?}"
        );
        let mut input = entity_input("Nombre válido", None);
        input.acronym = Some(bad.into());
        assert_eq!(
            invalid_fields(svc.registry().create_entity(admin, input).await),
            ["acronym"],
            "{bad:?}"
        );
        assert_eq!(
            invalid_fields(
                svc.registry()
                    .update_entity(admin, &fx.a, entity_input(bad, None))
                    .await
            ),
            ["name"],
            "{bad:?}"
        );
        assert_eq!(
            invalid_fields(
                svc.registry()
                    .create_contact(admin, &fx.a, contact_input(bad, Tlp::Green))
                    .await
                    .map(|c| c.id)
            )
            .first()
            .map(String::as_str),
            Some("name"),
            "{bad:?}"
        );
        let mut c = contact_input("Nombre Valido", Tlp::Green);
        c.title = bad.into();
        assert_eq!(
            invalid_fields(svc.registry().create_contact(admin, &fx.a, c).await),
            ["title"],
            "{bad:?}"
        );
        let u = UserInput {
            entity_id: fx.a.clone(),
            email: "x@cfe.example".into(),
            name: bad.into(),
            role: Role::Reporter,
            password: Some(PASSWORD.into()),
        };
        assert_eq!(
            invalid_fields(svc.users().create_user(admin, u).await),
            ["name"],
            "{bad:?}"
        );
        let t = TokenInput {
            entity_id: fx.a.clone(),
            name: bad.into(),
            purposes: vec![Purpose::EventsWrite],
            expires_in_days: None,
        };
        assert_eq!(
            invalid_fields(svc.tokens().create_token(admin, t).await),
            ["name"],
            "{bad:?}"
        );
        let s = SectorInput {
            id: "agua".into(),
            parent_id: None,
            name_es: bad.into(),
            name_en: "Water".into(),
        };
        assert_eq!(
            invalid_fields(svc.registry().create_sector(admin, s).await),
            ["name_es"],
            "{bad:?}"
        );
    }
    assert_eq!(
        svc.registry().get_entity(admin, &fx.a).await?.name,
        "Comisión Federal de Electricidad"
    );
    let after = (
        count(svc.db(), "entities").await?,
        count(svc.db(), "contacts").await?,
        count(svc.db(), "users").await?,
        count(svc.db(), "audit_log").await?,
    );
    assert_eq!(
        after,
        (entities, contacts, users, audit),
        "nothing stored, nothing audited"
    );
    Ok(())
}
