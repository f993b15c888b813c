//! Sharing over real HTTP: the TAXII 2.1 server (its protocol rules here, and the OASIS client
//! `taxii2-client` through `tests/taxii_client.py`), and STIX 2.1 exports judged by the OASIS
//! `stix2-validator`.
//!
//! The Python tools are found through `BALUARTE_PYTHON` (a Python with taxii2-client) and
//! `STIX2_VALIDATOR` (the validator's executable). When missing, `baluarte_test_support::require` decides:
//! a failure under CI, a skip (said on stderr) elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;

const CLEAR: &str = "1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0001";
const GREEN: &str = "1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0002";
const AMBER: &str = "1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0003";
const STRICT: &str = "1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0004";
const TAXII: &str = "application/taxii+json;version=2.1";

struct Dataset {
    srv: TestServer,
    csirt: String,
    /// A SAT token with `indicators:read`.
    indicators: String,
    /// Incident ids by TLP, as triaged.
    by_tlp: HashMap<&'static str, Vec<String>>,
    /// The SAT's own AMBER incident, and another entity's.
    own_amber: String,
    foreign_amber: String,
}

async fn post(c: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let res = c.post(&url).bearer_auth(token).json(&body).send().await.expect("post");
    let status = res.status();
    let v: Value = res.json().await.expect("json");
    assert!(status.is_success(), "{url}: {status} {v}");
    v
}

/// The demo registry, and incidents the national CSIRT filed and triaged at each TLP.
async fn dataset() -> Dataset {
    let srv = start_demo(Backend::Sqlite).await;
    let api = format!("{}/api/v1", srv.base);
    let c = client();
    let csirt = api_login(&srv.base, "csirt@atdt.example", PASSWORD).await;
    let officer = api_login(&srv.base, "seguridad@sat.example", PASSWORD).await;
    let admin = api_login(&srv.base, "admin@atdt.example", PASSWORD).await;
    let me: Value = c
        .get(format!("{api}/me"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sat = me["user"]["entity_id"].as_str().unwrap().to_string();
    let others: Value = c
        .get(format!("{api}/entities?kind=private&per_page=3"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = others["items"][0]["id"].as_str().unwrap().to_string();
    let indicators = post(
        &c,
        format!("{api}/tokens"),
        &officer,
        json!({"entity_id": sat, "name": "plataforma de inteligencia", "purposes": ["indicators:read"]}),
    )
    .await["secret"]
        .as_str()
        .unwrap()
        .to_string();

    let plan: [(&str, &'static str, &str, &str, &str); 7] = [
        (
            "Sitio apócrifo del SAT para robo de credenciales",
            "CLEAR",
            "fraud",
            "phishing",
            "198.51.100.10",
        ),
        (
            "Campaña de phishing con facturas falsas",
            "GREEN",
            "fraud",
            "phishing",
            "factura-sat.example",
        ),
        (
            "Escaneo masivo contra portales de trámites",
            "GREEN",
            "information-gathering",
            "scanner",
            "203.0.113.77",
        ),
        (
            "Denegación de servicio contra la oficina virtual",
            "GREEN",
            "availability",
            "ddos",
            "192.0.2.200",
        ),
        (
            "Compromiso de cuenta privilegiada en nómina",
            "AMBER+STRICT",
            "intrusions",
            "privileged-account-compromise",
            "c2-nomina.example",
        ),
        (
            "Malware en estaciones de atención al contribuyente",
            "AMBER",
            "malicious-code",
            "infected-system",
            "0f343b0931126a20f133d67c2b018a3b",
        ),
        (
            "Fuga de datos de clientes de un operador privado",
            "AMBER",
            "information-content-security",
            "data-leak",
            "fuga-clientes.example",
        ),
    ];
    let mut by_tlp: HashMap<&'static str, Vec<String>> = HashMap::new();
    let mut ambers = Vec::new();
    for (i, (title, tlp, class, kind, observable)) in plan.iter().enumerate() {
        // A minute between reports: collections list incidents in the order they were added.
        srv.svc.clock().advance(baluarte_core::time::MINUTE);
        let entity = if i == 6 { &other } else { &sat };
        let filed = post(
            &c,
            format!("{api}/incidents"),
            &csirt,
            json!({
                "entity_id": entity,
                "title": title,
                "description": format!("{title}. Reportado por teléfono al CSIRT nacional."),
                "detected_at": baluarte_test_support::clock::local_hours_ago(20, "America/Mexico_City"),
                "rsit_class": "other",
                "rsit_type": "undetermined",
                "severity": "medium",
                "tlp": "AMBER+STRICT",
                "pap": "GREEN",
                "observables": [{"value": observable}]
            }),
        )
        .await;
        let id = filed["incident"]["id"].as_str().unwrap().to_string();
        post(
            &c,
            format!("{api}/incidents/{id}/triage"),
            &csirt,
            json!({"rsit_class": class, "rsit_type": kind, "severity": "high", "tlp": tlp}),
        )
        .await;
        if *tlp == "AMBER" {
            ambers.push(id.clone());
        }
        by_tlp.entry(tlp).or_default().push(id);
    }
    // A report the CSIRT has not triaged yet is not published.
    post(
        &c,
        format!("{api}/incidents"),
        &csirt,
        json!({
            "entity_id": sat, "title": "Reporte aún sin triaje", "description": "Pendiente.",
            "detected_at": baluarte_test_support::clock::local_hours_ago(19, "America/Mexico_City"), "rsit_class": "other", "rsit_type": "undetermined",
            "severity": "low", "tlp": "GREEN", "pap": "GREEN"
        }),
    )
    .await;
    Dataset {
        srv,
        csirt,
        indicators,
        by_tlp,
        own_amber: ambers[0].clone(),
        foreign_amber: ambers[1].clone(),
    }
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn taxii_get(url: &str, auth: Option<(&str, &str)>, accept: Option<&str>) -> Answer {
    let mut req = client().get(url);
    match auth {
        Some(("bearer", t)) => req = req.bearer_auth(t),
        Some((user, password)) => req = req.basic_auth(user, Some(password)),
        None => {}
    }
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let res = req.send().await.expect("get");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"));
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some(TAXII),
        "{url} → {status}: every TAXII answer has the TAXII media type"
    );
    Answer { status, headers, body }
}

fn ids_of(envelope: &Value) -> Vec<String> {
    envelope["objects"]
        .as_array()
        .map(|a| a.iter().map(|o| o["id"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

mod endpoints;
mod filters;
mod protocol;
mod validator;
