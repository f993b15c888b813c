#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Notifications end to end: a report filed on the platform reaches the national CSIRT by e-mail through a
//! real SMTP server on loopback (aiosmtpd, the notify crate's sink) and by an HMAC-signed webhook to a real
//! HTTP listener; a failing endpoint is retried later, and nothing is sent for a write that was refused.
//! The outbox worker, on SQLite and PostgreSQL: a 4xx or a redirect is given up after one attempt and a
//! 5xx retried; a deactivated webhook is sent nothing; two servers over one database deliver each
//! message once; a dead worker's lease runs out.

mod common;

use baluarte_core::crypto::ServerKey;
use baluarte_core::db::Db;
use baluarte_core::incident::{Pap, Severity};
use baluarte_core::model::{Role, Tlp};
use baluarte_core::service::{Deliverer, NewWebhook, ReportInput, Settings, WebhookInput};
use baluarte_core::time::MINUTE;
use baluarte_core::Services;
use common::*;
use sqlx::Row;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A minimal HTTP/1.1 receiver: records each request's headers and body and answers with `status`.
async fn webhook_receiver(status: u16) -> (u16, tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            // One task per connection, so that concurrent workers really deliver concurrently.
            tokio::spawn(answer(sock, status, tx.clone()));
        }
    });
    (port, rx)
}

async fn answer(
    mut sock: tokio::net::TcpStream,
    status: u16,
    tx: tokio::sync::mpsc::UnboundedSender<(String, Vec<u8>)>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head, body_start, len) = loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..pos]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            break (head, pos + 4, len);
        }
    };
    while buf.len() < body_start + len {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let _ = tx.send((head, buf[body_start..].to_vec()));
    let location = if (300..400).contains(&status) {
        "location: http://127.0.0.1:9/elsewhere\r\n"
    } else {
        ""
    };
    let reply = format!("HTTP/1.1 {status} X\r\n{location}content-length: 0\r\nconnection: close\r\n\r\n");
    let _ = sock.write_all(reply.as_bytes()).await;
}

fn report() -> ReportInput {
    ReportInput {
        entity_id: None,
        title: "Intrusión en el portal de nómina".into(),
        description: "Acceso no autorizado detectado por el SOC.".into(),
        detected_at: baluarte_test_support::clock::rfc3339_hours_ago(3),
        occurred_at: None,
        rsit_class: "intrusions".into(),
        rsit_type: "application-compromise".into(),
        severity: Severity::High,
        tlp: Tlp::Amber,
        pap: Pap::Amber,
        affected_services: String::new(),
        affected_systems: String::new(),
        interruption_minutes: None,
        people_affected: None,
        data_compromised: false,
        personal_data: false,
        observables: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_reaches_the_csirt_by_email_and_signed_webhook() {
    if !baluarte_test_support::smtp_sink::available() {
        return;
    }
    let dir = TempDir::new("notify").unwrap();
    let db = Db::connect(&Db::sqlite_url(dir.path()))
        .await
        .unwrap()
        .with_clock(baluarte_test_support::clock::clock());
    let settings = Settings {
        email_enabled: true,
        public_url: Some("https://baluarte.example.gob.mx/".into()),
        ..Settings::default()
    };
    let svc = Services::new(db, ServerKey::load_or_create(dir.path()).unwrap(), settings);
    let fx = Fixture::new(&svc).await.unwrap();
    let (_, reporter) = fx
        .person(&svc, &fx.a, Role::Reporter, "reportes@cfe.example")
        .await
        .unwrap();
    fx.person(&svc, &fx.national_id, Role::CsirtAnalyst, "analista@nacional.example")
        .await
        .unwrap();

    // The national authority's webhooks: one that works, one that fails.
    let (ok_port, mut ok_rx) = webhook_receiver(204).await;
    let (bad_port, _bad_rx) = webhook_receiver(500).await;
    let events = vec!["incident.reported".to_string()];
    let good = svc
        .notifications()
        .create_webhook(
            &fx.admin,
            &fx.national_id,
            WebhookInput {
                url: format!("http://127.0.0.1:{ok_port}/hook"),
                events: events.clone(),
            },
        )
        .await
        .unwrap();
    svc.notifications()
        .create_webhook(
            &fx.admin,
            &fx.national_id,
            WebhookInput {
                url: format!("http://127.0.0.1:{bad_port}/hook"),
                events,
            },
        )
        .await
        .unwrap();
    assert_invalid_field(
        svc.notifications()
            .create_webhook(
                &fx.admin,
                &fx.national_id,
                WebhookInput {
                    url: "ftp://x.example".into(),
                    events: vec!["incident.reported".into()],
                },
            )
            .await,
        "url",
    );

    // A refused report sends nothing.
    let mut bad = report();
    bad.rsit_type = "nope".into();
    assert!(svc.incidents().file_report(&reporter, bad, "web", None).await.is_err());
    assert_eq!(count(svc.db(), "outbox").await.unwrap(), 0);

    let filed = svc
        .incidents()
        .file_report(&reporter, report(), "web", None)
        .await
        .unwrap();

    // Deliver through a real SMTP server.
    let mail_dir = TempDir::new("mail").unwrap();
    let sink = baluarte_test_support::smtp_sink::start(mail_dir.path()).await;
    let port = sink.port;
    let smtp: baluarte_notify::SmtpConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"avisos@csirt.example.mx\"\n"
    ))
    .unwrap();
    let deliverer = Deliverer {
        mailer: Some(baluarte_notify::Mailer::new(&smtp).unwrap()),
        http: baluarte_notify::webhook::client().unwrap(),
    };
    let report = svc.notifications().deliver_outbox(&deliverer, 100).await.unwrap();
    assert_eq!(
        (report.delivered, report.retried, report.failed),
        (2, 1, 0),
        "{report:?}"
    );

    // The analyst's e-mail, in Spanish, names the incident.
    let mut mails = baluarte_test_support::smtp_sink::received(mail_dir.path());
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = mails.remove(0);
    let text = mail.to_string();
    assert!(text.contains("analista@nacional.example"), "{text}");
    assert!(
        text.contains("Nuevo incidente reportado") && text.contains(&filed.incident.reference),
        "{text}"
    );
    // The link in the e-mail leads to the incident at the platform's public address.
    let link = format!("https://baluarte.example.gob.mx/incidents/{}", filed.incident.id);
    assert!(text.contains(&link), "{text}");

    // The webhook body arrived signed with the webhook's secret.
    let (head, body) = ok_rx.recv().await.unwrap();
    let sig = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("x-baluarte-signature:")
                .or_else(|| l.strip_prefix("X-Baluarte-Signature:"))
        })
        .unwrap()
        .trim()
        .to_string();
    let now = svc.now() / 1_000_000;
    baluarte_notify::webhook::verify(good.secret.as_bytes(), &sig, &body, now, 300).unwrap();
    assert!(baluarte_notify::webhook::verify(b"another secret", &sig, &body, now, 300).is_err());
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["event"], "incident.reported");
    assert_eq!(payload["incident_id"], filed.incident.id.as_str());

    // The failing endpoint waits for its retry: nothing is due now, and the row keeps the error.
    let again = svc.notifications().deliver_outbox(&deliverer, 100).await.unwrap();
    assert_eq!((again.delivered, again.retried, again.failed), (0, 0, 0));
    let rows = text_rows(
        svc.db(),
        "SELECT CAST(attempts AS TEXT), last_error FROM outbox WHERE delivered_at IS NULL",
        2,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0].as_deref(), Some("1"));
    assert!(rows[0][1].as_deref().unwrap_or_default().contains("500"), "{rows:?}");
    drop(sink);
}

