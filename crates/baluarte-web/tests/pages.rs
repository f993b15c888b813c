//! Pages as a person uses them: a form with an error shows it inline, in Spanish, next to the field and
//! keeps what was typed; a saved change appears in the object's history on its page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_form_errors_inline_and_history_shows_the_change() {
    let srv = start_demo(Backend::Sqlite).await;
    let base = &srv.base;
    let (c, csrf) = page_login(base, "seguridad@sat.example", PASSWORD).await;
    let officer = srv
        .svc
        .accounts()
        .session(&api_login(base, "seguridad@sat.example", PASSWORD).await)
        .await
        .unwrap()
        .actor;
    let id = officer.entity_id().to_string();
    let url = format!("{base}/entities/{id}");
    let form = |zone: &'static str, acronym: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("name", "Servicio de Administración Tributaria".to_string()),
            ("acronym", acronym.to_string()),
            ("kind", "federal".to_string()),
            ("parent_id", String::new()),
            ("sector_id", "finanzas".to_string()),
            ("state_code", "MX-CMX".to_string()),
            ("time_zone", zone.to_string()),
        ]
    };

    let r = c.post(&url).form(&form("Marte/Olympus", "SAT-X")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(r#"id="time_zone-error""#),
        "the error stands by its field"
    );
    assert!(html.contains("debe ser una zona horaria IANA"), "in Spanish");
    assert!(html.contains(r#"aria-invalid="true""#));
    assert!(html.contains("SAT-X"), "what was typed is kept");
    assert_eq!(
        srv.svc
            .registry()
            .get_entity(&officer, &id)
            .await
            .unwrap()
            .acronym
            .as_deref(),
        Some("SAT"),
        "nothing was saved"
    );

    let r = c
        .post(&url)
        .form(&form("America/Mexico_City", "SAT-MX"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = c.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Historial de cambios"), "the page shows the history");
    let start = html.find(r#"id="history""#).expect("history section");
    let history = &html[start..start + html[start..].find("</section>").expect("end of the section")];
    assert!(history.contains("seguridad@sat.example"), "who changed it");
    assert!(history.contains("acronym"), "which field changed");
}
