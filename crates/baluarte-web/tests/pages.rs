//! Pages as a person uses them: a form with an error shows it inline, in Spanish, next to the field and
//! keeps what was typed; a saved change appears in the object's history on its page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

/// The SAT's security officer, as the services know it.
async fn officer_actor(srv: &TestServer) -> baluarte_core::policy::Actor {
    let token = api_login(&srv.base, "seguridad@sat.example", PASSWORD).await;
    srv.svc.accounts().session(&token).await.unwrap().actor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_form_errors_inline_and_history_shows_the_change() {
    let srv = start_demo(Backend::Sqlite).await;
    let base = &srv.base;
    let (c, csrf) = page_login(base, "seguridad@sat.example", PASSWORD).await;
    let officer = officer_actor(&srv).await;
    let id = officer.entity_id().to_string();
    let url = format!("{base}/entities/{id}");
    // Kind, sector and parent as they are: the officer may not change them.
    let current = srv.svc.registry().get_entity(&officer, &id).await.unwrap();
    let form = |zone: &'static str, acronym: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("name", "Servicio de Administración Tributaria".to_string()),
            ("acronym", acronym.to_string()),
            ("kind", current.kind.as_str().to_string()),
            ("parent_id", current.parent_id.clone().unwrap_or_default()),
            ("sector_id", current.sector_id.clone().unwrap_or_default()),
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

/// The officer's form shows its entity's kind and sector without offering to change them; a forged
/// change is refused (403) and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_officer_sees_but_cannot_change_the_entitys_kind_and_sector() {
    let srv = start_demo(Backend::Sqlite).await;
    let base = &srv.base;
    let (c, csrf) = page_login(base, "seguridad@sat.example", PASSWORD).await;
    let officer = officer_actor(&srv).await;
    let id = officer.entity_id().to_string();
    let before = srv.svc.registry().get_entity(&officer, &id).await.unwrap();
    let (_, html) = get_text(&c, &format!("{base}/entities/{id}/edit")).await;
    assert!(!html.contains(r#"<select id="kind""#), "no kind to choose");
    assert!(!html.contains(r#"<select id="sector_id""#), "no sector to choose");
    assert!(html.contains(r#"id="kind-shown""#) && html.contains("solo la autoridad nacional"));

    let r = c
        .post(format!("{base}/entities/{id}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", before.name.as_str()),
            ("acronym", before.acronym.as_deref().unwrap_or("")),
            ("kind", "private"),
            ("parent_id", ""),
            ("sector_id", before.sector_id.as_deref().unwrap_or("")),
            ("state_code", before.state_code.as_deref().unwrap_or("")),
            ("time_zone", before.time_zone.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let after = srv.svc.registry().get_entity(&officer, &id).await.unwrap();
    assert_eq!(after.kind, before.kind, "nothing was stored");
}

/// The 24/7 directory names each contact's institution, also one the officer may not open (shown as
/// text, not as a link it could not follow).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_names_every_contacts_institution() {
    let srv = start_demo(Backend::Sqlite).await;
    let base = &srv.base;
    let (c, _) = page_login(base, "seguridad@sat.example", PASSWORD).await;
    let token = api_login(base, "seguridad@sat.example", PASSWORD).await;
    let officer = officer_actor(&srv).await;
    let dir: serde_json::Value = c
        .get(format!("{base}/api/v1/contacts?per_page=100"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = dir["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity_id"] != officer.entity_id())
        .expect("a contact of another institution");
    let name = other["entity_name"].as_str().unwrap();
    assert!(!name.is_empty(), "{other}");
    let (_, html) = get_text(&c, &format!("{base}/directory?per_page=100")).await;
    let shown = html.replace("&quot;", "\"").replace("&amp;", "&");
    assert!(
        shown.contains(&format!("<td>{name}</td>")),
        "{name} as text in the directory"
    );
}
