//! Relations between incidents (merged here, merged into, campaign, correlation) × TLP × own and
//! foreign entity × every kind of caller: a relation is shown exactly to whoever may read what it
//! points to. For each TLP the CSIRT merges a foreign incident into one of the SAT's, merges one of the
//! SAT's into a foreign one, puts the SAT's incident in a campaign marked with that TLP, and gives the
//! SAT's incident and the foreign one a shared indicator.

use super::*;

conformance!(incident_relations_follow_one_visibility_rule,);

const TLPS: [&str; 5] = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

fn report(entity: &str, title: &str, tlp: &str, observable: Option<&str>) -> Value {
    json!({
        "entity_id": entity, "title": title, "description": "Relación entre incidentes de la matriz.",
        "detected_at": clock::local_hours_ago(30, "America/Mexico_City"), "rsit_class": "intrusions",
        "rsit_type": "system-compromise", "severity": "high", "tlp": tlp, "pap": "AMBER",
        "observables": observable.map(|o| vec![json!({"value": o})]).unwrap_or_default()
    })
}

async fn send(c: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let res = c.post(&url).bearer_auth(token).json(&body).send().await.expect("post");
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "setup {url}: {status} {v}");
    v
}

/// What one TLP's relations are made of.
struct Related {
    tlp: &'static str,
    /// The SAT's incident a foreign one was merged into; in the campaign; shares the indicator.
    own_survivor: String,
    /// The foreign incident merged into `own_survivor`: id, reference and title.
    foreign_merged: [String; 3],
    /// The SAT's incident merged into `foreign_survivor`.
    own_merged: String,
    foreign_survivor: [String; 3],
    campaign: [String; 2],
}

async fn relate(c: &reqwest::Client, api: &str, csirt: &str, own: &str, foreign: &str, tlp: &'static str) -> Related {
    let n = tlp.to_lowercase().replace('+', "-");
    let indicator = format!("relacion-{n}.example");
    let file = |entity: &str, title: String, observable: Option<&str>| {
        let body = report(entity, &title, tlp, observable);
        async move {
            let v = send(c, format!("{api}/incidents"), csirt, body).await;
            let i = &v["incident"];
            [
                i["id"].as_str().unwrap().to_string(),
                i["reference"].as_str().unwrap().to_string(),
                title,
            ]
        }
    };
    let own_survivor = file(own, format!("Superviviente propio {tlp}"), Some(&indicator)).await;
    let foreign_merged = file(foreign, format!("Duplicado ajeno reservado {tlp}"), Some(&indicator)).await;
    send(
        c,
        format!("{api}/incidents/{}/merge", foreign_merged[0]),
        csirt,
        json!({"into": own_survivor[0]}),
    )
    .await;
    let own_merged = file(own, format!("Duplicado propio {tlp}"), None).await;
    let foreign_survivor = file(foreign, format!("Superviviente ajeno reservado {tlp}"), None).await;
    send(
        c,
        format!("{api}/incidents/{}/merge", own_merged[0]),
        csirt,
        json!({"into": foreign_survivor[0]}),
    )
    .await;
    let name = format!("Campaña reservada de relaciones {tlp}");
    let campaign = send(c, format!("{api}/campaigns"), csirt, json!({"name": name, "tlp": tlp})).await;
    let campaign = [campaign["id"].as_str().unwrap().to_string(), name];
    send(
        c,
        format!("{api}/incidents/{}/campaign", own_survivor[0]),
        csirt,
        json!({"campaign_id": campaign[0]}),
    )
    .await;
    Related {
        tlp,
        own_survivor: own_survivor[0].clone(),
        foreign_merged,
        own_merged: own_merged[0].clone(),
        foreign_survivor,
        campaign,
    }
}

/// Whether TLP lets an entity of the same community count a marked indicator (CLEAR and GREEN do).
fn countable(tlp: &str) -> bool {
    matches!(tlp, "CLEAR" | "GREEN")
}

