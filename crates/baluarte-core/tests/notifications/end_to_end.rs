//! A report reaches the national CSIRT by e-mail and by signed webhook.

use super::*;

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
        // The listeners are on loopback: allowed explicitly, as an operator allows a private network.
        ..allowing(&["127.0.0.1/32"])
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
    let deliverer = Deliverer::new(Some(baluarte_notify::Mailer::new(&smtp).unwrap()), svc.settings()).unwrap();
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
