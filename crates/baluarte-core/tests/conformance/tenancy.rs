//! 2. Tenancy: what each entity sees of the others.

use super::*;

conformance!(
    tenancy_keeps_entities_apart,
    contacts_follow_tlp,
    history_is_never_more_open_than_its_object,
);

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
        ids(&dir.items, |c| &c.contact.id),
        set(&[&a_amber.id, &b_green.id, &b_clear.id]),
        "own contacts and everyone's GREEN/CLEAR, active only"
    );
    // Each listed contact names its institution, also one the officer may not open.
    let b_name = svc.registry().get_entity(&fx.admin, &fx.b).await?.name;
    let entry = dir.items.iter().find(|e| e.contact.id == b_green.id);
    assert_eq!(entry.map(|e| e.entity_name.as_str()), Some(b_name.as_str()));
    let dir = svc
        .registry()
        .contact_directory(&officer_a, Some("BRUNO"), all())
        .await?;
    assert_eq!(ids(&dir.items, |c| &c.contact.id), set(&[&b_green.id]));
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
    assert!(!ids(&dir.items, |c| &c.contact.id).contains(&a_amber.id));
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
        ids(&dir.items, |c| &c.contact.id),
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
    assert_eq!(ids(&dir.items, |c| &c.contact.id), set(&[&a_amber.id]));
    assert_eq!(svc.registry().get_contact(&tok, &a_amber.id).await?.id, a_amber.id);
    assert_not_found(svc.registry().get_contact(&tok, &b_green.id).await);
    assert_not_found(svc.registry().get_contact(&tok, &b_amber.id).await);
    Ok(())
}

/// An object's history is read by whoever may read the object, through the audit trail of its owner:
/// a campaign's history is as closed as the campaign, and the trail of what belongs to no entity
/// (a sector, a deadline rule of a sector, a campaign) is the national authority's, with its staff's
/// e-mails, never an entity's.
async fn history_is_never_more_open_than_its_object(store: TestStore) -> TestResult {
    use baluarte_core::policy::Actor;
    use baluarte_core::service::{deadline_profiles, CampaignInput, DeadlineAssignment};
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (_, officer_a) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let (_, auditor_a) = fx.person(svc, &fx.a, Role::Auditor, "auditoria@cfe.example").await?;
    let (_, coordinator) = fx
        .person(svc, &fx.national_id, Role::Coordinator, "coordinacion@nacional.example")
        .await?;
    let (_, national_auditor) = fx
        .person(svc, &fx.national_id, Role::Auditor, "auditoria@nacional.example")
        .await?;
    let campaign = svc
        .incidents()
        .create_campaign(
            &coordinator,
            CampaignInput {
                name: "Campaña de ransomware contra hospitales".into(),
                description: String::new(),
                tlp: Tlp::Amber,
            },
        )
        .await?;
    let profile = deadline_profiles().first().ok_or("no deadline profile")?.id.clone();
    let rule = |entity_id: Option<&str>, sector_id: Option<&str>| DeadlineAssignment {
        id: String::new(),
        profile_id: profile.clone(),
        entity_id: entity_id.map(Into::into),
        sector_id: sector_id.map(Into::into),
        entity_kind: None,
    };
    let deadlines = svc.incidents();
    let sector_rule = deadlines
        .assign_deadline_profile(&coordinator, rule(None, Some("banca")))
        .await?;
    let own_rule = deadlines
        .assign_deadline_profile(&coordinator, rule(Some(&fx.a), None))
        .await?;
    let foreign_rule = deadlines
        .assign_deadline_profile(&coordinator, rule(Some(&fx.b), None))
        .await?;
    let history = |actor: &Actor, object_type: &'static str, id: String| {
        let actor = actor.clone();
        async move { svc.audit().object_history(&actor, object_type, &id).await }
    };

    // The objects: the campaign is the CSIRT's; sectors and deadline rules are read by everyone.
    assert_forbidden(svc.incidents().get_campaign(&officer_a, &campaign.id).await);
    assert!(svc
        .registry()
        .list_sectors(&officer_a)
        .await?
        .iter()
        .any(|s| s.id == "banca"));
    for actor in [&officer_a, &auditor_a] {
        assert_forbidden(history(actor, "campaign", campaign.id.clone()).await);
        assert_forbidden(history(actor, "sector", "banca".into()).await);
        assert_forbidden(history(actor, "deadline_assignment", sector_rule.id.clone()).await);
        assert_not_found(history(actor, "deadline_assignment", foreign_rule.id.clone()).await);
        // A rule about the entity itself is in the entity's own trail, as the audit list shows it.
        let own = history(actor, "deadline_assignment", own_rule.id.clone()).await?;
        assert_eq!(own.len(), 1, "{own:?}");
    }
    let listed = svc.audit().list_audit(&officer_a, None, None, all()).await?;
    assert!(
        listed.items.iter().all(|e| e.entity_id == fx.a),
        "the officer's list holds no national entry either"
    );

    // The coordinator reads the campaign, and so its history; the national auditor reads the
    // sector's and the rules' histories, but not the campaign's, which it may not read.
    let h = history(&coordinator, "campaign", campaign.id.clone()).await?;
    assert_eq!(
        h.first().map(|e| e.actor_label.as_str()),
        Some("coordinacion@nacional.example")
    );
    assert_forbidden(svc.incidents().get_campaign(&national_auditor, &campaign.id).await);
    assert_forbidden(history(&national_auditor, "campaign", campaign.id.clone()).await);
    assert!(!history(&national_auditor, "sector", "banca".into()).await?.is_empty());
    assert!(
        !history(&national_auditor, "deadline_assignment", sector_rule.id.clone())
            .await?
            .is_empty()
    );
    assert!(
        !history(&national_auditor, "deadline_assignment", foreign_rule.id.clone())
            .await?
            .is_empty()
    );
    Ok(())
}
