//! CSV export, the board, attachments and the upload path.

use super::*;

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
