//! Hostile input over HTTP: wrong types, oversized and non-UTF-8 bodies, unknown fields, injection
//! strings, forged forms. Every answer is a 4xx with problem+json (API) or an error page or inline
//! form error (pages); never a 500; and HTML comes back escaped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

conformance!(
    api_answers_hostile_input_with_problems,
    incident_routes_answer_hostile_input_with_problems,
    pages_refuse_forged_forms_and_escape_markup,
);

fn assert_problem(status: u16, content_type: &str, body: &str, want: u16, what: &str) {
    assert_eq!(status, want, "{what}: {body}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "{what}: content-type {content_type}"
    );
    let p: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body}"));
    assert_eq!(p["status"], want, "{what}");
    assert!(
        p["type"].as_str().unwrap_or("").starts_with("urn:baluarte:problem:"),
        "{what}"
    );
}

async fn send(req: reqwest::RequestBuilder) -> (u16, String, String) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, res.text().await.unwrap_or_default())
}

/// POST `size` bytes of JSON over a plain socket, writing in the background while the answer is read,
/// as a browser does: the server may answer before the body is sent.
async fn raw_post(base: &str, path: &str, headers: &str, size: usize) -> (u16, String, String) {
    raw_post_method(base, "POST", path, headers, size).await
}

/// [`raw_post`] with another method (PATCH, PUT).
async fn raw_post_method(base: &str, method: &str, path: &str, headers: &str, size: usize) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {size}\r\nConnection: close\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(head.as_bytes()).await;
        let chunk = vec![b'A'; 64 * 1024];
        let mut sent = 0;
        while sent < size {
            if wr.write_all(&chunk[..chunk.len().min(size - sent)]).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
    });
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), rd.read_to_end(&mut raw)).await;
    writer.abort();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let ct = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    // The body may be chunked; keep the JSON object.
    let body = body
        .find('{')
        .and_then(|i| body.rfind('}').map(|j| body[i..=j].to_string()))
        .unwrap_or_default();
    (status, ct, body)
}

