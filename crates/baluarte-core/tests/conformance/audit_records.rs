//! 5. Audit trail: every write is recorded, with its before and after.

use super::*;

conformance!(audit_records_every_write,);

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
    let report = audit::verify_chain(svc.db(), &key).await?;
    assert_eq!(report.broken, None);
    assert_eq!(report.entries, count(svc.db(), "audit_log").await?);
    assert_eq!(report.head_seq, report.entries);
    let seq = svc.audit().audit_checkpoint().await?.ok_or("checkpoint")?;
    assert_eq!(seq, report.head_seq);
    assert_eq!(svc.audit().audit_checkpoint().await?, None, "nothing new to sign");
    let report = svc.audit().verify_audit(admin).await?;
    assert_eq!((report.broken, report.checkpoints), (None, 1));
    // Verifying against another key fails at the checkpoint.
    let other = audit::verify_chain(svc.db(), &ServerKey::generate().public_hex()).await?;
    assert_eq!(other.broken.map(|b| b.seq), Some(seq));
    Ok(())
}
