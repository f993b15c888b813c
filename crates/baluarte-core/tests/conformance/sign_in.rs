//! 4b. Sign-in hardening: both factors are throttled, the count is atomic, the lockout's time is the
//! real one, and switching a user to the state it is already in changes nothing.

use super::*;
use baluarte_core::service::Settings;
use baluarte_core::time::MINUTE;

conformance!(
    second_factor_guesses_count_against_the_account,
    concurrent_wrong_passwords_are_counted_before_they_are_verified,
    retry_after_is_the_longest_lockout_that_applies,
    switching_a_user_to_its_current_state_is_a_no_op,
);

/// The strict limit of the default settings: failures for one account from one address.
const LIMIT: usize = 5;
const WRONG: &str = "wrong horse battery staple";

/// A code of the authenticator that is certainly not valid now (nor a step either side).
fn wrong_code(svc: &Services, secret: &str) -> TestResult<String> {
    let code: u32 = totp::code_at(secret, svc.now())?.parse()?;
    Ok(format!("{:06}", (code + 500_000) % 1_000_000))
}

/// Enrol `actor`'s second factor; its secret.
async fn enrol(svc: &Services, actor: &baluarte_core::policy::Actor) -> TestResult<String> {
    let enrolment = svc.accounts().begin_totp_enrolment(actor).await?;
    svc.accounts()
        .confirm_totp_enrolment(actor, None, &totp::code_at(&enrolment.secret, svc.now())?)
        .await?;
    Ok(enrolment.secret)
}

async fn audit_count(svc: &Services) -> TestResult<i64> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log")
        .fetch_one(svc.db().pool())
        .await?)
}

