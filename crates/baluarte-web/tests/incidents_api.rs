//! Incident reporting over the API, end to end on a real server: filing with a signed receipt that
//! verifies on the exact bytes served (and fails on any changed byte), idempotent submissions under
//! concurrency (SQLite and PostgreSQL), refusals (409, 413, 422), downloads that are never rendered, and
//! tenancy: another entity's caller meets 404 everywhere. A task's assignee is checked like an incident's,
//! and an entity's webhook (how its incidents' events reach it) never points at an internal address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baluarte_core::crypto::ServerKey;
use baluarte_core::model::{EntityKind, Purpose};
use baluarte_core::service::{EntityInput, TokenInput, MAX_ATTACHMENT};
use baluarte_core::Services;
use common::*;
use serde_json::{json, Value};

conformance!(
    reports_receipts_refusals_and_tenancy,
    task_assignees_are_checked,
    webhooks_to_internal_addresses_are_refused
);
conformance!(threads = 4; idempotency_key_under_concurrency);

fn report(title: &str) -> Value {
    json!({
        "title": title,
        "description": "Cifrado de archivos en servidores de nómina.\nSe aislaron los equipos.",
        "detected_at": baluarte_test_support::clock::local_hours_ago(24, "America/Mexico_City"),
        "rsit_class": "malicious-code",
        "rsit_type": "infected-system",
        "severity": "high",
        "tlp": "AMBER",
        "pap": "AMBER",
        "affected_services": "Nómina",
        "interruption_minutes": 90,
        "observables": [{"value": "203.0.113.45"}, {"kind": "domain", "value": "Pago-Seguro.example"}]
    })
}

async fn send(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.expect("body").to_vec())
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn assert_problem(status: u16, h: &reqwest::header::HeaderMap, body: &[u8], want: u16, what: &str) -> Value {
    assert_eq!(status, want, "{what}: {}", String::from_utf8_lossy(body));
    assert!(
        header(h, "content-type").starts_with("application/problem+json"),
        "{what}: {}",
        header(h, "content-type")
    );
    let p = json_of(body);
    assert_eq!(p["status"], want, "{what}");
    p
}

/// An API token of `entity` with the given purposes, made by `maker` (a bearer token).
async fn token(api: &str, maker: &str, entity: &str, purposes: &[&str]) -> String {
    let (s, _, b) = send(client().post(format!("{api}/tokens")).bearer_auth(maker).json(
        &json!({"entity_id": entity, "name": format!("integración {}", purposes.join(" ")), "purposes": purposes}),
    ))
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    json_of(&b)["secret"].as_str().unwrap().to_string()
}

