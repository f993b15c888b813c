#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Notifications end to end: a report filed on the platform reaches the national CSIRT by e-mail through a
//! real SMTP server on loopback (aiosmtpd, the notify crate's sink) and by an HMAC-signed webhook to a real
//! HTTP listener; a failing endpoint is retried later, and nothing is sent for a write that was refused.
//! The outbox worker, on SQLite and PostgreSQL: a 4xx or a redirect is given up after one attempt and a
//! 5xx retried; a deactivated webhook is sent nothing; two servers over one database deliver each
//! message once; a dead worker's lease runs out. The webhook address policy: internal addresses are
//! refused at registration and at delivery unless their network is allowed.
//!
//! Every listener here is on loopback, an internal address: the tests that send to it allow 127.0.0.1
//! explicitly ([`allow_loopback`]), as an operator allows the private network its receivers are on.

#[path = "../common/mod.rs"]
mod common;

use baluarte_core::crypto::ServerKey;
use baluarte_core::db::Db;
use baluarte_core::error::FieldCode;
use baluarte_core::incident::{Pap, Severity};
use baluarte_core::model::{Role, Tlp};
use baluarte_core::service::{Deliverer, NewWebhook, ReportInput, Settings, WebhookInput};
use baluarte_core::time::MINUTE;
use baluarte_core::Services;
use baluarte_notify::AddressPolicy;
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

/// Settings whose webhook address policy allows `networks` besides the public addresses.
fn allowing(networks: &[&str]) -> Settings {
    Settings {
        webhook_addresses: AddressPolicy::allowing(networks).unwrap(),
        ..Settings::default()
    }
}

/// The same services with the listeners' address, 127.0.0.1, allowed for webhooks.
fn allow_loopback(svc: &Services) -> Services {
    svc.clone().with_settings(allowing(&["127.0.0.1/32"]))
}

/// The outbox's deliverer for webhooks, under the services' webhook address policy.
fn webhook_deliverer(svc: &Services) -> TestResult<Deliverer> {
    Ok(Deliverer::new(None, svc.settings())?)
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

mod addresses;
mod end_to_end;
mod outbox;
