//! The TAXII 2.1 server: discovery, collections, content negotiation, authentication and TLP.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii_server_follows_the_protocol_and_the_tlp() {
    let d = dataset().await;
    let root = format!("{}/taxii2", d.srv.base);
    let basic = Some(("token", d.indicators.as_str()));

    // Discovery and the API root, with Basic (token as password) and Bearer alike.
    let a = taxii_get(&format!("{root}/"), basic, Some(TAXII)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["title"], "Baluarte TAXII 2.1");
    // No public address is configured: the API root is a relative URL (TAXII 2.1 §4.1.1 allows it).
    assert_eq!(a.body["default"], "/taxii2/api/");
    assert_eq!(a.body["api_roots"], json!(["/taxii2/api/"]));
    let api_root = format!("{root}/api/");
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
        .delete(format!("{api_root}collections/{GREEN}/objects/{one}/"))
        .basic_auth("token", Some(&d.indicators))
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
