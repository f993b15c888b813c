//! The incident pages as people use them, over HTTP with a browser-like client: an entity's reporter files
//! a report through the guided form and follows it; the national CSIRT triages, asks and closes; the
//! deadline state moves with each stage; other entities see nothing; the CSV export, the board, the
//! printable report, notices and uploads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

async fn get_text(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_goes_from_the_form_through_the_csirt_to_closure() {
    let srv = start_demo(Backend::Sqlite).await;
    let base = srv.base.as_str();

    // The coordinator puts federal entities under the APF regime (24 h initial notice, final on request).
    let (coord, coord_csrf) = national_login(base, "coordinacion@atdt.example").await;
    let (s, to) = post_form(
        &coord,
        &format!("{base}/deadlines"),
        &[
            ("_csrf", &coord_csrf),
            ("profile_id", "apf"),
            ("entity_id", ""),
            ("sector_id", ""),
            ("entity_kind", "federal"),
        ],
    )
    .await;
    assert_eq!((s, to.as_str()), (303, "/deadlines?done=assigned"));
    let (_, html) = get_text(&coord, &format!("{base}/deadlines")).await;
    assert!(html.contains("Administración Pública Federal (APF)") && html.contains("24 horas desde la detección"));

    // The reporter opens the guided form: Spanish, the entity's zone named by the time fields.
    let (rep, csrf) = page_login(base, "reportes@sat.example", PASSWORD).await;
    let (s, html) = get_text(&rep, &format!("{base}/incidents/new")).await;
    assert_eq!(s, 200);
    assert!(html.contains("America/Mexico_City") && html.contains("<optgroup"));
    assert!(html.contains(r#"enctype="multipart/form-data""#));

    // A bad observable on line 3: the error names the line, in Spanish; the input is kept; nothing stored.
    let detected = an_hour_ago();
    let title = "Ransomware en servidores de nómina";
    let obs = "198.51.100.7\nhxxps://malo[.]example/pago\nesto-no-es-un-indicador\n";
    let body = multipart(&report_fields(&csrf, title, &detected, obs), None);
    let r = post_multipart(&rep, &format!("{base}/incidents"), body).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"id="observables-error""#),
        "the error stands by the textarea"
    );
    assert!(
        html.contains("línea 3: «esto-no-es-un-indicador» no es válido"),
        "{html}"
    );
    assert!(
        html.contains(title) && html.contains("hxxps://malo[.]example/pago"),
        "what was typed is kept"
    );
    assert!(html.contains(r#"value="malicious-code/infected-system" selected"#));
    let reporter = srv
        .svc
        .accounts()
        .session(&api_login(base, "reportes@sat.example", PASSWORD).await)
        .await
        .unwrap()
        .actor;
    let all = IncidentFilter {
        status: Some("all".into()),
        ..Default::default()
    };
    let stored = srv
        .svc
        .incidents()
        .list_incidents(&reporter, &all, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(stored.total, 0, "nothing was filed");

    // Fixed, with a first attachment: filed, and the confirmation links the report and the signed receipt.
    let obs = "198.51.100.7\nhxxps://malo[.]example/pago\n";
    let body = multipart(
        &report_fields(&csrf, title, &detected, obs),
        Some(("attachment", "bitacora firewall.txt", b"deny 198.51.100.7 443\n")),
    );
    let r = post_multipart(&rep, &format!("{base}/incidents"), body).await;
    assert_eq!(r.status(), 303);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    let id = to
        .strip_prefix("/incidents/")
        .and_then(|s| s.strip_suffix("?done=filed"))
        .expect("to the incident page")
        .to_string();
    let (s, html) = get_text(&rep, &format!("{base}{to}")).await;
    assert_eq!(s, 200);
    let incident = srv.svc.incidents().get_incident(&reporter, &id).await.unwrap();
    let reference = incident.reference.clone();
    assert!(
        html.contains(&format!("Reporte recibido: {reference}")),
        "the flash names the reference"
    );
    assert!(
        html.contains(r#"class="tlp-banner tlp-AMBER+STRICT""#),
        "the TLP marking is prominent"
    );
    assert!(
        html.contains("bitacora firewall.txt"),
        "the first attachment came with the report"
    );
    let sub = regex_lite::Regex::new(&format!(r"/incidents/{id}/submissions/([^/]+)/receipt"))
        .unwrap()
        .captures(&html)
        .expect("a receipt link")[1]
        .to_string();

    // Report and receipt download byte-exact, and the receipt verifies against this server's key.
    let r = rep
        .get(format!("{base}/incidents/{id}/submissions/{sub}/report"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let report = r.bytes().await.unwrap();
    let receipt = rep
        .get(format!("{base}/incidents/{id}/submissions/{sub}/receipt"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let key = srv.svc.server_key().public_hex();
    let checked = baluarte_core::receipt::verify(&receipt, &report, Some(&key)).expect("the receipt verifies");
    assert_eq!(checked.reference, reference);
    let mut altered = report.to_vec();
    altered[10] ^= 1;
    assert!(baluarte_core::receipt::verify(&receipt, &altered, Some(&key)).is_err());

    // In the reporter's queue with its deadline badge: the initial notice is in; the final one waits.
    let (_, html) = get_text(&rep, &format!("{base}/incidents")).await;
    assert_eq!(queue_badge(&html, &reference), "En espera");

    // Another entity's reporter: not found, for the page, the print page and the files.
    let (other, _) = page_login(base, "fabiola.marquez@sspc.example", PASSWORD).await;
    for path in [
        format!("/incidents/{id}"),
        format!("/incidents/{id}/print"),
        format!("/incidents/{id}/submissions/{sub}/receipt"),
    ] {
        assert_eq!(get_text(&other, &format!("{base}{path}")).await.0, 404, "{path}");
    }
    let (_, html) = get_text(&other, &format!("{base}/incidents?status=all")).await;
    assert!(!html.contains(&reference));

    // The CSIRT analyst triages, adds a task, asks a question, requests the final report.
    let (an, an_csrf) = national_login(base, "csirt@atdt.example").await;
    let url = |p: &str| format!("{base}/incidents/{id}{p}");
    let (s, html) = get_text(&an, &url("")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains(r#"action="/incidents/"#) && html.contains("/triage"),
        "the CSIRT sees its forms"
    );
    let (s, to) = post_form(
        &an,
        &url("/triage"),
        &[
            ("_csrf", &an_csrf),
            ("rsit", "malicious-code/infected-system"),
            ("severity", "critical"),
            ("tlp", "AMBER"),
        ],
    )
    .await;
    assert_eq!(
        (s, to.as_str()),
        (303, format!("/incidents/{id}?done=triaged#handling").as_str())
    );
    let (s, _) = post_form(
        &an,
        &url("/tasks"),
        &[("_csrf", &an_csrf), ("title", "Aislar los servidores")],
    )
    .await;
    assert_eq!(s, 303);
    let question = "¿Qué versión del respaldo se restauró?";
    let (s, _) = post_form(&an, &url("/requests"), &[("_csrf", &an_csrf), ("question", question)]).await;
    assert_eq!(s, 303);
    let (s, _) = post_form(
        &an,
        &url("/request-stage"),
        &[("_csrf", &an_csrf), ("stage_id", "final")],
    )
    .await;
    assert_eq!(s, 303);
    let (_, html) = get_text(&an, &url("?done=requested")).await;
    assert!(html.contains("Aislar los servidores") && html.contains("Crítica") && html.contains(question));
    // A refused close keeps the form's input and says why, in Spanish, by the field.
    let (s, html) = post_form(
        &an,
        &url("/close"),
        &[
            ("_csrf", &an_csrf),
            ("resolution", ""),
            ("lessons_learned", "Respaldos fuera de línea"),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert!(html.contains(r#"id="cl-resolution-error""#) && html.contains("es obligatorio"));
    assert!(html.contains("Respaldos fuera de línea"));

    // The reporter sees the question (and a notice), answers it; the final report is now pending.
    let (_, html) = get_text(&rep, &format!("{base}/incidents")).await;
    assert_eq!(
        queue_badge(&html, &reference),
        "Pendiente",
        "the final report's clock runs"
    );
    assert!(
        html.contains(r#"<span class="count">"#),
        "an unread badge in the navigation"
    );
    let (_, html) = get_text(&rep, &format!("{base}/notifications")).await;
    assert!(html.contains(&format!(r#"href="/incidents/{id}""#)) && html.contains("solicita información"));
    let (_, html) = get_text(&rep, &url("")).await;
    assert!(html.contains(question));
    assert!(!html.contains("Aislar los servidores"), "tasks are the CSIRT's own");
    let rid = regex_lite::Regex::new(&format!(r"/incidents/{id}/requests/([^/]+)/answer"))
        .unwrap()
        .captures(&html)
        .expect("an answer form")[1]
        .to_string();
    let (s, _) = post_form(
        &rep,
        &url(&format!("/requests/{rid}/answer")),
        &[("_csrf", &csrf), ("answer", "El del domingo 02:00.")],
    )
    .await;
    assert_eq!(s, 303);
    let (s, _) = post_form(
        &rep,
        &url("/stages"),
        &[
            ("_csrf", &csrf),
            ("stage_id", "final"),
            ("summary", "Causa: credenciales robadas de VPN. Restaurado."),
            ("interruption_minutes", "180"),
            ("people_affected", ""),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (_, html) = get_text(&rep, &format!("{base}/incidents")).await;
    assert_eq!(queue_badge(&html, &reference), "Entregado a tiempo");

    // The printable report: the TLP marking top and bottom, no navigation.
    let (s, html) = get_text(&rep, &url("/print")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains(r#"class="print-report tlp-page-amber""#),
        "each page's margins carry the marking"
    );
    assert!(
        html.matches("<strong>TLP:AMBER</strong>").count() >= 2,
        "and the start and the end of the report"
    );
    assert!(!html.contains(r#"<nav aria-label"#));
    assert!(html.contains("El del domingo 02:00."));

    // The analyst closes it.
    let (s, _) = post_form(
        &an,
        &url("/close"),
        &[
            ("_csrf", &an_csrf),
            (
                "resolution",
                "Servidores restaurados desde respaldo; VPN con segundo factor.",
            ),
            ("lessons_learned", "Respaldos fuera de línea"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (_, html) = get_text(&rep, &url("")).await;
    assert!(html.contains(r#"class="badge status st-closed">Cerrado<"#));
    assert!(html.contains("VPN con segundo factor"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_export_board_and_uploads() {
    let srv = start_demo(Backend::Sqlite).await;
    let base = srv.base.as_str();
    let (rep, csrf) = page_login(base, "reportes@sat.example", PASSWORD).await;
    let first = file(&rep, base, &csrf, "Phishing, dirigido a \"finanzas\"").await;
    file(&rep, base, &csrf, "=HYPERLINK(\"http://x.example\",\"ver\")").await;

    // The CSV: a header, one row per incident, quoting, and a formula defused.
    let r = rep
        .get(format!("{base}/incidents.csv?status=all"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("reference,title,entity,"), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        csv.contains(r#","'=HYPERLINK(""http://x.example"",""ver"")","#),
        "{csv}"
    );
    assert!(csv.contains(r#","Phishing, dirigido a ""finanzas""","#), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"));
    // The export keeps the queue's filters.
    let csv = rep
        .get(format!("{base}/incidents.csv?status=all&q=Phishing"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2);

    // The board: SVG charts for a national role; forbidden for an entity's reporter.
    assert_eq!(get_text(&rep, &format!("{base}/board")).await.0, 403);
    let (coord, _) = national_login(base, "coordinacion@atdt.example").await;
    let (s, html) = get_text(&coord, &format!("{base}/board")).await;
    assert_eq!(s, 200);
    assert_eq!(html.matches(r#"<svg class="chart""#).count(), 4, "{html}");
    assert!(
        html.contains(r#"href="/incidents?severity=high""#),
        "bars link to the filtered queue"
    );

    // An attachment through the case file's form; it downloads as it was sent.
    let body = multipart(
        &[("_csrf", &csrf)],
        Some(("file", "captura ñ.txt", b"contenido de prueba")),
    );
    let r = post_multipart(&rep, &format!("{base}/incidents/{first}/attachments"), body).await;
    assert_eq!(r.status(), 303);
    let (_, html) = get_text(&rep, &format!("{base}/incidents/{first}")).await;
    let aid = regex_lite::Regex::new(&format!(r"/incidents/{first}/attachments/([0-9a-zA-Z_-]+)"))
        .unwrap()
        .captures(&html)
        .expect("a download link")[1]
        .to_string();
    let r = rep
        .get(format!("{base}/incidents/{first}/attachments/{aid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], "application/octet-stream");
    assert!(r.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''captura%20%C3%B1.txt"));
    assert_eq!(&r.bytes().await.unwrap()[..], b"contenido de prueba");

    // Without the form's token first, an upload is refused before the file is read.
    let body = multipart(&[("_csrf", "forged")], Some(("file", "x.txt", b"x")));
    let r = post_multipart(&rep, &format!("{base}/incidents/{first}/attachments"), body).await;
    assert_eq!(r.status(), 403);
    let body = multipart(&[], Some(("file", "x.txt", b"x")));
    let r = post_multipart(&rep, &format!("{base}/incidents/{first}/attachments"), body).await;
    assert_eq!(r.status(), 403);
    // Another entity may not attach to it: not found.
    let (other, other_csrf) = page_login(base, "fabiola.marquez@sspc.example", PASSWORD).await;
    let body = multipart(&[("_csrf", &other_csrf)], Some(("file", "x.txt", b"x")));
    let r = post_multipart(&other, &format!("{base}/incidents/{first}/attachments"), body).await;
    assert_eq!(r.status(), 404);
}

/// The attachments listed on the case file page, as the reader sees them.
async fn attachment_links(c: &reqwest::Client, base: &str, id: &str) -> usize {
    let (s, html) = get_text(c, &format!("{base}/incidents/{id}")).await;
    assert_eq!(s, 200);
    let re = regex_lite::Regex::new(&format!(r"/incidents/{id}/attachments/([0-9a-zA-Z_-]+)")).unwrap();
    let ids: std::collections::BTreeSet<String> = re.captures_iter(&html).map(|c| c[1].to_string()).collect();
    ids.len()
}

/// Incidents in the reader's CSV export (its lines less the header).
async fn exported(c: &reqwest::Client, base: &str) -> usize {
    let (s, csv) = get_text(c, &format!("{base}/incidents.csv?status=all")).await;
    assert_eq!(s, 200);
    csv.lines().count() - 1
}

#[tokio::test]
async fn uploads_need_the_session_and_its_own_token_first() {
    let srv = start_demo(Backend::Sqlite).await;
    let base = srv.base.as_str();
    let (rep, csrf) = page_login(base, "reportes@sat.example", PASSWORD).await;
    let first = file(&rep, base, &csrf, "Correo de suplantación a tesorería").await;
    assert_eq!(attachment_links(&rep, base, &first).await, 0);
    assert_eq!(exported(&rep, base).await, 1);
    let detected = an_hour_ago();
    let attach = format!("{base}/incidents/{first}/attachments");
    let report = format!("{base}/incidents");

    // A valid session with another session's (well-formed) token: refused, nothing stored.
    let (_, other_csrf) = page_login(base, "fabiola.marquez@sspc.example", PASSWORD).await;
    assert_ne!(other_csrf, csrf);
    let body = multipart(&[("_csrf", &other_csrf)], Some(("file", "x.txt", b"x")));
    assert_eq!(post_multipart(&rep, &attach, body).await.status(), 403);
    let body = multipart(
        &report_fields(&other_csrf, "Otro reporte", &detected, ""),
        Some(("attachment", "x.txt", b"x")),
    );
    assert_eq!(post_multipart(&rep, &report, body).await.status(), 403);
    assert_eq!(attachment_links(&rep, base, &first).await, 0, "no attachment stored");
    assert_eq!(exported(&rep, base).await, 1, "no report filed");

    // No session at all, even with a token that was valid for someone: sent to sign in, nothing stored.
    let anon = client();
    let body = multipart(&[("_csrf", &csrf)], Some(("file", "x.txt", b"x")));
    let r = post_multipart(&anon, &attach, body).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()[LOCATION].to_str().unwrap().starts_with("/login"));
    let body = multipart(&report_fields(&csrf, "Sin sesión", &detected, ""), None);
    let r = post_multipart(&anon, &report, body).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()[LOCATION].to_str().unwrap().starts_with("/login"));
    let body = multipart(&[("_csrf", &csrf)], Some(("bundle", "b.json", b"{}")));
    let r = post_multipart(&anon, &format!("{base}/stix/import"), body).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()[LOCATION].to_str().unwrap().starts_with("/login"));
    assert_eq!(attachment_links(&rep, base, &first).await, 0, "no attachment stored");
    assert_eq!(exported(&rep, base).await, 1, "no report filed");
}
