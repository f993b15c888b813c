//! A report from the form through the CSIRT to closure, as people click it.

use super::*;

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
