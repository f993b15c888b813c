//! 4. Accounts: login, throttling, deactivation, API tokens (the second factor is in `second_factor`).

use super::*;

conformance!(
    national_seats_are_changed_only_by_administrators,
    login_and_throttling,
    deactivation_ends_access,
    api_token_lifecycle,
);

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

    // Five failures from one address lock the account there, even against the right password; from
    // another address the owner still signs in (one guesser does not lock the owner out everywhere).
    for _ in 0..5 {
        assert_unauthenticated(
            svc.accounts()
                .login(&reporter.email, "wrong horse battery staple", "198.51.100.1")
                .await,
        );
    }
    match svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.1").await {
        Err(CoreError::TooManyAttempts { retry_after_secs }) => assert_eq!(retry_after_secs, 15 * 60),
        other => panic!("expected TooManyAttempts, got {other:?}"),
    }
    svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.2").await?;
    // Twenty failures spread over addresses lock the account from every address.
    for i in 0..15 {
        let ip = format!("198.51.100.{}", 10 + i / 4);
        assert_unauthenticated(
            svc.accounts()
                .login(&reporter.email, "wrong horse battery staple", &ip)
                .await,
        );
    }
    for ip in ["198.51.100.2", "198.51.100.99"] {
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

    // Reactivating an active account changes nothing for its sessions: only deactivation ends them
    // (one's own account included, which the API lets a person "reactivate").
    let open = svc.accounts().login(&officer.email, PASSWORD, IP).await?;
    svc.users().set_user_active(&fx.admin, &officer.id, true).await?;
    svc.users().set_user_active(&officer_actor, &officer.id, true).await?;
    assert_eq!(svc.accounts().session(&open.secret).await?.user.id, officer.id);

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
