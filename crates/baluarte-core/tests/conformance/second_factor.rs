//! 4b. Accounts: the TOTP second factor, enrolment, sign-in with it, and a code accepted once.

use super::*;

conformance!(totp_second_factor, totp_code_is_accepted_once_even_when_raced,);

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