async fn incident_relations_follow_one_visibility_rule(backend: Backend) {
    let srv = start_demo(backend).await;
    let base = srv.base.clone();
    let api = format!("{base}/api/v1");
    let c = client();
    let mut tokens: HashMap<&str, String> = HashMap::new();
    for (name, email) in [
        ("csirt", "csirt@atdt.example"),
        ("coordinator", "coordinacion@atdt.example"),
        ("nat_auditor", "auditoria@atdt.example"),
        ("officer", "seguridad@sat.example"),
        ("reporter", "reportes@sat.example"),
    ] {
        tokens.insert(name, api_login(&base, email, PASSWORD).await);
    }
    let csirt = tokens["csirt"].clone();
    let me = get_json(&c, format!("{api}/me"), &tokens["officer"]).await;
    let own = me["user"]["entity_id"].as_str().unwrap().to_string();
    let entities = get_json(&c, format!("{api}/entities?kind=private&per_page=5"), &csirt).await;
    let foreign = entities["items"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(own, foreign);
    let t: Value = c
        .post(format!("{api}/tokens"))
        .bearer_auth(&tokens["officer"])
        .json(&json!({"entity_id": own, "name": "relaciones", "purposes": ["incidents:write"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens.insert("token_incidents", t["secret"].as_str().unwrap().to_string());

    let mut related = Vec::new();
    for tlp in TLPS {
        related.push(relate(&c, &api, &csirt, &own, &foreign, tlp).await);
    }
    let (officer_pages, _) = page_login(&base, "seguridad@sat.example", PASSWORD).await;

    for r in &related {
        for (who, token) in &tokens {
            let national = ["csirt", "coordinator", "nat_auditor"].contains(who);
            // Campaigns are the CSIRT's working files: the national auditor reads incidents, not them.
            let reads_campaigns = ["csirt", "coordinator"].contains(who);
            let what = format!("{who}, TLP {}", r.tlp);
            // Merged here: the foreign duplicate is listed to national readers only.
            let file = get_json(&c, format!("{api}/incidents/{}", r.own_survivor), token).await;
            let merged: Vec<&str> = file["merged"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: {file}"))
                .iter()
                .map(|m| m["id"].as_str().unwrap())
                .collect();
            let want: Vec<&str> = if national { vec![&r.foreign_merged[0]] } else { vec![] };
            assert_eq!(merged, want, "{what}: merged here");
            // In a campaign: the campaign is named to those who may read campaigns.
            assert_eq!(
                file["incident"]["campaign_id"].as_str(),
                reads_campaigns.then_some(r.campaign[0].as_str()),
                "{what}: campaign"
            );
            // Correlated: other entities' reports counted within TLP; incidents named to national readers.
            let hint = file["correlations"].as_array().unwrap().first();
            match (national, countable(r.tlp)) {
                (true, _) => {
                    let hint = hint.unwrap_or_else(|| panic!("{what}: no correlation"));
                    assert_eq!(hint["incidents"][0]["id"], r.foreign_merged[0], "{what}: {hint}");
                }
                (false, true) => {
                    let hint = hint.unwrap_or_else(|| panic!("{what}: no correlation"));
                    assert_eq!(hint["other_reports"], 1, "{what}: {hint}");
                    assert_eq!(hint["incidents"], json!([]), "{what}: {hint}");
                }
                (false, false) => assert!(hint.is_none(), "{what}: {hint:?}"),
            }
            // Merged into: the foreign survivor is pointed to for national readers only.
            let file_merged = get_json(&c, format!("{api}/incidents/{}", r.own_merged), token).await;
            assert_eq!(
                file_merged["incident"]["merged_into"].as_str(),
                national.then_some(r.foreign_survivor[0].as_str()),
                "{what}: merged into"
            );
            if !national {
                let text = format!("{file}{file_merged}");
                for secret in r.foreign_merged.iter().chain(&r.foreign_survivor).chain(&r.campaign) {
                    assert!(!text.contains(secret.as_str()), "{what}: {secret} in {text}");
                }
            }
        }
        // The officer's pages of both incidents name nothing of the other entity nor the campaign.
        for id in [&r.own_survivor, &r.own_merged] {
            let (_, html) = get_text(&officer_pages, &format!("{base}/incidents/{id}")).await;
            assert!(html.contains("<h1"), "the officer reads its own incident");
            for secret in r.foreign_merged.iter().chain(&r.foreign_survivor).chain(&r.campaign) {
                assert!(
                    !html.contains(secret.as_str()),
                    "TLP {}: {secret} on the page of {id}",
                    r.tlp
                );
            }
        }
    }
}