/// Whoever knows the password cannot guess the second factor without limit: a correct password clears
/// nothing until the whole sign-in succeeds, and wrong codes count like wrong passwords.
async fn second_factor_guesses_count_against_the_account(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (officer, actor) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let secret = enrol(svc, &actor).await?;

    let (mut refused, mut throttled) = (0, 0);
    for attempt in 0..40 {
        let outcome = match svc.accounts().login(&officer.email, PASSWORD, IP).await {
            Ok(login) => {
                assert_eq!(login.stage, SessionStage::Totp);
                svc.accounts()
                    .complete_totp(&login.secret, &wrong_code(svc, &secret)?, IP)
                    .await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Err(CoreError::Invalid(_)) => {
                assert_eq!(throttled, 0, "attempt {attempt}: a wrong code after the lockout began");
                refused += 1;
            }
            Err(CoreError::TooManyAttempts { .. }) => throttled += 1,
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    assert_eq!((refused, throttled), (LIMIT, 40 - LIMIT), "wrong codes then refusals");

    // The owner, elsewhere, still signs in with both factors: the strict limit is per account and address.
    let elsewhere = "198.51.100.7";
    let login = svc.accounts().login(&officer.email, PASSWORD, elsewhere).await?;
    svc.accounts()
        .complete_totp(&login.secret, &totp_code(svc, &secret, 1)?, elsewhere)
        .await?;
    assert_eq!(svc.accounts().session(&login.secret).await?.stage, SessionStage::Full);
    // That does not reopen the address the guesses came from.
    assert!(matches!(
        svc.accounts().login(&officer.email, PASSWORD, IP).await,
        Err(CoreError::TooManyAttempts { .. })
    ));
    Ok(())
}

/// Many wrong passwords at once: the attempts are counted before Argon2 runs, so no more than the limit
/// reach it, for one account and for one address.
async fn concurrent_wrong_passwords_are_counted_before_they_are_verified(store: TestStore) -> TestResult {
    let fx = Fixture::new(&store.svc).await?;
    let (reporter, _) = fx
        .person(&store.svc, &fx.a, Role::Reporter, "reportes@cfe.example")
        .await?;

    async fn race(svc: &Services, attempts: Vec<(String, &'static str)>) -> TestResult<(usize, usize)> {
        let tasks: Vec<_> = attempts
            .into_iter()
            .map(|(email, ip)| {
                let svc = svc.clone();
                tokio::spawn(async move { svc.accounts().login(&email, WRONG, ip).await.map(|_| ()) })
            })
            .collect();
        let (mut verified, mut throttled) = (0, 0);
        for t in tasks {
            match t.await? {
                Err(CoreError::Unauthenticated) => verified += 1,
                Err(CoreError::TooManyAttempts { .. }) => throttled += 1,
                other => panic!("{other:?}"),
            }
        }
        Ok((verified, throttled))
    }

    let one_account = (0..64).map(|_| (reporter.email.clone(), IP)).collect();
    assert_eq!(race(&store.svc, one_account).await?, (LIMIT, 64 - LIMIT));

    let strict = Services::new(
        store.svc.db().clone(),
        store.svc.server_key().clone(),
        Settings {
            max_failures_per_ip: 8,
            ..Settings::default()
        },
    );
    let one_address = (0..32)
        .map(|i| (format!("nadie{i}@cfe.example"), "198.51.100.77"))
        .collect();
    assert_eq!(race(&strict, one_address).await?, (8, 24));
    Ok(())
}

/// `retry_after_secs` is the time until every lockout that applies has lifted: the longest of them.
async fn retry_after_is_the_longest_lockout_that_applies(store: TestStore) -> TestResult {
    let svc = Services::new(
        store.svc.db().clone(),
        store.svc.server_key().clone(),
        Settings {
            max_failures_per_account: 6,
            max_failures_per_ip: 4,
            lockout_window: 15 * MINUTE,
            ..Settings::default()
        },
    );
    let fx = Fixture::new(&svc).await?;
    let (reporter, _) = fx.person(&svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let retry = |r: Result<baluarte_core::service::LoginOutcome, CoreError>| match r {
        Err(CoreError::TooManyAttempts { retry_after_secs }) => retry_after_secs,
        other => panic!("expected TooManyAttempts, got {other:?}"),
    };

    // At 0: six failures for the account, three from each of two addresses, lock it until 15 min.
    for ip in ["198.51.100.2", "198.51.100.3"] {
        for _ in 0..3 {
            assert_unauthenticated(svc.accounts().login(&reporter.email, WRONG, ip).await);
        }
    }
    // At 10 min: four failures from a third address, for accounts that do not exist, lock that address
    // until 25 min.
    svc.clock().advance(10 * MINUTE);
    for i in 0..4 {
        assert_unauthenticated(
            svc.accounts()
                .login(&format!("nadie{i}@cfe.example"), WRONG, "198.51.100.4")
                .await,
        );
    }
    // At 11 min, the account from the locked address waits for the address (14 min), not 4 min.
    svc.clock().advance(MINUTE);
    assert_eq!(
        retry(svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.4").await),
        14 * 60
    );
    // From any other address, only the account's lockout applies.
    assert_eq!(
        retry(svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.5").await),
        4 * 60
    );
    // Four minutes later the account opens, and the address still waits what was said.
    svc.clock().advance(4 * MINUTE);
    svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.5").await?;
    assert_eq!(
        retry(svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.4").await),
        10 * 60
    );
    svc.clock().advance(10 * MINUTE);
    svc.accounts().login(&reporter.email, PASSWORD, "198.51.100.4").await?;
    Ok(())
}

/// Reactivating an active user, or deactivating an inactive one, ends no session and writes no audit
/// entry; racing deactivations write one.
async fn switching_a_user_to_its_current_state_is_a_no_op(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (reporter, _) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let theirs = svc.accounts().login(&reporter.email, PASSWORD, IP).await?;
    let own = svc.accounts().login(&fx.admin_user.email, PASSWORD, IP).await?;

    let entries = audit_count(svc).await?;
    assert!(svc.users().set_user_active(&fx.admin, &reporter.id, true).await?.active);
    assert!(
        svc.users()
            .set_user_active(&fx.admin, &fx.admin_user.id, true)
            .await?
            .active
    );
    assert!(
        svc.accounts().session(&theirs.secret).await.is_ok(),
        "their session goes on"
    );
    assert!(svc.accounts().session(&own.secret).await.is_ok(), "and one's own");
    assert_eq!(audit_count(svc).await?, entries, "nothing changed, nothing is audited");

    // Deactivated once, then again: the second succeeds and writes nothing.
    assert!(
        !svc.users()
            .set_user_active(&fx.admin, &reporter.id, false)
            .await?
            .active
    );
    assert_unauthenticated(svc.accounts().session(&theirs.secret).await);
    assert_eq!(audit_count(svc).await?, entries + 1);
    assert!(
        !svc.users()
            .set_user_active(&fx.admin, &reporter.id, false)
            .await?
            .active
    );
    assert_eq!(audit_count(svc).await?, entries + 1);

    // Reactivated (one entry), then deactivated by four administrators at once: one entry.
    svc.users().set_user_active(&fx.admin, &reporter.id, true).await?;
    assert_eq!(audit_count(svc).await?, entries + 2);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (svc, admin, id) = (svc.clone(), fx.admin.clone(), reporter.id.clone());
            tokio::spawn(async move { svc.users().set_user_active(&admin, &id, false).await })
        })
        .collect();
    for t in tasks {
        assert!(!t.await??.active);
    }
    assert_eq!(audit_count(svc).await?, entries + 3);
    Ok(())
}
