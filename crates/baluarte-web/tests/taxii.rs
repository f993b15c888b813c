//! Sharing over real HTTP: the TAXII 2.1 server (its protocol rules here, and the OASIS client
//! `taxii2-client` through `tests/taxii_client.py`), and STIX 2.1 exports judged by the OASIS
//! `stix2-validator`.
//!
//! The Python tools are found through `BALUARTE_PYTHON` (a Python with taxii2-client) and
//! `STIX2_VALIDATOR` (the validator's executable). When missing, `baluarte_test_support::require` decides:
//! a failure under CI, a skip (said on stderr) elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii_server_follows_the_protocol_and_the_tlp() {
    let d = dataset().await;
    let root = format!("{}/taxii2", d.srv.base);
    let basic = Some(("token", d.indicators.as_str()));

    // Discovery and the API root, with Basic (token as password) and Bearer alike.
    let a = taxii_get(&format!("{root}/"), basic, Some(TAXII)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["title"], "Baluarte TAXII 2.1");
    let api_root = a.body["default"].as_str().unwrap().to_string();
    assert_eq!(api_root, format!("{root}/api/"));
    assert_eq!(a.body["api_roots"], json!([api_root]));
    let a = taxii_get(&api_root, Some(("bearer", &d.indicators)), None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["versions"], json!([TAXII]));
    assert!(a.body["max_content_length"].as_u64().unwrap() > 0);

    // Accept is read leniently; anything else is 406.
    for ok in [
        "application/taxii+json",
        "application/taxii+json; version=2.1",
        "*/*",
        "text/html, application/taxii+json;q=0.9",
    ] {
        assert_eq!(taxii_get(&api_root, basic, Some(ok)).await.status, 200, "Accept: {ok}");
    }
    for bad in [
        "application/json",
        "text/html",
        "application/taxii+json;version=2.0",
        "application/vnd.oasis.taxii+json",
    ] {
        let a = taxii_get(&api_root, basic, Some(bad)).await;
        assert_eq!(a.status, 406, "Accept: {bad}");
        assert_eq!(a.body["http_status"], "406");
    }

    // Credentials.
    let a = taxii_get(&format!("{root}/"), None, None).await;
    assert_eq!(a.status, 401);
    assert!(a.body["title"].is_string() && a.body["description"].is_string());
    assert_eq!(a.body["http_status"], "401");
    let www = a
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(www.starts_with("Basic realm=\"baluarte\""), "{www}");
    for wrong in [
        Some(("token", "blt_forged")),
        Some(("bearer", "bls_forged")),
        Some(("token", "")),
    ] {
        assert_eq!(taxii_get(&api_root, wrong, None).await.status, 401, "{wrong:?}");
    }

    // Collections: every audience listed, readable as far as the caller's TLP goes.
    let a = taxii_get(&format!("{api_root}collections/"), basic, None).await;
    assert_eq!(a.status, 200);
    let readable: HashMap<String, bool> = a.body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["can_read"].as_bool().unwrap()))
        .collect();
    assert_eq!(readable.len(), 4);
    assert!(
        readable[CLEAR] && readable[GREEN] && readable[AMBER] && !readable[STRICT],
        "{readable:?}"
    );
    let a = taxii_get(&format!("{api_root}collections/{GREEN}/"), basic, None).await;
    assert_eq!((a.status, a.body["title"].as_str()), (200, Some("TLP:GREEN")));
    assert_eq!(a.body["media_types"], json!(["application/stix+json;version=2.1"]));
    let a = taxii_get(
        &format!("{api_root}collections/00000000-0000-0000-0000-000000000000/"),
        basic,
        None,
    )
    .await;
    assert_eq!((a.status, a.body["http_status"].as_str()), (404, Some("404")));
    let a = taxii_get(
        &format!("{api_root}collections/00000000-0000-0000-0000-000000000000/objects/"),
        basic,
        None,
    )
    .await;
    assert_eq!(a.status, 404);
    let a = taxii_get(&format!("{api_root}no-such-thing/"), basic, None).await;
    assert_eq!(a.status, 404);
    let a = taxii_get(&format!("{api_root}collections/{STRICT}/objects/"), basic, None).await;
    assert_eq!(
        (a.status, a.body["http_status"].as_str()),
        (403, Some("403")),
        "{}",
        a.body
    );
    let a = taxii_get(&format!("{api_root}collections/{STRICT}/manifest/"), basic, None).await;
    assert_eq!(a.status, 403);

    // Objects: the triaged incidents of the collection's TLP, with the date-added headers.
    let objects = |coll: &str, who: &str, q: &str| {
        let url = format!("{api_root}collections/{coll}/objects/{q}");
        let who = who.to_string();
        async move { taxii_get(&url, Some(("token", who.as_str())), None).await }
    };
    let green = objects(GREEN, &d.indicators, "").await;
    assert_eq!(green.status, 200, "{}", green.body);
    assert_eq!(green.body["more"], false);
    let green_ids = ids_of(&green.body);
    let incidents: Vec<&Value> = green.body["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "incident")
        .collect();
    assert_eq!(incidents.len(), d.by_tlp["GREEN"].len(), "{}", green.body);
    assert!(green_ids.len() > 4, "{green_ids:?}");
    let text = green.body.to_string();
    assert!(text.contains("Escaneo masivo") && !text.contains("Reporte aún sin triaje") && !text.contains("nómina"));
    for h in ["x-taxii-date-added-first", "x-taxii-date-added-last"] {
        let v = green.headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(v.parse::<jiff::Timestamp>().is_ok(), "{h}: {v:?}");
    }
    let clear = objects(CLEAR, &d.indicators, "").await;
    assert!(clear.body.to_string().contains("Sitio apócrifo"));
    assert!(!clear.body.to_string().contains("Escaneo masivo"));

    // Paging: limit and next walk the same objects; a bad limit or cursor is 400.
    let mut walked = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &next {
            Some(n) => format!("?limit=3&next={n}"),
            None => "?limit=3".into(),
        };
        let p = objects(GREEN, &d.indicators, &q).await;
        assert_eq!(p.status, 200);
        let ids = ids_of(&p.body);
        assert!(ids.len() <= 3);
        walked.extend(ids);
        pages += 1;
        if p.body["more"] == true {
            next = Some(p.body["next"].as_str().expect("next when more").to_string());
        } else {
            assert!(p.body.get("next").is_none());
            break;
        }
    }
    assert!(pages >= 2);
    assert_eq!(walked, green_ids);
    for q in ["?limit=0", "?limit=abc", "?next=not-a-cursor", "?added_after=yesterday"] {
        let a = objects(GREEN, &d.indicators, q).await;
        assert_eq!(a.status, 400, "{q}: {}", a.body);
    }
    // added_after: nothing newer than the last addition.
    let last = green.headers["x-taxii-date-added-last"].to_str().unwrap().to_string();
    let later = objects(GREEN, &d.indicators, &format!("?added_after={last}")).await;
    assert_eq!(later.status, 200);
    assert!(ids_of(&later.body).is_empty(), "{}", later.body);
    assert_eq!(later.body["more"], false);

    // The manifest lists the same objects with their versions.
    let m = taxii_get(&format!("{api_root}collections/{GREEN}/manifest/"), basic, None).await;
    assert_eq!(m.status, 200);
    let records = m.body["objects"].as_array().unwrap();
    assert_eq!(ids_of(&m.body), green_ids);
    for r in records {
        assert!(
            r["date_added"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok(),
            "{r}"
        );
        assert!(r["version"].is_string(), "{r}");
        assert_eq!(r["media_type"], "application/stix+json;version=2.1");
    }
    // One object by id.
    let one = &green_ids[0];
    let a = taxii_get(&format!("{api_root}collections/{GREEN}/objects/{one}/"), basic, None).await;
    assert_eq!((a.status, ids_of(&a.body)), (200, vec![one.clone()]));
    let a = taxii_get(
        &format!("{api_root}collections/{GREEN}/objects/indicator--00000000-0000-4000-8000-000000000000/"),
        basic,
        None,
    )
    .await;
    assert_eq!(a.status, 404);

    // AMBER: an entity's integration gets its own entity's incidents only; the CSIRT gets all.
    let amber = objects(AMBER, &d.indicators, "").await.body.to_string();
    assert!(amber.contains("Malware en estaciones"), "{amber}");
    assert!(
        !amber.contains("Fuga de datos"),
        "another entity's AMBER incident leaked"
    );
    let amber = objects(AMBER, &d.csirt, "").await.body.to_string();
    assert!(amber.contains("Malware en estaciones") && amber.contains("Fuga de datos"));
    let strict = objects(STRICT, &d.csirt, "").await;
    assert_eq!(strict.status, 200);
    assert!(strict.body.to_string().contains("cuenta privilegiada"));
    assert!(!d.own_amber.is_empty() && !d.foreign_amber.is_empty());

    // No writes: wrong methods are TAXII errors too.
    let res = client()
        .post(format!("{api_root}collections/{GREEN}/objects/"))
        .basic_auth("token", Some(&d.indicators))
        .header("content-type", TAXII)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["content-type"], TAXII);

    // The OASIS client agrees.
    let Some(python) = baluarte_test_support::require::python(&["taxii2client.v21"]) else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/taxii_client.py");
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .arg(format!("{root}/"))
        .arg(&d.indicators)
        .output()
        .await
        .expect("run taxii_client.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(out.status.success(), "taxii_client.py failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

/// TAXII 2.1 §3.4 over HTTP: the match filters, cursors, and the 400s that name the parameter at fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii_filters_and_cursors() {
    let d = dataset().await;
    let objects = format!("{}/taxii2/api/collections/{GREEN}/objects/", d.srv.base);
    let auth = Some(("token", d.indicators.as_str()));
    let get = |q: &str| {
        let url = format!("{objects}{q}");
        async move { taxii_get(&url, auth, None).await }
    };
    let whole = get("").await;
    assert_eq!(whole.status, 200);
    let all = whole.body["objects"].as_array().unwrap().clone();
    let of_type = |t: &str| -> Vec<String> {
        all.iter()
            .filter(|o| o["type"] == t)
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    let incidents = of_type("incident");
    assert_eq!(incidents.len(), 3);

    // match[type], bracketed or percent-encoded, one type or several.
    assert_eq!(ids_of(&get("?match[type]=incident").await.body), incidents);
    assert_eq!(ids_of(&get("?match%5Btype%5D=incident").await.body), incidents);
    let two = ids_of(&get("?match[type]=incident,indicator").await.body);
    let expected: Vec<String> = all
        .iter()
        .filter(|o| o["type"] == "incident" || o["type"] == "indicator")
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(two, expected);
    assert!(ids_of(&get("?match[type]=malware").await.body).is_empty());
    // Paged through `next`, one object a page.
    let mut walked = Vec::new();
    let mut next = String::new();
    loop {
        let p = get(&format!("?match[type]=indicator&limit=1{next}")).await;
        assert_eq!(p.status, 200, "{}", p.body);
        walked.extend(ids_of(&p.body));
        if p.body["more"] != true {
            break;
        }
        next = format!("&next={}", p.body["next"].as_str().unwrap());
    }
    assert_eq!(walked, of_type("indicator"));

    // match[id]: those objects, in the collection's order.
    let q = format!("?match[id]={},{}", incidents[2], incidents[0]);
    assert_eq!(
        ids_of(&get(&q).await.body),
        vec![incidents[0].clone(), incidents[2].clone()]
    );
    let q = format!("?match[id]={}&match[id]={}", incidents[1], of_type("identity")[0]);
    assert_eq!(ids_of(&get(&q).await.body).len(), 2);

    // match[version]: last, first and all are the one version we keep; a timestamp, only that version.
    for v in ["last", "first", "all", "first,last"] {
        assert_eq!(
            ids_of(&get(&format!("?match[version]={v}")).await.body).len(),
            all.len(),
            "{v}"
        );
    }
    let first = all.iter().find(|o| o["type"] == "incident").unwrap();
    let stamp = first["modified"].as_str().unwrap();
    let same = get(&format!("?match[version]={stamp}")).await.body;
    assert!(ids_of(&same).contains(&incidents[0]), "{same}");
    // Objects with a version of their own carry that one; a cyber-observable's version is when it was
    // added, which is its incident's.
    for o in same["objects"].as_array().unwrap() {
        assert_eq!(
            o["modified"].as_str().or(o["created"].as_str()).unwrap_or(stamp),
            stamp,
            "{o}"
        );
    }
    // The manifest takes the same filters; the date-added headers bound what it lists.
    let m = get("").await;
    let manifest = taxii_get(
        &format!(
            "{}/taxii2/api/collections/{GREEN}/manifest/?match[type]=incident",
            d.srv.base
        ),
        auth,
        None,
    )
    .await;
    assert_eq!(ids_of(&manifest.body), incidents);
    let header = |a: &Answer, h: &str| a.headers[h].to_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert!(header(&manifest, "x-taxii-date-added-first") <= header(&manifest, "x-taxii-date-added-last"));
    assert!(header(&m, "x-taxii-date-added-first") <= header(&manifest, "x-taxii-date-added-first"));
    // Get An Object takes them too.
    let one = taxii_get(&format!("{objects}{}/?match[version]=last", incidents[1]), auth, None).await;
    assert_eq!(ids_of(&one.body), vec![incidents[1].clone()]);

    // A cursor this server gave works; anything else is 400, naming the parameter.
    let p = get("?limit=2").await;
    let cursor = p.body["next"].as_str().unwrap().to_string();
    let rest = get(&format!("?limit=1000&next={cursor}")).await;
    let mut joined = ids_of(&p.body);
    joined.extend(ids_of(&rest.body));
    assert_eq!(joined, ids_of(&whole.body));
    use base64::Engine;
    let forged = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let bad: Vec<(String, &str)> = vec![
        ("?next=not-a-cursor".into(), "next"),
        (format!("?next={}", forged("a:yesterday:x")), "next"),
        (format!("?next={}", forged("i:1:many:x")), "next"),
        (format!("?next={}", forged("z:1:x")), "next"),
        (format!("?next={cursor}&next={cursor}"), "next"),
        ("?limit=2&limit=3".into(), "limit"),
        ("?limit=-1".into(), "limit"),
        ("?added_after=2026-13-01".into(), "added_after"),
        ("?match[type]=Incident".into(), "match[type]"),
        ("?match[type]=incident,".into(), "match[type]"),
        ("?match[type]=".into(), "match[type]"),
        ("?match[id]=incident".into(), "match[id]"),
        ("?match[id]=incident--not-a-uuid".into(), "match[id]"),
        ("?match[version]=latest".into(), "match[version]"),
        ("?match[version]=2026-01-01".into(), "match[version]"),
        ("?match[spec_version]=two".into(), "match[spec_version]"),
        ("?match[colour]=red".into(), "match[colour]"),
    ];
    for (q, param) in bad {
        let a = get(&q).await;
        assert_eq!(
            (a.status, a.body["http_status"].as_str()),
            (400, Some("400")),
            "{q}: {}",
            a.body
        );
        let description = a.body["description"].as_str().unwrap();
        assert!(description.starts_with(&format!("{param}:")), "{q}: {description}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stix_exports_pass_the_oasis_validator() {
    let d = dataset().await;
    let api = format!("{}/api/v1", d.srv.base);
    let c = client();
    // A campaign with two incidents, to export as well.
    let campaign = post(
        &c,
        format!("{api}/campaigns"),
        &d.csirt,
        json!({"name": "Suplantación del SAT 2026", "description": "Phishing y sitios apócrifos", "tlp": "GREEN"}),
    )
    .await;
    let cid = campaign["id"].as_str().unwrap();
    for id in [&d.by_tlp["CLEAR"][0], &d.by_tlp["GREEN"][0]] {
        post(
            &c,
            format!("{api}/incidents/{id}/campaign"),
            &d.csirt,
            json!({"campaign_id": cid}),
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, path) in [
        ("incident-green", format!("/incidents/{}/stix", d.by_tlp["GREEN"][1])),
        (
            "incident-strict",
            format!("/incidents/{}/stix", d.by_tlp["AMBER+STRICT"][0]),
        ),
        ("campaign", format!("/campaigns/{cid}/stix")),
    ] {
        let res = c
            .get(format!("{api}{path}"))
            .bearer_auth(&d.csirt)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/stix+json;version=2.1",
            "{path}"
        );
        let bundle: Value = res.json().await.unwrap();
        assert_eq!(bundle["type"], "bundle", "{path}");
        assert!(bundle["objects"].as_array().is_some_and(|o| !o.is_empty()), "{path}");
        let file = dir.path().join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
        files.push(file);
    }
    // Only the national CSIRT exports.
    let res = c
        .get(format!("{api}/incidents/{}/stix", d.by_tlp["GREEN"][1]))
        .bearer_auth(&d.indicators)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let Some(validator) =
        baluarte_test_support::require::executable("STIX2_VALIDATOR", "the stix2_validator executable")
    else {
        return;
    };
    for file in &files {
        let out = match std::process::Command::new(&validator)
            .args(["--version", "2.1", "--strict"])
            .arg(file)
            .output()
        {
            Ok(o) => o,
            Err(e) => panic!("STIX2_VALIDATOR={} cannot run: {e}", validator.display()),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let hint = if stdout.contains("Cannot locate a schema") {
            "\n(this validator has no STIX schemas: stix2-validator 3.3.1 wheels ship without them; use the \
             pinned 3.2.0 of tests/sharing/requirements.txt)"
        } else {
            ""
        };
        assert!(
            out.status.success(),
            "stix2_validator --strict refused {}:{hint}\n{stdout}\n{}\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(file).unwrap_or_default()
        );
    }
}