async fn api_answers_hostile_input_with_problems(backend: Backend) {
    let srv = start_demo(backend).await;
    let api = format!("{}/api/v1", srv.base);
    let admin = api_login(&srv.base, "admin@atdt.example", PASSWORD).await;
    let c = client();
    let post = |path: &str| c.post(format!("{api}{path}")).bearer_auth(&admin);

    // Wrong JSON types name the field.
    let (s, ct, b) = send(post("/entities").json(&json!({"name": 5, "kind": "private", "time_zone": "UTC"}))).await;
    assert_problem(s, &ct, &b, 422, "wrong type");
    assert!(b.contains("name"), "{b}");
    // Unknown fields are refused, by name.
    let (s, ct, b) = send(
        post("/entities").json(&json!({"name": "X S.A.", "kind": "private", "time_zone": "UTC", "is_admin": true})),
    )
    .await;
    assert_problem(s, &ct, &b, 422, "unknown field");
    assert!(b.contains("is_admin"), "{b}");
    // Unknown enum values.
    let (s, ct, b) =
        send(post("/entities").json(&json!({"name": "X S.A.", "kind": "galactic", "time_zone": "UTC"}))).await;
    assert_problem(s, &ct, &b, 422, "unknown kind");
    // Service-level validation: each field named.
    let (s, ct, b) = send(
        post("/entities")
            .json(&json!({"name": "", "kind": "private", "time_zone": "Mars/Olympus", "sector_id": "nope"})),
    )
    .await;
    assert_problem(s, &ct, &b, 422, "invalid fields");
    let p: Value = serde_json::from_str(&b).unwrap();
    // Each field named, with the rule it broke as a code.
    let (fields, codes): (Vec<&str>, Vec<&str>) = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .unzip();
    assert_eq!(fields, ["name", "sector_id", "time_zone"], "{b}");
    assert_eq!(codes, ["too_short", "unknown_sector", "not_time_zone"], "{b}");
    // 10 MB body: the server answers 413 before reading it all, so read while writing.
    let headers = format!("Authorization: Bearer {admin}\r\nContent-Type: application/json\r\n");
    let (s, ct, b) = raw_post(&srv.base, "/api/v1/entities", &headers, 10 * 1024 * 1024).await;
    assert_problem(s, &ct, &b, 413, "10 MB body");
    // Invalid UTF-8.
    let (s, ct, b) = send(
        post("/entities")
            .header("content-type", "application/json")
            .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}']),
    )
    .await;
    assert!(s == 400 || s == 422, "invalid UTF-8 → {s}");
    assert_problem(s, &ct, &b, s, "invalid UTF-8");
    // Not JSON at all, and no content type.
    let (s, ct, b) = send(
        post("/entities")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_problem(s, &ct, &b, 400, "syntax error");
    let (s, ct, b) = send(post("/entities").body("name=x")).await;
    assert_problem(s, &ct, &b, 415, "missing content type");
    // Unknown route and wrong method.
    let (s, ct, b) = send(c.get(format!("{api}/no-such-thing")).bearer_auth(&admin)).await;
    assert_problem(s, &ct, &b, 404, "unknown route");
    let (s, ct, b) = send(c.delete(format!("{api}/sectors")).bearer_auth(&admin)).await;
    assert_problem(s, &ct, &b, 405, "wrong method");
    // Bad query types and absurd paging.
    let (s, ct, b) = send(c.get(format!("{api}/entities?page=abc")).bearer_auth(&admin)).await;
    assert_problem(s, &ct, &b, 400, "bad query");
    let (s, _, b) = send(
        c.get(format!("{api}/entities?page=-5&per_page=100000"))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let page: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(page["per_page"], 200);
    assert_eq!(page["page"], 1);
    // No or bad credentials.
    let (s, ct, b) = send(c.get(format!("{api}/entities"))).await;
    assert_problem(s, &ct, &b, 401, "no credentials");
    let (s, ct, b) = send(c.get(format!("{api}/entities")).bearer_auth("blt_forged")).await;
    assert_problem(s, &ct, &b, 401, "forged token");

    // Injection strings are data: stored and returned verbatim, and searching for them is harmless.
    let nasty = "Robert'); DROP TABLE entities;-- <script>alert(1)</script> % _ \\";
    let (s, _, b) =
        send(post("/entities").json(&json!({"name": nasty, "kind": "private", "time_zone": "America/Tijuana"}))).await;
    assert_eq!(s, 201, "{b}");
    let e: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(e["name"], nasty);
    let (s, _, b) = send(
        c.get(format!("{api}/entities"))
            .query(&[("q", "'; DROP TABLE entities;--")])
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, _, b) = send(
        c.get(format!("{api}/entities"))
            .query(&[("q", "%")])
            .bearer_auth(&admin),
    )
    .await;
    let found: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        (s, found["total"].as_i64()),
        (200, Some(1)),
        "a literal % matches only names that contain one"
    );
    let (s, ct, b) = send(
        post("/entities").json(&json!({"name": "Nombre\u{0007}con control", "kind": "private", "time_zone": "UTC"})),
    )
    .await;
    assert_problem(s, &ct, &b, 422, "control characters");

    // The HTML page escapes it.
    let id = e["id"].as_str().unwrap();
    let (page_client, _) = page_login(&srv.base, "reportes@sat.example", PASSWORD).await;
    let html = page_client
        .get(format!("{}/entities", srv.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("<script>alert(1)"),
        "the reporter's page must not contain raw markup"
    );
    // The national list shows the name escaped.
    let (s, _, b) = send(c.get(format!("{api}/entities/{id}")).bearer_auth(&admin)).await;
    assert_eq!(s, 200, "{b}");
}

/// The incident, handling, campaign, deadline, webhook and sharing routes: every POST refuses 10 MB,
/// invalid UTF-8 and unknown fields with a problem; raw-body uploads have their own limits; queries and
/// headers that make no sense are 4xx; injection strings are data.
async fn incident_routes_answer_hostile_input_with_problems(backend: Backend) {
    let srv = start_demo(backend).await;
    let api = format!("{}/api/v1", srv.base);
    let c = client();
    let csirt = api_login(&srv.base, "csirt@atdt.example", PASSWORD).await;
    let admin = api_login(&srv.base, "admin@atdt.example", PASSWORD).await;
    let officer = api_login(&srv.base, "seguridad@sat.example", PASSWORD).await;
    let me: Value = serde_json::from_str(&send(c.get(format!("{api}/me")).bearer_auth(&officer)).await.2).unwrap();
    let own = me["user"]["entity_id"].as_str().unwrap().to_string();
    let nasty = "Robert'); DROP TABLE incidents;-- <script>alert(1)</script> % _ \\ {{7*7}} ${jndi:ldap://x}";
    let report = json!({
        "entity_id": own, "title": nasty, "description": format!("{nasty}\n\tsegunda línea"),
        "detected_at": baluarte_test_support::clock::local_hours_ago(24, "America/Mexico_City"), "rsit_class": "fraud", "rsit_type": "phishing",
        "severity": "medium", "tlp": "GREEN", "pap": "GREEN",
        "observables": [{"value": "hxxp://pago-seguro[.]example/login"}]
    });
    let (s, _, b) = send(c.post(format!("{api}/incidents")).bearer_auth(&csirt).json(&report)).await;
    assert_eq!(s, 201, "{b}");
    let filed: Value = serde_json::from_str(&b).unwrap();
    let id = filed["incident"]["id"].as_str().unwrap().to_string();
    assert_eq!(filed["incident"]["title"], nasty, "stored verbatim");
    let (s, _, b) = send(
        c.post(format!("{api}/incidents/{id}/requests"))
            .bearer_auth(&csirt)
            .json(&json!({"question": "¿Qué equipos se afectaron?"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let rid = serde_json::from_str::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _, b) = send(
        c.post(format!("{api}/incidents/{id}/tasks"))
            .bearer_auth(&csirt)
            .json(&json!({"title": "Bloquear el dominio"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let tid = serde_json::from_str::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // (method, path, caller): every JSON write of the incident area.
    let writes: Vec<(&str, String, &str)> = vec![
        ("POST", "/incidents".into(), &csirt),
        ("POST", format!("/incidents/{id}/stages"), &csirt),
        ("POST", format!("/incidents/{id}/requests/{rid}/answer"), &csirt),
        ("POST", format!("/incidents/{id}/status"), &csirt),
        ("POST", format!("/incidents/{id}/triage"), &csirt),
        ("POST", format!("/incidents/{id}/assign"), &csirt),
        ("POST", format!("/incidents/{id}/notes"), &csirt),
        ("POST", format!("/incidents/{id}/tasks"), &csirt),
        ("PATCH", format!("/incidents/{id}/tasks/{tid}"), &csirt),
        ("POST", format!("/incidents/{id}/requests"), &csirt),
        ("POST", format!("/incidents/{id}/stage-requests"), &csirt),
        ("POST", format!("/incidents/{id}/close"), &csirt),
        ("POST", format!("/incidents/{id}/reject"), &csirt),
        ("POST", format!("/incidents/{id}/merge"), &csirt),
        ("POST", format!("/incidents/{id}/campaign"), &csirt),
        ("POST", "/campaigns".into(), &csirt),
        ("POST", "/deadline-assignments".into(), &admin),
        ("POST", format!("/entities/{own}/webhooks"), &admin),
    ];
    for (method, path, token) in &writes {
        let what = format!("{method} {path}");
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        // 10 MB: 413 before the body is read.
        let headers = format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n");
        let (s, ct, b) =
            raw_post_method(&srv.base, method, &format!("/api/v1{path}"), &headers, 10 * 1024 * 1024).await;
        assert_problem(s, &ct, &b, 413, &format!("{what}: 10 MB"));
        // Invalid UTF-8.
        let (s, ct, b) = send(
            c.request(m.clone(), format!("{api}{path}"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
        )
        .await;
        assert!(s == 400 || s == 422, "{what}: invalid UTF-8 → {s}");
        assert_problem(s, &ct, &b, s, &format!("{what}: invalid UTF-8"));
        // Unknown fields, by name.
        let (s, ct, b) = send(
            c.request(m.clone(), format!("{api}{path}"))
                .bearer_auth(token)
                .json(&json!({"zz_is_admin": true})),
        )
        .await;
        assert_problem(s, &ct, &b, 422, &format!("{what}: unknown field"));
        assert!(b.contains("zz_is_admin"), "{what}: {b}");
        // Not an object at all.
        let (s, ct, b) = send(
            c.request(m.clone(), format!("{api}{path}"))
                .bearer_auth(token)
                .json(&json!(["a", 1, null])),
        )
        .await;
        assert!(s == 400 || s == 422, "{what}: an array → {s}");
        assert_problem(s, &ct, &b, s, &format!("{what}: an array"));
    }

    // Wrong types and values name the field.
    let mut r = report.clone();
    r["severity"] = json!("apocalyptic");
    let (s, ct, b) = send(c.post(format!("{api}/incidents")).bearer_auth(&csirt).json(&r)).await;
    assert_problem(s, &ct, &b, 422, "unknown severity");
    assert!(b.contains("severity"), "{b}");
    let mut r = report.clone();
    r["interruption_minutes"] = json!("mucho");
    let (s, ct, b) = send(c.post(format!("{api}/incidents")).bearer_auth(&csirt).json(&r)).await;
    assert_problem(s, &ct, &b, 422, "wrong type");
    assert!(b.contains("interruption_minutes"), "{b}");
    let mut r = report.clone();
    r["detected_at"] = json!("mañana temprano");
    r["title"] = json!("Nombre\u{0007}con control");
    r["observables"] = json!([{"kind": "ipv4", "value": "999.1.1.1"}]);
    let (s, ct, b) = send(c.post(format!("{api}/incidents")).bearer_auth(&csirt).json(&r)).await;
    assert_problem(s, &ct, &b, 422, "invalid fields");
    for field in ["detected_at", "title", "observables[0]"] {
        assert!(b.contains(&format!("\"{field}\"")), "{field} named: {b}");
    }
    let (s, ct, b) = send(
        c.post(format!("{api}/incidents/{id}/status"))
            .bearer_auth(&csirt)
            .json(&json!({"status": "closed"})),
    )
    .await;
    assert_problem(s, &ct, &b, 422, "a final status set directly");

    // Idempotency keys that are not printable ASCII, or too long.
    for key in [vec![0xffu8, 0xfe], vec![b'k'; 300]] {
        let (s, ct, b) = send(
            c.post(format!("{api}/incidents"))
                .bearer_auth(&csirt)
                .header(
                    "idempotency-key",
                    reqwest::header::HeaderValue::from_bytes(&key).unwrap(),
                )
                .json(&report),
        )
        .await;
        assert_problem(s, &ct, &b, 422, "bad Idempotency-Key");
        assert!(b.contains("Idempotency-Key"), "{b}");
    }

    // Raw-body routes: their own limits, then the same problems.
    let headers = format!("Authorization: Bearer {csirt}\r\nContent-Type: application/octet-stream\r\n");
    for path in [
        format!("/api/v1/incidents/{id}/attachments?filename=x.bin"),
        "/api/v1/stix/import".to_string(),
    ] {
        let (s, ct, b) = raw_post(&srv.base, &path, &headers, 11 * 1024 * 1024).await;
        assert_problem(s, &ct, &b, 413, &format!("{path}: 11 MB"));
    }
    for (filename, what) in [("../../", "a name that is only a path"), ("", "no name")] {
        let (s, ct, b) = send(
            c.post(format!("{api}/incidents/{id}/attachments"))
                .query(&[("filename", filename)])
                .bearer_auth(&csirt)
                .body("contenido"),
        )
        .await;
        assert_problem(s, &ct, &b, 422, what);
    }
    let (s, ct, b) = send(
        c.post(format!("{api}/incidents/{id}/attachments"))
            .bearer_auth(&csirt)
            .body("x"),
    )
    .await;
    assert_problem(s, &ct, &b, 400, "no filename parameter");
    let (s, ct, b) = send(
        c.post(format!("{api}/incidents/{id}/attachments"))
            .query(&[("filename", "vacío.txt")])
            .bearer_auth(&csirt),
    )
    .await;
    assert_problem(s, &ct, &b, 422, "an empty file");
    for (body, what) in [
        (vec![0xff, 0xfe, b'{'], "invalid UTF-8 bundle"),
        (
            b"{\"type\": \"bundle\", \"id\": \"bundle--x\", \"objects\": 7}".to_vec(),
            "objects of the wrong type",
        ),
        (b"[]".to_vec(), "not an object"),
    ] {
        let (s, ct, b) = send(c.post(format!("{api}/stix/import")).bearer_auth(&csirt).body(body)).await;
        assert_problem(s, &ct, &b, 422, what);
        assert!(b.contains("bundle"), "{what}: {b}");
    }
    let (s, ct, b) = send(
        c.post(format!("{api}/stix/import?tlp=PURPLE"))
            .bearer_auth(&csirt)
            .body(r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}"#),
    )
    .await;
    assert_problem(s, &ct, &b, 422, "unknown TLP");

    // Queries.
    for (path, want) in [
        ("/incidents?status=bogus", 422),
        ("/incidents?severity=galactic", 400),
        ("/incidents?page=abc", 400),
        ("/observables/lookup?value=%27%20OR%201%3D1%20--", 422),
        ("/observables/lookup", 400),
        ("/notifications?unread=maybe", 400),
    ] {
        let (s, ct, b) = send(c.get(format!("{api}{path}")).bearer_auth(&csirt)).await;
        assert_problem(s, &ct, &b, want, path);
    }
    let (s, _, b) = send(
        c.get(format!("{api}/incidents"))
            .query(&[("q", "%"), ("status", "all")])
            .bearer_auth(&csirt),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let found: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(found["total"], 1, "a literal % matches only the title that has one");
    let (s, _, b) = send(c.get(format!("{api}/incidents/{id}")).bearer_auth(&csirt)).await;
    assert_eq!(s, 200);
    let case: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(case["incident"]["title"], nasty);
    assert_eq!(
        case["observables"][0]["value"], "http://pago-seguro.example/login",
        "refanged"
    );
    // Unknown ids are 404, not 500.
    for path in [
        "/incidents/no-such-id",
        "/incidents/no-such-id/submissions/x/report",
        "/incidents/no-such-id/attachments/x",
        "/campaigns/no-such-id",
    ] {
        let (s, ct, b) = send(c.get(format!("{api}{path}")).bearer_auth(&csirt)).await;
        assert_problem(s, &ct, &b, 404, path);
    }
}

async fn pages_refuse_forged_forms_and_escape_markup(backend: Backend) {
    let srv = start_demo(backend).await;
    let base = &srv.base;
    let (c, csrf) = page_login(base, "seguridad@sat.example", PASSWORD).await;

    // No token, a wrong token: refused with a page, nothing written.
    let before = srv
        .svc
        .audit()
        .list_audit(&baluarte_test_support::actors::system(), None, None, Default::default())
        .await
        .unwrap()
        .total;
    for form in [
        vec![("lang", "en"), ("next", "/")],
        vec![("_csrf", "forged"), ("lang", "en"), ("next", "/")],
    ] {
        let r = c.post(format!("{base}/lang")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("<html"), "an HTML error page");
    }
    let after = srv
        .svc
        .audit()
        .list_audit(&baluarte_test_support::actors::system(), None, None, Default::default())
        .await
        .unwrap()
        .total;
    assert_eq!(before, after, "a refused form writes nothing");

    // A login form posted without the cookie-bound token is refused too.
    let anonymous = client();
    let r = anonymous
        .post(format!("{base}/login"))
        .form(&[("email", "seguridad@sat.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // An oversized form is refused before anything else is looked at.
    let (status, ct, _) = raw_post(
        base,
        "/lang",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        2 * 1024 * 1024,
    )
    .await;
    assert_eq!(status, 413);
    assert!(ct.starts_with("text/html"), "{ct}");

    // Invalid UTF-8 in a form body.
    let mut raw = format!("_csrf={csrf}&lang=").into_bytes();
    raw.extend_from_slice(&[0xff, 0xfe]);
    let r = c
        .post(format!("{base}/lang"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "invalid UTF-8 form → {}", r.status());

    // The language switch with a valid token works and comes back to a same-site path only.
    let r = c
        .post(format!("{base}/lang"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("lang", "en"),
            ("next", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");

    // Markup in a name is escaped on the page.
    let officer = srv
        .svc
        .accounts()
        .session(&api_login(base, "seguridad@sat.example", PASSWORD).await)
        .await
        .unwrap()
        .actor;
    let entity = officer.entity_id().to_string();
    let input = baluarte_core::service::ContactInput {
        name: "<img src=x onerror=alert(1)>".into(),
        title: "Enlace".into(),
        email: "xss@sat.example".into(),
        phone: "+52 55 1234 5678".into(),
        is_24_7: false,
        tlp: baluarte_core::model::Tlp::Amber,
    };
    srv.svc
        .registry()
        .create_contact(&officer, &entity, input)
        .await
        .unwrap();
    let html = c
        .get(format!("{base}/entities/{entity}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;") || html.contains("&#60;img"),
        "escaped on the entity page"
    );
    assert!(!html.contains("<img src=x"), "never raw");
    let _ = json!({});
}