// ----- the outbox worker: kinds of failure, deactivated webhooks, concurrent workers -----

conformance!(
    non_retryable_failures_stop_at_once,
    a_deactivated_webhook_is_sent_nothing,
    two_workers_deliver_each_message_once,
    a_crashed_workers_lease_expires,
);

/// A webhook of the national authority for `incident.reported`, to a loopback listener.
async fn national_hook(svc: &Services, fx: &Fixture, port: u16, path: &str) -> TestResult<NewWebhook> {
    Ok(svc
        .notifications()
        .create_webhook(
            &fx.admin,
            &fx.national_id,
            WebhookInput {
                url: format!("http://127.0.0.1:{port}/{path}"),
                events: vec!["incident.reported".into()],
            },
        )
        .await?)
}

fn webhook_deliverer() -> TestResult<Deliverer> {
    Ok(Deliverer {
        mailer: None,
        http: baluarte_notify::webhook::client()?,
    })
}

/// The delivery ids of the requests a listener has received so far. A delivery pass awaits each answer,
/// and the listener records a request before answering, so after the pass nothing is still on its way.
fn received(rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>) -> Vec<String> {
    let mut ids = Vec::new();
    while let Ok((head, _)) = rx.try_recv() {
        let id = head.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-baluarte-delivery")
                .then(|| value.trim().to_string())
        });
        ids.push(id.unwrap_or_default());
    }
    ids
}

/// The outbox row of a webhook: attempts, failed_at, last_error, and next_attempt_at - created_at.
async fn outbox_row(svc: &Services, webhook_id: &str) -> TestResult<(i64, Option<i64>, String, i64)> {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT attempts, failed_at, last_error, next_attempt_at - created_at AS wait FROM outbox WHERE target = $1",
    )
    .bind(webhook_id)
    .fetch_one(svc.db().pool())
    .await?;
    Ok((
        r.try_get("attempts")?,
        r.try_get("failed_at")?,
        r.try_get::<Option<String>, _>("last_error")?.unwrap_or_default(),
        r.try_get("wait")?,
    ))
}

/// Let time pass until every pending row is due (the worker reads the services' clock).
async fn make_pending_due(svc: &Services) -> TestResult {
    let last: Option<i64> =
        sqlx::query("SELECT MAX(next_attempt_at) AS at FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL")
            .fetch_one(svc.db().pool())
            .await?
            .try_get("at")?;
    if let Some(at) = last.filter(|at| *at > svc.now()) {
        svc.clock().set(at);
    }
    Ok(())
}

async fn non_retryable_failures_stop_at_once(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let fx = Fixture::new(svc).await?;
    let (_, reporter) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (p400, mut rx400) = webhook_receiver(400).await;
    let (p301, mut rx301) = webhook_receiver(301).await;
    let (p500, mut rx500) = webhook_receiver(500).await;
    let h400 = national_hook(svc, &fx, p400, "bad-request").await?.webhook.id;
    let h301 = national_hook(svc, &fx, p301, "moved").await?.webhook.id;
    let h500 = national_hook(svc, &fx, p500, "broken").await?.webhook.id;
    svc.incidents().file_report(&reporter, report(), "web", None).await?;

    let deliverer = webhook_deliverer()?;
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
    let svc = &store.svc;
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
    let report = svc.notifications().deliver_outbox(&webhook_deliverer()?, 100).await?;
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
    let svc = &store.svc;
    // A second server over the same database.
    let other = open_services(svc.db().url().expose(), &store.data_dir).await?;
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

    let (mine, theirs) = (webhook_deliverer()?, webhook_deliverer()?);
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
    let svc = &store.svc;
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
    let deliverer = webhook_deliverer()?;
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
