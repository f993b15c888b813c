//! The webhook address policy: a webhook never reaches an internal address (SSRF) unless an administrator
//! allowed its network, neither when it is registered nor when it is delivered (the name may resolve
//! otherwise by then: DNS rebinding).

use super::*;
use baluarte_core::CoreError;

conformance!(
    registration_refuses_internal_addresses,
    delivery_refuses_internal_addresses_stored_earlier,
);

fn hook_input(url: &str) -> WebhookInput {
    WebhookInput {
        url: url.into(),
        events: vec!["incident.reported".into()],
    }
}

/// The code and the `range` parameter of the error on `url`, or a panic naming what came instead.
#[track_caller]
fn url_refusal<T: std::fmt::Debug>(r: Result<T, CoreError>, url: &str) -> (FieldCode, String) {
    match r {
        Err(CoreError::Invalid(fields)) => {
            let f = fields
                .iter()
                .find(|f| f.field == "url")
                .unwrap_or_else(|| panic!("{url}: no error on url: {fields:?}"));
            (f.code, f.param("range").unwrap_or_default())
        }
        other => panic!("{url}: expected an error on url, got {other:?}"),
    }
}

/// An entity's officer (here, its administrator) cannot register a webhook to an internal address, however
/// the URL spells it; a public one, or one inside an allowed network, is accepted.
async fn registration_refuses_internal_addresses(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (_, officer) = fx
        .person(svc, &fx.a, Role::SecurityOfficer, "oficial@cfe.example")
        .await?;
    let audit_before = count(svc.db(), "audit_log").await?;
    for (url, range) in [
        ("http://169.254.169.254/latest/meta-data/", "link_local"),
        ("http://[::1]:5432/", "loopback"),
        ("http://localhost:6379/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("https://172.16.5.4/", "private"),
        ("http://192.168.1.10:8080/", "private"),
        ("http://100.64.0.1/", "shared"),
        ("http://0.0.0.0:8080/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.251/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://255.255.255.255/", "broadcast"),
        ("http://[fd00::1]/", "unique_local"),
        ("http://[fe80::1]/", "link_local"),
        ("http://[::ffff:169.254.169.254]/", "link_local"),
        ("http://[::ffff:127.0.0.1]:6379/", "loopback"),
        ("http://[64:ff9b::a00:1]/", "private"),
        ("http://2130706433/", "loopback"),
        ("http://0x0a.0.0.1/", "private"),
        ("http://192.0.2.1/", "documentation"),
        ("http://198.18.0.1/", "benchmarking"),
        ("http://240.0.0.1/", "reserved"),
    ] {
        let r = svc
            .notifications()
            .create_webhook(&officer, &fx.a, hook_input(url))
            .await;
        assert_eq!(
            url_refusal(r, url),
            (FieldCode::InternalAddress, range.to_string()),
            "{url}"
        );
    }
    assert_eq!(count(svc.db(), "webhooks").await?, 0);
    assert_eq!(count(svc.db(), "audit_log").await?, audit_before);

    // Public addresses are accepted, and so is a name that does not resolve now (delivery checks it).
    for url in ["https://8.8.8.8/hooks/baluarte", "https://hooks.csirt.invalid/in"] {
        svc.notifications()
            .create_webhook(&officer, &fx.a, hook_input(url))
            .await?;
    }
    // An allowed network is accepted, and only that network.
    let allowed = svc.clone().with_settings(allowing(&["10.20.0.0/16"]));
    allowed
        .notifications()
        .create_webhook(&officer, &fx.a, hook_input("http://10.20.1.5:8443/in"))
        .await?;
    for url in ["http://10.21.0.1/", "http://169.254.169.254/"] {
        let r = allowed
            .notifications()
            .create_webhook(&officer, &fx.a, hook_input(url))
            .await;
        assert_eq!(url_refusal(r, url).0, FieldCode::InternalAddress, "{url}");
    }
    assert_eq!(count(svc.db(), "webhooks").await?, 3);
    Ok(())
}

/// Webhooks whose address was accepted earlier (registered while their network was allowed, or stored
/// by other means) are not sent to once the allowance is gone: the client resolves the name, checks the
/// address and connects only to a checked one. The delivery fails for good, at once, and the listener
/// sees nothing. With the allowance the same webhooks are delivered.
async fn delivery_refuses_internal_addresses_stored_earlier(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (_, reporter) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (port, mut rx) = webhook_receiver(204).await;

    // A name resolving to loopback, registered while loopback was allowed (both families, since `localhost`
    // may resolve to ::1 as well).
    let by_name = svc
        .clone()
        .with_settings(allowing(&["127.0.0.1/32", "::1/128"]))
        .notifications()
        .create_webhook(
            &fx.admin,
            &fx.national_id,
            hook_input(&format!("http://localhost:{port}/by-name")),
        )
        .await?
        .webhook
        .id;
    // An address stored behind the services' back (an old row, a restored backup).
    let by_address = "stored-before-the-policy";
    sqlx::query("INSERT INTO webhooks (id, entity_id, url, secret, events, active, created_by, created_at) VALUES ($1, $2, $3, 'whs_prueba', 'incident.reported', 1, 'test', $4)")
        .bind(by_address)
        .bind(&fx.national_id)
        .bind(format!("http://127.0.0.1:{port}/by-address"))
        .bind(svc.now())
        .execute(svc.db().pool())
        .await?;
    svc.incidents().file_report(&reporter, report(), "web", None).await?;

    // The allowance is gone (the services' settings are the default: public addresses only).
    let report_now = svc
        .notifications()
        .deliver_outbox(&webhook_deliverer(svc)?, 100)
        .await?;
    assert_eq!(
        (report_now.delivered, report_now.retried, report_now.failed),
        (0, 0, 2),
        "{report_now:?}"
    );
    assert_eq!(received(&mut rx), Vec::<String>::new());
    for hook in [by_name.as_str(), by_address] {
        let (attempts, failed_at, error, _) = outbox_row(svc, hook).await?;
        assert_eq!((attempts, failed_at.is_some()), (1, true), "{hook}: {error}");
        // (`localhost` may name ::1 first: the address is checked only for the stored one.)
        assert!(
            error.contains("loopback") && error.contains("allow_networks"),
            "{hook}: {error}"
        );
        assert!(hook != by_address || error.contains("127.0.0.1"), "{error}");
    }
    // Nothing is left to retry.
    make_pending_due(svc).await?;
    let later = svc
        .notifications()
        .deliver_outbox(&webhook_deliverer(svc)?, 100)
        .await?;
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(received(&mut rx), Vec::<String>::new());

    // With 127.0.0.1 allowed, the next report reaches both, the name resolved and checked by the client.
    let allowed = allow_loopback(svc);
    allowed
        .incidents()
        .file_report(&reporter, report(), "web", None)
        .await?;
    let delivered = allowed
        .notifications()
        .deliver_outbox(&webhook_deliverer(&allowed)?, 100)
        .await?;
    assert_eq!(
        (delivered.delivered, delivered.retried, delivered.failed),
        (2, 0, 0),
        "{delivered:?}"
    );
    assert_eq!(received(&mut rx).len(), 2);
    Ok(())
}
