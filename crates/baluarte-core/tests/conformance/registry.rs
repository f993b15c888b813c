//! 1. Registry: sectors, entities, contacts, and their searches.

use super::*;

conformance!(
    registry_round_trip,
    entity_search_filters_and_pages,
    only_the_national_authority_reclassifies_an_entity,
);

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

/// An entity's officer edits its entity's name and details, but not what decides the deadlines that
/// apply to it — its kind, its sector, the entity it belongs to: those are the national authority's.
async fn only_the_national_authority_reclassifies_an_entity(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let nu = svc
        .users()
        .create_user(
            &fx.admin,
            UserInput {
                entity_id: fx.a.clone(),
                email: "oficial.reclasifica@cfe.example".into(),
                name: "Oficial".into(),
                role: Role::SecurityOfficer,
                password: Some(PASSWORD.into()),
            },
        )
        .await?;
    let officer = actor_of(&nu.user, false);
    let current = entity_input("Comisión Federal de Electricidad", Some("electricidad"));

    let renamed = EntityInput {
        acronym: Some("CFE".into()),
        ..current.clone()
    };
    let e = svc.registry().update_entity(&officer, &fx.a, renamed).await?;
    assert_eq!(e.acronym.as_deref(), Some("CFE"), "the officer edits the details");

    let changes = [
        EntityInput {
            kind: EntityKind::Private,
            ..current.clone()
        },
        EntityInput {
            sector_id: Some("banca".into()),
            ..current.clone()
        },
        EntityInput {
            parent_id: Some(fx.b.clone()),
            ..current.clone()
        },
    ];
    for change in &changes {
        let r = svc.registry().update_entity(&officer, &fx.a, change.clone()).await;
        assert!(matches!(r, Err(CoreError::Forbidden(_))), "{change:?}: {r:?}");
    }
    let stored = svc.registry().get_entity(&fx.admin, &fx.a).await?;
    assert_eq!(
        (stored.kind, stored.sector_id.as_deref(), stored.parent_id.as_deref()),
        (EntityKind::Federal, Some("electricidad"), None),
        "nothing of a refused change is stored"
    );
    for change in changes {
        svc.registry().update_entity(&fx.admin, &fx.a, change).await?;
    }
    let stored = svc.registry().get_entity(&fx.admin, &fx.a).await?;
    assert_eq!(
        stored.parent_id.as_deref(),
        Some(fx.b.as_str()),
        "the administrator may"
    );
    Ok(())
}
