//! 7. Hostile strings: stored verbatim, control characters refused.

use super::*;

conformance!(hostile_strings_are_stored_verbatim, control_characters_are_rejected,);

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
        dir.items.iter().map(|c| c.contact.name.as_str()).collect::<Vec<_>>(),
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
