//! The incident pages as people use them, over HTTP with a browser-like client: an entity's reporter files
//! a report through the guided form and follows it; the national CSIRT triages, asks and closes; the
//! deadline state moves with each stage; other entities see nothing; the CSV export, the board, the
//! printable report, notices and uploads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use baluarte_core::crypto::totp;
use baluarte_core::model::PageRequest;
use baluarte_core::service::IncidentFilter;
use common::*;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};

const BOUNDARY: &str = "----baluarte-test-boundary-7d1f";

/// A browser-like client for a national role: password, then the TOTP enrolment page, then the code.
async fn national_login(base: &str, email: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        "/account/totp",
        "a national role enrols a second factor first"
    );
    let html = c
        .get(format!("{base}/account/totp"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret = regex_lite::Regex::new(r#"id="totp-secret">([A-Z2-7]+)<"#)
        .unwrap()
        .captures(&html)
        .expect("the enrolment page shows the secret")[1]
        .to_string();
    let code = totp::code_at(&secret, baluarte_test_support::clock::start()).unwrap();
    let r = c
        .post(format!("{base}/account/totp"))
        .form(&[("_csrf", csrf_of(&html).as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "TOTP enrolment of {email}");
    let html = c
        .get(format!("{base}/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (c, csrf_of(&html))
}

/// A multipart body as a browser sends it: text fields in order, then an optional file.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    if let Some((name, filename, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(c: &reqwest::Client, url: &str, body: Vec<u8>) -> reqwest::Response {
    c.post(url)
        .header(CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap()
}

/// An hour before the test clock's start, as a `datetime-local` field in Mexico City.
fn an_hour_ago() -> String {
    let tz = jiff::tz::TimeZone::get("America/Mexico_City").unwrap();
    (baluarte_core::time::to_timestamp(baluarte_test_support::clock::start()) - jiff::SignedDuration::from_hours(1))
        .to_zoned(tz)
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

fn report_fields<'a>(
    csrf: &'a str,
    title: &'a str,
    detected: &'a str,
    observables: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("entity_id", ""),
        ("title", title),
        (
            "description",
            "Se detectó cifrado de archivos en dos servidores de nómina.\nSe aislaron de la red.",
        ),
        ("detected_at", detected),
        ("occurred_at", ""),
        ("rsit", "malicious-code/infected-system"),
        ("severity", "high"),
        ("tlp", "AMBER+STRICT"),
        ("pap", "AMBER"),
        ("affected_services", "Nómina"),
        ("affected_systems", "srv-nomina-01, srv-nomina-02"),
        ("interruption_minutes", "90"),
        ("people_affected", ""),
        ("personal_data", "1"),
        ("observables", observables),
    ]
}

/// File a report through the form; returns the incident's id.
async fn file(c: &reqwest::Client, base: &str, csrf: &str, title: &str) -> String {
    let detected = an_hour_ago();
    let body = multipart(&report_fields(csrf, title, &detected, "203.0.113.45\n"), None);
    let r = post_multipart(c, &format!("{base}/incidents"), body).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    to.strip_prefix("/incidents/")
        .and_then(|s| s.strip_suffix("?done=filed"))
        .expect("redirected to the new incident")
        .to_string()
}

async fn post_form(c: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = c.post(url).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = r.text().await.unwrap();
    (status, if status == 303 { location } else { body })
}

/// The deadline badge of the incident's row in the queue.
fn queue_badge(html: &str, reference: &str) -> String {
    let row_start = html.find(reference).expect("the incident is in the queue");
    let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
    regex_lite::Regex::new(r#"class="badge dl dl-[a-z_]+">([^<]+)<"#)
        .unwrap()
        .captures(row)
        .expect("a deadline badge")[1]
        .to_string()
}

mod exports;
mod lifecycle;
