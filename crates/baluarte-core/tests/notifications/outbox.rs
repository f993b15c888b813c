//! The outbox worker: kinds of failure, deactivated webhooks, concurrent workers, leases.

use super::*;

conformance!(
    non_retryable_failures_stop_at_once,
    a_deactivated_webhook_is_sent_nothing,
    two_workers_deliver_each_message_once,
    a_crashed_workers_lease_expires,
);

async fn non_retryable_failures_stop_at_once(store: TestStore) -> TestResult {
    let svc = &allow_loopback(&store.svc);
    let fx = Fixture::new(svc).await?;
    let (_, reporter) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (p400, mut rx400) = webhook_receiver(400).await;
    let (p301, mut rx301) = webhook_receiver(301).await;
    let (p500, mut rx500) = webhook_receiver(500).await;
    let h400 = national_hook(svc, &fx, p400, "bad-request").await?.webhook.id;
    let h301 = national_hook(svc, &fx, p301, "moved").await?.webhook.id;
    let h500 = national_hook(svc, &fx, p500, "broken").await?.webhook.id;
    svc.incidents().file_report(&reporter, report(), "web", None).await?;

    let deliverer = webhook_deliverer(svc)?;
    let first = svc.notifications().deliver_outbox(&deliverer, 100).await?;
    assert_eq!((first.delivered, first.retried, first.failed), (0, 1, 2), "{first:?}");
    make_pending_due(svc).await?;
    let second = svc.notifications().deliver_outbox(&deliverer, 100).await?;
    assert_eq!(
        (second.delivered, second.retried, second.failed),
        (0, 1, 0),
        "{second:?}"
    );

    // A 400 and a redirect are refused the same way every time: one attempt, failed, the reason kept.
    assert_eq!(received(&mut rx400).len(), 1);
    assert_eq!(received(&mut rx301).len(), 1);
    let (attempts, failed_at, error, _) = outbox_row(svc, &h400).await?;
    assert_eq!((attempts, failed_at.is_some()), (1, true), "{error}");
    assert!(error.contains("HTTP 400"), "{error}");
    let (attempts, failed_at, error, _) = outbox_row(svc, &h301).await?;
    assert_eq!((attempts, failed_at.is_some()), (1, true), "{error}");
    assert!(error.contains("HTTP 301") && error.contains("redirect"), "{error}");
    // A 500 may pass later: tried twice, still pending, the next try 5 minutes after the second failure.
    assert_eq!(received(&mut rx500).len(), 2);
    let (attempts, failed_at, error, wait) = outbox_row(svc, &h500).await?;
    assert_eq!((attempts, failed_at), (2, None), "{error}");
    assert!(error.contains("HTTP 500"), "{error}");
    assert!(wait >= 5 * 60 * 1_000_000, "next attempt {wait} µs after creation");
    Ok(())
}

async fn a_deactivated_webhook_is_sent_nothing(store: TestStore) -> TestResult {
    let svc = &allow_loopback(&store.svc);
    let fx = Fixture::new(svc).await?;
    let (_, reporter) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (port, mut rx) = webhook_receiver(204).await;
    let by_api = national_hook(svc, &fx, port, "by-api").await?.webhook.id;
    let in_flight = national_hook(svc, &fx, port, "in-flight").await?.webhook.id;
    svc.incidents().file_report(&reporter, report(), "web", None).await?;
    assert_eq!(count(svc.db(), "outbox").await?, 2);

    // Deactivating cancels the pending delivery in the same transaction, and is audited.
    svc.notifications().deactivate_webhook(&fx.admin, &by_api).await?;
    let (attempts, failed_at, error, _) = outbox_row(svc, &by_api).await?;
    assert_eq!((attempts, failed_at.is_some()), (0, true), "{error}");
    assert!(error.contains("webhook deactivated"), "{error}");
    let audited = text_rows(
        svc.db(),
        &format!("SELECT action FROM audit_log WHERE object_type = 'webhook' AND object_id = '{by_api}' ORDER BY seq"),
        1,
    )
    .await?;
    assert_eq!(
        audited,
        [[Some("create".to_string())], [Some("deactivate".to_string())]]
    );

    // A row a worker had already picked up when its webhook was deactivated: the worker looks again
    // before sending (simulated by deactivating behind the service's back, so the row stays pending).
    sqlx::query("UPDATE webhooks SET active = 0 WHERE id = $1")
        .bind(&in_flight)
        .execute(svc.db().pool())
        .await?;
    let report = svc
        .notifications()
        .deliver_outbox(&webhook_deliverer(svc)?, 100)
        .await?;
    assert_eq!(received(&mut rx), Vec::<String>::new(), "{report:?}");
    assert_eq!(
        (report.delivered, report.retried, report.failed, report.cancelled),
        (0, 0, 0, 1),
        "{report:?}"
    );
    let (attempts, failed_at, error, _) = outbox_row(svc, &in_flight).await?;
    assert_eq!((attempts, failed_at.is_some()), (0, true), "{error}");
    assert!(error.contains("webhook deactivated"), "{error}");
    Ok(())
}

