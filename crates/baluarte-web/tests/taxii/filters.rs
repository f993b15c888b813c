//! TAXII 2.1 filters and cursors over HTTP.

use super::*;

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
