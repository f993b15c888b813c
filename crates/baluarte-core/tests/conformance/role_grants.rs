//! 3. Role grants: who may give which role, and change which account.

use super::*;

conformance!(role_grants_stay_within_bounds,);

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