async fn two_workers_deliver_each_message_once(store: TestStore) -> TestResult {
    let svc = &allow_loopback(&store.svc);
    // A second server over the same database.
    let other = allow_loopback(&open_services(svc.db().url().expose(), &store.data_dir).await?);
    let fx = Fixture::new(svc).await?;
    let (_, reporter) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (port, mut rx) = webhook_receiver(204).await;
    for i in 0..8 {
        national_hook(svc, &fx, port, &format!("hook-{i}")).await?;
    }
    for _ in 0..3 {
        svc.incidents().file_report(&reporter, report(), "web", None).await?;
    }
    let total = 24;
    assert_eq!(count(svc.db(), "outbox").await?, total);

    let (mine, theirs) = (webhook_deliverer(svc)?, webhook_deliverer(&other)?);
    let mut delivered = 0;
    for _ in 0..10 {
        let (a, b) = tokio::join!(
            svc.notifications().deliver_outbox(&mine, 4),
            other.notifications().deliver_outbox(&theirs, 4)
        );
        let (a, b) = (a?, b?);
        assert_eq!((a.retried, a.failed, b.retried, b.failed), (0, 0, 0, 0), "{a:?} {b:?}");
        delivered += a.delivered + b.delivered;
    }
    let mut ids = received(&mut rx);
    assert_eq!(ids.len(), usize::try_from(total)?, "deliveries seen by the listener");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), usize::try_from(total)?, "distinct delivery ids");
    assert_eq!(delivered, ids.len());
    other.db().close().await;
    Ok(())
}

async fn a_crashed_workers_lease_expires(store: TestStore) -> TestResult {
    let svc = &allow_loopback(&store.svc);
    let fx = Fixture::new(svc).await?;
    let (_, reporter) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (port, mut rx) = webhook_receiver(204).await;
    national_hook(svc, &fx, port, "hook").await?;
    svc.incidents().file_report(&reporter, report(), "web", None).await?;

    // Another worker claimed the row a minute ago and died: its ten-minute lease keeps the row from us.
    sqlx::query("UPDATE outbox SET claimed_by = 'crashed-worker', lease_until = $1")
        .bind(svc.now() + 9 * MINUTE)
        .execute(svc.db().pool())
        .await?;
    let deliverer = webhook_deliverer(svc)?;
    let held = svc.notifications().deliver_outbox(&deliverer, 100).await?;
    assert_eq!(held.delivered, 0, "{held:?}");
    assert!(received(&mut rx).is_empty());

    svc.clock().advance(8 * MINUTE);
    assert_eq!(
        svc.notifications().deliver_outbox(&deliverer, 100).await?.delivered,
        0,
        "still leased"
    );
    // Once the lease has run out the row is claimed again and delivered.
    svc.clock().advance(MINUTE);
    let freed = svc.notifications().deliver_outbox(&deliverer, 100).await?;
    assert_eq!(freed.delivered, 1, "{freed:?}");
    assert_eq!(received(&mut rx).len(), 1);
    let rows = text_rows(
        svc.db(),
        "SELECT claimed_by, CAST(lease_until AS TEXT) FROM outbox WHERE delivered_at IS NOT NULL",
        2,
    )
    .await?;
    assert_eq!(rows, [[None, None]], "the lease is released with the outcome");
    Ok(())
}
