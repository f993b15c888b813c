//! The run: every row for every caller, statuses compared, foreign data searched for, and every route of the OpenAPI document covered.

use super::*;

conformance!(every_route_every_role_own_and_foreign,);

pub(super) async fn get_json(c: &reqwest::Client, url: String, token: &str) -> Value {
    c.get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

async fn every_route_every_role_own_and_foreign(backend: Backend) {
    let srv = start_demo(backend).await;
    let base = srv.base.clone();
    let api = format!("{base}/api/v1");
    let c = client();

    // People of the national authority and of the SAT (own entity); tokens of the SAT.
    let mut tokens: HashMap<&str, String> = HashMap::new();
    for (name, email) in [
        ("admin", "admin@atdt.example"),
        ("coordinator", "coordinacion@atdt.example"),
        ("csirt", "csirt@atdt.example"),
        ("soc", "soc@atdt.example"),
        ("nat_auditor", "auditoria@atdt.example"),
        ("officer", "seguridad@sat.example"),
        ("reporter", "reportes@sat.example"),
    ] {
        tokens.insert(name, api_login(&base, email, PASSWORD).await);
    }
    let admin = tokens["admin"].clone();
    let officer = tokens["officer"].clone();
    let me: Value = get_json(&c, format!("{api}/me"), &officer).await;
    let own = me["user"]["entity_id"].as_str().unwrap().to_string();

    // The foreign entity: a private operator whose contacts are all AMBER, with people of its own.
    let entities = get_json(&c, format!("{api}/entities?kind=private&per_page=200"), &admin).await;
    let mut foreign = None;
    for e in entities["items"].as_array().unwrap() {
        let id = e["id"].as_str().unwrap();
        let contacts = get_json(&c, format!("{api}/entities/{id}/contacts"), &admin).await;
        let users = get_json(&c, format!("{api}/users?entity_id={id}"), &admin).await;
        let all_amber = contacts.as_array().unwrap().iter().all(|c| c["tlp"] == "AMBER");
        if all_amber && !contacts.as_array().unwrap().is_empty() && users["total"].as_i64().unwrap() > 0 {
            foreign = Some((e.clone(), contacts, users));
            break;
        }
    }
    let (foreign_entity, foreign_contacts, foreign_users) =
        foreign.expect("a private operator with only AMBER contacts");
    let foreign_id = foreign_entity["id"].as_str().unwrap().to_string();

    let created: Value = c.post(format!("{api}/users")).bearer_auth(&admin).json(&json!({"entity_id": own, "email": "auditoria.interna@sat.example", "name": "Auditoría interna SAT", "role": "auditor", "password": PASSWORD})).send().await.unwrap().json().await.unwrap();
    assert_eq!(created["user"]["role"], "auditor", "{created}");
    tokens.insert(
        "ent_auditor",
        api_login(&base, "auditoria.interna@sat.example", PASSWORD).await,
    );
    for (name, purpose) in [
        ("token_registry", "registry:read"),
        ("token_events", "events:write"),
        ("token_incidents", "incidents:write"),
    ] {
        let t: Value = c
            .post(format!("{api}/tokens"))
            .bearer_auth(&officer)
            .json(&json!({"entity_id": own, "name": name, "purposes": [purpose]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.insert(name, t["secret"].as_str().unwrap().to_string());
    }
    let own_token: Value = c
        .post(format!("{api}/tokens"))
        .bearer_auth(&officer)
        .json(&json!({"entity_id": own, "name": "spare", "purposes": ["events:write"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign_token: Value = c
        .post(format!("{api}/tokens"))
        .bearer_auth(&admin)
        .json(&json!({"entity_id": foreign_id, "name": "foreign sensor", "purposes": ["registry:read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own_contact = get_json(&c, format!("{api}/entities/{own}/contacts"), &officer).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let own_users = get_json(&c, format!("{api}/users?q=sat.example&per_page=200"), &officer).await;
    let own_user = own_users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            ![
                "seguridad@sat.example",
                "reportes@sat.example",
                "auditoria.interna@sat.example",
            ]
            .contains(&u["email"].as_str().unwrap())
        })
        .expect("another SAT user")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let directory = get_json(&c, format!("{api}/contacts?per_page=200"), &officer).await;
    let green_contact = directory["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["tlp"] == "GREEN" && x["entity_id"] != own.as_str())
        .expect("a GREEN contact elsewhere")["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut ids: HashMap<String, String> = [
        ("own", own.clone()),
        ("foreign", foreign_id.clone()),
        ("foreign_name", foreign_entity["name"].as_str().unwrap().to_string()),
        ("own_contact", own_contact),
        (
            "foreign_contact",
            foreign_contacts[0]["id"].as_str().unwrap().to_string(),
        ),
        ("green_contact", green_contact),
        ("own_user", own_user),
        (
            "foreign_user",
            foreign_users["items"][0]["id"].as_str().unwrap().to_string(),
        ),
        ("own_token", own_token["token"]["id"].as_str().unwrap().to_string()),
        (
            "foreign_token",
            foreign_token["token"]["id"].as_str().unwrap().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let actors: Vec<&str> = NATIONAL
        .iter()
        .chain(ENTITY.iter())
        .chain(TOKENS.iter())
        .copied()
        .collect();
    let other_entities: Vec<String> = entities["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .filter(|e| *e != foreign_id)
        .take(actors.len())
        .collect();
    let foreign_secrets =
        incident_records(&c, &api, &tokens, &own, &foreign_id, &actors, &other_entities, &mut ids).await;
    let ids = Ids(ids);

    // What an entity-scoped caller must never receive.
    let mut secrets_of_foreign: Vec<String> = vec![
        foreign_id.clone(),
        foreign_entity["name"].as_str().unwrap().to_string(),
        "@f-matrix.example".into(),
        ids.0["foreign_token"].clone(),
    ];
    secrets_of_foreign.extend(foreign_secrets);
    secrets_of_foreign.extend(
        foreign_contacts
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["email"].as_str().unwrap().to_string()),
    );
    secrets_of_foreign.extend(
        foreign_users["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["email"].as_str().unwrap().to_string()),
    );

    // Every route of the OpenAPI document is in the matrix.
    let doc = get_json(&c, format!("{api}/openapi.json"), "").await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.insert("GET /openapi.json".into());
    let covered: BTreeSet<String> = cases().iter().map(|c| format!("{} {}", c.method, c.route)).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(missing.is_empty(), "routes missing from the access matrix: {missing:?}");

    let mut failures = Vec::new();
    let mut cells = 0;
    for actor in &actors {
        let token = tokens[actor].clone();
        for (n, case) in cases().iter().enumerate() {
            let url = format!("{api}{}", ids.fill(case.path, actor, n));
            let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
            let mut req = c.request(method, &url).bearer_auth(&token);
            if let Some(body) = case.body {
                let text = ids.fill(body, actor, n);
                req = req.header("content-type", "application/json").body(text);
            }
            let res = req.send().await.expect("request");
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            cells += 1;
            let want = expected(case.expect, actor);
            if status != want {
                failures.push(format!(
                    "{actor:<15} {} {} → {status}, expected {want}: {}",
                    case.method,
                    case.path,
                    body.chars().take(160).collect::<String>()
                ));
            }
            if status >= 500 {
                failures.push(format!("{actor} {} {}: server error", case.method, case.path));
            }
            if !NATIONAL.contains(actor) {
                for secret in &secrets_of_foreign {
                    if body.contains(secret.as_str()) {
                        failures.push(format!(
                            "{actor} {} {} leaked foreign data {secret:?}",
                            case.method, case.path
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cells >= 500, "the matrix has {cells} cells");
}