async fn reports_receipts_refusals_and_tenancy(backend: Backend) {
    let srv = start_demo(backend).await;
    let api = format!("{}/api/v1", srv.base);
    let c = client();
    let officer = api_login(&srv.base, "seguridad@sat.example", PASSWORD).await;
    let admin = api_login(&srv.base, "admin@atdt.example", PASSWORD).await;
    let csirt = api_login(&srv.base, "csirt@atdt.example", PASSWORD).await;
    let me = json_of(&send(c.get(format!("{api}/me")).bearer_auth(&officer)).await.2);
    let own = me["user"]["entity_id"].as_str().unwrap().to_string();
    let reporter = token(&api, &officer, &own, &["incidents:write"]).await;

    // File: 201 with the incident and its receipt.
    let key = "7d1c9a1e-reporte-nomina-0001";
    let (s, h, b) = send(
        c.post(format!("{api}/incidents"))
            .bearer_auth(&reporter)
            .header("Idempotency-Key", key)
            .json(&report("Ransomware en servidores de nómina")),
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    assert!(header(&h, "content-type").starts_with("application/json"));
    let filed = json_of(&b);
    let id = filed["incident"]["id"].as_str().unwrap().to_string();
    let reference = filed["incident"]["reference"].as_str().unwrap().to_string();
    assert_eq!(filed["incident"]["channel"], "api");
    assert_eq!(filed["incident"]["entity_id"], own.as_str());
    assert_eq!(filed["replayed"], false);
    assert_eq!(filed["receipt"]["incident_id"], id.as_str());
    assert_eq!(filed["receipt"]["reference"], reference.as_str());

    // The same request again: 200, the same incident and receipt.
    let (s, _, b) = send(
        c.post(format!("{api}/incidents"))
            .bearer_auth(&reporter)
            .header("Idempotency-Key", key)
            .json(&report("Ransomware en servidores de nómina")),
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let replay = json_of(&b);
    assert_eq!(replay["incident"]["id"], id.as_str());
    assert_eq!(replay["receipt"], filed["receipt"]);
    assert_eq!(replay["replayed"], true);
    // The same key with another report: 409.
    let (s, h, b) = send(
        c.post(format!("{api}/incidents"))
            .bearer_auth(&reporter)
            .header("Idempotency-Key", key)
            .json(&report("Otro incidente distinto")),
    )
    .await;
    let p = assert_problem(s, &h, &b, 409, "same key, other report");
    assert!(p["detail"].as_str().unwrap().contains("Idempotency-Key"), "{p}");
    // An unknown RSIT type is named.
    let mut bad = report("Tipo inexistente");
    bad["rsit_type"] = json!("time-travel");
    let (s, h, b) = send(c.post(format!("{api}/incidents")).bearer_auth(&reporter).json(&bad)).await;
    let p = assert_problem(s, &h, &b, 422, "unknown RSIT type");
    assert_eq!(p["errors"][0]["field"], "rsit_type", "{p}");
    // …with a code and the values it refers to, for a client to act on, and an English text.
    assert_eq!(p["errors"][0]["code"], "not_in_taxonomy", "{p}");
    assert_eq!(p["errors"][0]["params"]["type"], "time-travel", "{p}");
    assert!(
        p["errors"][0]["message"].as_str().unwrap_or("").contains("time-travel"),
        "{p}"
    );

    // Download the report and its receipt, and check them against the server's public key.
    let (s, _, b) = send(c.get(format!("{api}/receipts/public-key"))).await;
    assert_eq!(s, 200, "the public key needs no credentials");
    let pk = json_of(&b);
    assert_eq!(pk["algorithm"], "Ed25519");
    let public_key = pk["public_key"].as_str().unwrap().to_string();
    assert_eq!(public_key, srv.svc.server_key().public_hex());
    let case = json_of(
        &send(c.get(format!("{api}/incidents/{id}")).bearer_auth(&reporter))
            .await
            .2,
    );
    let sub = case["submissions"][0]["id"].as_str().unwrap().to_string();
    let stage = case["submissions"][0]["stage_id"].as_str().unwrap().to_string();
    assert_eq!(sub, filed["receipt"]["submission_id"].as_str().unwrap());
    let (s, h, report_bytes) = send(
        c.get(format!("{api}/incidents/{id}/submissions/{sub}/report"))
            .bearer_auth(&reporter),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(header(&h, "content-type"), "application/json");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert!(
        header(&h, "content-disposition").contains(&format!("filename=\"{reference}-{stage}.json\"")),
        "{}",
        header(&h, "content-disposition")
    );
    let (s, h, receipt_bytes) = send(
        c.get(format!("{api}/incidents/{id}/submissions/{sub}/receipt"))
            .bearer_auth(&reporter),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(header(&h, "content-type"), "application/json");
    assert!(
        header(&h, "content-disposition").contains(&format!("filename=\"{reference}-{stage}.receipt.json\"")),
        "{}",
        header(&h, "content-disposition")
    );
    let verified = baluarte_core::receipt::verify(&receipt_bytes, &report_bytes, Some(&public_key))
        .unwrap_or_else(|e| panic!("the receipt served does not verify: {e}"));
    assert_eq!(verified.incident_id, id);
    let served_report = json_of(&report_bytes);
    assert_eq!(served_report["title"], "Ransomware en servidores de nómina");
    assert_eq!(served_report["reference"], reference.as_str());
    // Any changed byte of either file fails verification.
    for i in 0..report_bytes.len() {
        let mut r = report_bytes.clone();
        r[i] ^= 0x01;
        assert!(
            baluarte_core::receipt::verify(&receipt_bytes, &r, Some(&public_key)).is_err(),
            "report byte {i} flipped and it still verified"
        );
    }
    for i in 0..receipt_bytes.len() {
        let mut r = receipt_bytes.clone();
        r[i] ^= 0x01;
        assert!(
            baluarte_core::receipt::verify(&r, &report_bytes, Some(&public_key)).is_err(),
            "receipt byte {i} flipped and it still verified"
        );
    }
    assert!(
        baluarte_core::receipt::verify(&receipt_bytes, &report_bytes, Some(&ServerKey::generate().public_hex()))
            .is_err(),
        "another server's key"
    );

    // A later stage gets its own receipt, which verifies on its own report.
    let (s, _, b) = send(
        c.post(format!("{api}/incidents/{id}/stages"))
            .bearer_auth(&reporter)
            .json(&json!({"stage_id": "update", "summary": "Se restauró la nómina desde respaldos.", "interruption_minutes": 240})),
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    let r2 = json_of(&b);
    let sub2 = r2["submission_id"].as_str().unwrap();
    let rep2 = send(
        c.get(format!("{api}/incidents/{id}/submissions/{sub2}/report"))
            .bearer_auth(&reporter),
    )
    .await
    .2;
    let rec2 = send(
        c.get(format!("{api}/incidents/{id}/submissions/{sub2}/receipt"))
            .bearer_auth(&officer),
    )
    .await
    .2;
    assert!(baluarte_core::receipt::verify(&rec2, &rep2, Some(&public_key)).is_ok());
    assert!(
        baluarte_core::receipt::verify(&rec2, &report_bytes, Some(&public_key)).is_err(),
        "a receipt does not vouch for another stage's report"
    );

    // Attachments: stored as sent, served only as a download.
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let (s, _, b) = send(
        c.post(format!("{api}/incidents/{id}/attachments"))
            .query(&[("filename", "../../evidencia \"nómina\".html")])
            .bearer_auth(&reporter)
            .header("content-type", "text/html")
            .body(html.clone()),
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    let att = json_of(&b);
    let aid = att["id"].as_str().unwrap().to_string();
    assert_eq!(att["size"], html.len());
    assert!(!att["filename"].as_str().unwrap().contains('/'), "{att}");
    let (s, h, body) = send(
        c.get(format!("{api}/incidents/{id}/attachments/{aid}"))
            .bearer_auth(&reporter),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(body, html, "byte-exact");
    assert_eq!(header(&h, "content-type"), "application/octet-stream");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    let cd = header(&h, "content-disposition");
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(cd.contains("filename*=UTF-8''"), "{cd}");
    // Larger than the limit: 413, as a problem. The server answers before reading the body and then
    // closes the connection, so this request must not leave it in the client's pool for the next one.
    let (s, h, b) = send(
        c.post(format!("{api}/incidents/{id}/attachments"))
            .query(&[("filename", "grande.bin")])
            .bearer_auth(&reporter)
            .header("content-type", "application/octet-stream")
            .header("connection", "close")
            .body(vec![0u8; MAX_ATTACHMENT + 1024 * 1024]),
    )
    .await;
    assert_problem(s, &h, &b, 413, "oversized attachment");
    // Exactly at the limit is accepted.
    let (s, _, b) = send(
        c.post(format!("{api}/incidents/{id}/attachments"))
            .query(&[("filename", "limite.bin")])
            .bearer_auth(&reporter)
            .body(vec![7u8; MAX_ATTACHMENT]),
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));

    // A malformed STIX bundle is refused whole, naming what is wrong.
    for (bundle, what) in [
        (&b"{\"type\": \"bundle\", \"id\": 5"[..], "truncated JSON"),
        (
            &br#"{"type": "report", "id": "report--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"}"#[..],
            "not a bundle",
        ),
        (&[0xff, 0xfe, 0x00][..], "not UTF-8"),
    ] {
        let (s, h, b) = send(
            c.post(format!("{api}/stix/import"))
                .bearer_auth(&csirt)
                .header("content-type", "application/stix+json")
                .body(bundle.to_vec()),
        )
        .await;
        let p = assert_problem(s, &h, &b, 422, what);
        assert_eq!(p["errors"][0]["field"], "bundle", "{what}: {p}");
        assert_eq!(p["errors"][0]["code"], "malformed", "{what}: {p}");
        assert!(
            !p["errors"][0]["params"]["detail"].as_str().unwrap_or("").is_empty(),
            "{p}"
        );
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("cannot be read: "),
            "{p}"
        );
    }

    // Tenancy: another entity's reporting integration sees none of it.
    let entities = json_of(
        &send(
            c.get(format!("{api}/entities?kind=private&per_page=5"))
                .bearer_auth(&admin),
        )
        .await
        .2,
    );
    let foreign = entities["items"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(foreign, own);
    let stranger = token(&api, &admin, &foreign, &["incidents:write"]).await;
    for path in [
        format!("/incidents/{id}"),
        format!("/incidents/{id}/submissions/{sub}/report"),
        format!("/incidents/{id}/submissions/{sub}/receipt"),
        format!("/incidents/{id}/attachments/{aid}"),
    ] {
        let (s, h, b) = send(c.get(format!("{api}{path}")).bearer_auth(&stranger)).await;
        let p = assert_problem(s, &h, &b, 404, &path);
        let text = p.to_string();
        assert!(
            !text.contains(&reference) && !text.contains("nómina"),
            "{path} leaked: {text}"
        );
    }
    let (s, h, b) = send(
        c.post(format!("{api}/incidents/{id}/stages"))
            .bearer_auth(&stranger)
            .json(&json!({"stage_id": "update", "summary": "intruso"})),
    )
    .await;
    assert_problem(s, &h, &b, 404, "a stage on another entity's incident");
    let mine = json_of(
        &send(c.get(format!("{api}/incidents?status=all")).bearer_auth(&stranger))
            .await
            .2,
    );
    assert_eq!(mine["total"], 0, "{mine}");
    let theirs = json_of(
        &send(c.get(format!("{api}/incidents?status=all")).bearer_auth(&reporter))
            .await
            .2,
    );
    assert!(
        theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str()),
        "{theirs}"
    );
    // And the national CSIRT sees it.
    let (s, _, _) = send(c.get(format!("{api}/incidents/{id}")).bearer_auth(&csirt)).await;
    assert_eq!(s, 200);
}

/// Twenty identical requests at once with one Idempotency-Key: one incident, twenty equal answers.
async fn idempotency_under_concurrency(svc: Services) {
    let system = baluarte_test_support::actors::system();
    let entity = svc
        .registry()
        .create_entity(
            &system,
            EntityInput {
                name: "Operadora de Pagos Concurrentes S.A.".into(),
                acronym: None,
                kind: EntityKind::Private,
                parent_id: None,
                sector_id: None,
                state_code: None,
                time_zone: "America/Monterrey".into(),
            },
        )
        .await
        .expect("entity");
    let secret = svc
        .tokens()
        .create_token(
            &system,
            TokenInput {
                entity_id: entity.id.clone(),
                name: "integración de reportes".into(),
                purposes: vec![Purpose::IncidentsWrite],
                expires_in_days: None,
            },
        )
        .await
        .expect("token")
        .secret;
    let base = serve(svc.clone()).await;
    let c = client();
    let body = report("Denegación de servicio en la pasarela de pagos");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let req = c
            .post(format!("{base}/api/v1/incidents"))
            .bearer_auth(&secret)
            .header("Idempotency-Key", "pasarela-2026-01-10-ddos")
            .json(&body);
        tasks.push(tokio::spawn(async move { send(req).await }));
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for t in tasks {
        let (s, _, b) = t.await.expect("task");
        assert!(s == 201 || s == 200, "{s}: {}", String::from_utf8_lossy(&b));
        created += usize::from(s == 201);
        let v = json_of(&b);
        assert_eq!(v["replayed"], s == 200);
        ids.insert(v["incident"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1, "all twenty answers name the same incident: {ids:?}");
    assert_eq!(created, 1, "exactly one answer is 201");
    let count = |table: &'static str| {
        let svc = svc.clone();
        async move {
            baluarte_test_support::store::count_rows(svc.db(), table)
                .await
                .expect("count")
        }
    };
    assert_eq!(count("incidents").await, 1);
    assert_eq!(count("incident_submissions").await, 1);
    assert_eq!(count("idempotency_keys").await, 1);
}

/// On a fresh migrated store of each backend (PostgreSQL: a database of its own, dropped afterwards).
async fn idempotency_key_under_concurrency(store: TestStore) {
    idempotency_under_concurrency(store.svc.clone()).await;
}

/// `POST /incidents/{id}/tasks` names its assignee as the assignment does: an unknown id is a 422 on
/// `assignee_id` (`unknown_user`), not a 500 from the foreign key; an entity's officer is `not_assignable`;
/// a CSIRT analyst is accepted.
async fn task_assignees_are_checked(backend: Backend) {
    let srv = start_demo(backend).await;
    let api = format!("{}/api/v1", srv.base);
    let c = client();
    let officer = api_login(&srv.base, "seguridad@sat.example", PASSWORD).await;
    let csirt = api_login(&srv.base, "csirt@atdt.example", PASSWORD).await;
    let user_id = |me: Value| me["user"]["id"].as_str().unwrap().to_string();
    let officer_id = user_id(json_of(&send(c.get(format!("{api}/me")).bearer_auth(&officer)).await.2));
    let csirt_id = user_id(json_of(&send(c.get(format!("{api}/me")).bearer_auth(&csirt)).await.2));
    let (s, _, b) = send(
        c.post(format!("{api}/incidents"))
            .bearer_auth(&officer)
            .json(&report("Tareas del caso")),
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    let id = json_of(&b)["incident"]["id"].as_str().unwrap().to_string();
    let tasks = format!("{api}/incidents/{id}/tasks");

    for (assignee, code) in [
        ("no-such-user", "unknown_user"),
        (officer_id.as_str(), "not_assignable"),
    ] {
        let (s, h, b) = send(
            c.post(&tasks)
                .bearer_auth(&csirt)
                .json(&json!({"title": "Revisar bitácoras", "assignee_id": assignee})),
        )
        .await;
        let p = assert_problem(s, &h, &b, 422, assignee);
        assert_eq!(p["errors"][0]["field"], "assignee_id", "{p}");
        assert_eq!(p["errors"][0]["code"], code, "{p}");
    }
    let (s, _, b) = send(
        c.post(&tasks)
            .bearer_auth(&csirt)
            .json(&json!({"title": "Revisar bitácoras", "assignee_id": csirt_id})),
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    let task_id = json_of(&b)["id"].as_str().unwrap().to_string();
    let case = json_of(&send(c.get(format!("{api}/incidents/{id}")).bearer_auth(&csirt)).await.2);
    let listed: Vec<(&str, &str)> = case["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap_or(""), t["assignee_id"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(listed, [(task_id.as_str(), csirt_id.as_str())], "{case}");
}

/// An entity's officer registering a webhook to an internal address (SSRF) gets a 422 naming `url`, with
/// the code `internal_address`, the address and its range; a public destination is accepted.
async fn webhooks_to_internal_addresses_are_refused(backend: Backend) {
    let srv = start_demo(backend).await;
    let api = format!("{}/api/v1", srv.base);
    let c = client();
    let officer = api_login(&srv.base, "seguridad@sat.example", PASSWORD).await;
    let me = json_of(&send(c.get(format!("{api}/me")).bearer_auth(&officer)).await.2);
    let hooks = format!("{api}/entities/{}/webhooks", me["user"]["entity_id"].as_str().unwrap());
    for (url, address, range) in [
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254",
            "link_local",
        ),
        ("http://[::1]:5432/", "::1", "loopback"),
        ("http://10.0.0.1/", "10.0.0.1", "private"),
    ] {
        let (s, h, b) = send(
            c.post(&hooks)
                .bearer_auth(&officer)
                .json(&json!({"url": url, "events": ["incident.closed"]})),
        )
        .await;
        let p = assert_problem(s, &h, &b, 422, url);
        let e = &p["errors"][0];
        assert_eq!(
            (e["field"].as_str(), e["code"].as_str()),
            (Some("url"), Some("internal_address")),
            "{p}"
        );
        assert_eq!(
            (e["params"]["address"].as_str(), e["params"]["range"].as_str()),
            (Some(address), Some(range)),
            "{p}"
        );
        assert!(e["message"].as_str().unwrap_or("").contains(address), "{p}");
    }
    let (s, _, b) = send(
        c.post(&hooks)
            .bearer_auth(&officer)
            .json(&json!({"url": "https://8.8.8.8/hooks/sat", "events": ["incident.closed"]})),
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
}
