//! The access matrix: every API route × every role (five national roles, three entity roles, two
//! token kinds) × own and foreign entity. Each cell names the expected status, and no response to an
//! entity-scoped caller may carry data of the foreign entity. A route missing from the matrix fails
//! the test, so new routes must be added here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

const NATIONAL: [&str; 5] = ["admin", "coordinator", "csirt", "soc", "nat_auditor"];
const ENTITY: [&str; 3] = ["officer", "reporter", "ent_auditor"];
const TOKENS: [&str; 2] = ["token_registry", "token_events"];

/// "admin,coordinator=201; ent=404; *=403": groups are nat, ent, tok, people; `*` is the default.
fn expected(spec: &str, actor: &str) -> u16 {
    let mut default = None;
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (who, code) = part.split_once('=').expect("who=code");
        let code: u16 = code.trim().parse().expect("status");
        for w in who.split(',').map(str::trim) {
            let hit = match w {
                "*" => {
                    default = Some(code);
                    false
                }
                "nat" => NATIONAL.contains(&actor),
                "ent" => ENTITY.contains(&actor),
                "tok" => TOKENS.contains(&actor),
                "people" => !TOKENS.contains(&actor),
                name => name == actor,
            };
            if hit {
                return code;
            }
        }
    }
    default.unwrap_or_else(|| panic!("no expectation for {actor} in {spec}"))
}

struct Case {
    method: &'static str,
    /// The route as in the OpenAPI document, for the coverage check.
    route: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: &'static str,
}

const fn case(
    method: &'static str,
    route: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: &'static str,
) -> Case {
    Case {
        method,
        route,
        path,
        body,
        expect,
    }
}

const ENTITY_BODY: &str =
    r#"{"name":"Entidad de prueba {actor} {n}","kind":"private","time_zone":"America/Mexico_City"}"#;
const CONTACT_BODY: &str = r#"{"name":"Contacto {actor}","title":"Enlace","email":"c-{actor}-{n}@matrix.example","phone":"+52 55 5555 0000","tlp":"AMBER"}"#;

fn cases() -> Vec<Case> {
    vec![
        case("GET", "/sectors", "/sectors", None, "*=200"),
        case(
            "POST",
            "/sectors",
            "/sectors",
            Some(r#"{"id":"s-{actor}-{n}","name_es":"Sector {actor}","name_en":"Sector {actor}"}"#),
            "admin,coordinator=201; *=403",
        ),
        case("GET", "/entities", "/entities", None, "token_events=403; *=200"),
        case(
            "POST",
            "/entities",
            "/entities",
            Some(ENTITY_BODY),
            "admin,coordinator=201; *=403",
        ),
        case(
            "GET",
            "/entities/{id}",
            "/entities/{own}",
            None,
            "token_events=403; *=200",
        ),
        case("GET", "/entities/{id}", "/entities/{foreign}", None, "nat=200; *=404"),
        case(
            "PUT",
            "/entities/{id}",
            "/entities/{own}",
            Some(
                r#"{"name":"Servicio de Administración Tributaria","acronym":"SAT","kind":"federal","time_zone":"America/Mexico_City"}"#,
            ),
            "admin,coordinator,officer=200; *=403",
        ),
        case(
            "PUT",
            "/entities/{id}",
            "/entities/{foreign}",
            Some(r#"{"name":"{foreign_name}","kind":"private","time_zone":"America/Monterrey"}"#),
            "admin,coordinator=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/entities/{id}/deactivate",
            "/entities/{foreign}/deactivate",
            None,
            "admin,coordinator=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/entities/{id}/reactivate",
            "/entities/{foreign}/reactivate",
            None,
            "admin,coordinator=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/entities/{id}/deactivate",
            "/entities/{own}/deactivate",
            None,
            "admin,coordinator=200; *=403",
        ),
        case(
            "POST",
            "/entities/{id}/reactivate",
            "/entities/{own}/reactivate",
            None,
            "admin,coordinator=200; *=403",
        ),
        case(
            "GET",
            "/entities/{id}/contacts",
            "/entities/{own}/contacts",
            None,
            "token_events=403; *=200",
        ),
        case(
            "GET",
            "/entities/{id}/contacts",
            "/entities/{foreign}/contacts",
            None,
            "nat=200; *=404",
        ),
        case(
            "POST",
            "/entities/{id}/contacts",
            "/entities/{own}/contacts",
            Some(CONTACT_BODY),
            "admin,coordinator,csirt,officer=201; *=403",
        ),
        case(
            "POST",
            "/entities/{id}/contacts",
            "/entities/{foreign}/contacts",
            Some(CONTACT_BODY),
            "admin,coordinator,csirt=201; nat=403; *=404",
        ),
        case("GET", "/contacts", "/contacts", None, "token_events=403; *=200"),
        case(
            "GET",
            "/contacts/{id}",
            "/contacts/{own_contact}",
            None,
            "token_events=403; *=200",
        ),
        case(
            "GET",
            "/contacts/{id}",
            "/contacts/{foreign_contact}",
            None,
            "nat=200; *=404",
        ),
        case(
            "GET",
            "/contacts/{id}",
            "/contacts/{green_contact}",
            None,
            "people=200; *=404",
        ),
        case(
            "PUT",
            "/contacts/{id}",
            "/contacts/{own_contact}",
            Some(CONTACT_BODY),
            "admin,coordinator,csirt,officer=200; *=403",
        ),
        case(
            "PUT",
            "/contacts/{id}",
            "/contacts/{foreign_contact}",
            Some(CONTACT_BODY),
            "admin,coordinator,csirt=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/contacts/{id}/deactivate",
            "/contacts/{own_contact}/deactivate",
            None,
            "admin,coordinator,csirt,officer=200; *=403",
        ),
        case(
            "POST",
            "/contacts/{id}/deactivate",
            "/contacts/{foreign_contact}/deactivate",
            None,
            "admin,coordinator,csirt=200; nat=403; *=404",
        ),
        case(
            "GET",
            "/users",
            "/users",
            None,
            "admin,coordinator,nat_auditor,officer,ent_auditor=200; *=403",
        ),
        case(
            "GET",
            "/users",
            "/users?entity_id={foreign}",
            None,
            "admin,coordinator,nat_auditor=200; officer,ent_auditor=404; *=403",
        ),
        case(
            "POST",
            "/users",
            "/users",
            Some(
                r#"{"entity_id":"{own}","email":"u-{actor}-{n}@sat.example","name":"Persona {actor}","role":"reporter"}"#,
            ),
            "admin,officer=201; *=403",
        ),
        case(
            "POST",
            "/users",
            "/users",
            Some(
                r#"{"entity_id":"{foreign}","email":"u-{actor}-{n}@f-matrix.example","name":"Persona {actor}","role":"reporter"}"#,
            ),
            "admin=201; nat=403; *=404",
        ),
        case(
            "GET",
            "/users/{id}",
            "/users/{own_user}",
            None,
            "admin,coordinator,nat_auditor,officer,ent_auditor=200; *=403",
        ),
        case(
            "GET",
            "/users/{id}",
            "/users/{foreign_user}",
            None,
            "admin,coordinator,nat_auditor=200; nat=403; *=404",
        ),
        case(
            "PATCH",
            "/users/{id}",
            "/users/{own_user}",
            Some(r#"{"name":"Nombre cambiado por {actor}"}"#),
            "admin,officer=200; *=403",
        ),
        case(
            "PATCH",
            "/users/{id}",
            "/users/{foreign_user}",
            Some(r#"{"name":"Nombre cambiado por {actor}"}"#),
            "admin=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/users/{id}/deactivate",
            "/users/{own_user}/deactivate",
            None,
            "admin,officer=200; *=403",
        ),
        case(
            "POST",
            "/users/{id}/reactivate",
            "/users/{own_user}/reactivate",
            None,
            "admin,officer=200; *=403",
        ),
        case(
            "POST",
            "/users/{id}/deactivate",
            "/users/{foreign_user}/deactivate",
            None,
            "admin=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/users/{id}/reactivate",
            "/users/{foreign_user}/reactivate",
            None,
            "admin=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/users/{id}/reset-password",
            "/users/{own_user}/reset-password",
            Some("{}"),
            "admin=200; *=403",
        ),
        case(
            "POST",
            "/users/{id}/reset-password",
            "/users/{foreign_user}/reset-password",
            Some("{}"),
            "admin=200; nat=403; *=404",
        ),
        case(
            "GET",
            "/tokens",
            "/tokens",
            None,
            "admin,coordinator,nat_auditor,officer,ent_auditor=200; *=403",
        ),
        case(
            "POST",
            "/tokens",
            "/tokens",
            Some(r#"{"entity_id":"{own}","name":"token {actor}","purposes":["events:write"]}"#),
            "admin,officer=201; *=403",
        ),
        case(
            "POST",
            "/tokens",
            "/tokens",
            Some(r#"{"entity_id":"{foreign}","name":"token {actor}","purposes":["events:write"]}"#),
            "admin=201; nat=403; *=404",
        ),
        case(
            "GET",
            "/tokens/{id}",
            "/tokens/{own_token}",
            None,
            "admin,coordinator,nat_auditor,officer,ent_auditor=200; *=403",
        ),
        case(
            "GET",
            "/tokens/{id}",
            "/tokens/{foreign_token}",
            None,
            "admin,coordinator,nat_auditor=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/tokens/{id}/revoke",
            "/tokens/{own_token}/revoke",
            None,
            "admin,officer=200; *=403",
        ),
        case(
            "POST",
            "/tokens/{id}/revoke",
            "/tokens/{foreign_token}/revoke",
            None,
            "admin=200; nat=403; *=404",
        ),
        case(
            "GET",
            "/audit",
            "/audit",
            None,
            "admin,coordinator,nat_auditor,officer,ent_auditor=200; *=403",
        ),
        case(
            "GET",
            "/audit",
            "/audit?entity_id={foreign}",
            None,
            "admin,coordinator,nat_auditor=200; officer,ent_auditor=404; *=403",
        ),
        case(
            "GET",
            "/audit/history/{object_type}/{object_id}",
            "/audit/history/entity/{own}",
            None,
            "admin,coordinator,nat_auditor,officer,ent_auditor=200; *=403",
        ),
        case(
            "GET",
            "/audit/history/{object_type}/{object_id}",
            "/audit/history/entity/{foreign}",
            None,
            "admin,coordinator,nat_auditor=200; nat=403; *=404",
        ),
        case(
            "GET",
            "/audit/verify",
            "/audit/verify",
            None,
            "admin,coordinator,nat_auditor=200; *=403",
        ),
        case("GET", "/me", "/me", None, "people=200; *=401"),
        case("PATCH", "/me", "/me", Some(r#"{"lang":"es"}"#), "people=204; *=401"),
        case(
            "POST",
            "/me/password",
            "/me/password",
            Some(r#"{"current_password":"not-the-password","new_password":"a-brand-new-passphrase"}"#),
            "people=422; *=401",
        ),
        case("POST", "/me/totp", "/me/totp", None, "nat=409; ent=201; *=401"),
        case(
            "POST",
            "/me/totp/confirm",
            "/me/totp/confirm",
            Some(r#"{"code":"000000"}"#),
            "nat=409; ent=422; *=401",
        ),
        case(
            "POST",
            "/session",
            "/session",
            Some(r#"{"email":"nobody-{actor}@matrix.example","password":"wrong password here"}"#),
            "*=401",
        ),
        case("GET", "/openapi.json", "/openapi.json", None, "*=200"),
        // Last: it ends the caller's session.
        case("DELETE", "/session", "/session", None, "people=204; *=401"),
    ]
}

struct Ids(HashMap<&'static str, String>);

impl Ids {
    fn fill(&self, template: &str, actor: &str, n: usize) -> String {
        let mut s = template.replace("{actor}", actor).replace("{n}", &n.to_string());
        for (k, v) in &self.0 {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }
}

async fn get_json(c: &reqwest::Client, url: String, token: &str) -> Value {
    c.get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_every_role_own_and_foreign() {
    let srv = start_demo().await;
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
    for (name, purpose) in [("token_registry", "registry:read"), ("token_events", "events:write")] {
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

    let ids = Ids(HashMap::from([
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
    ]));

    // What an entity-scoped caller must never receive.
    let mut secrets_of_foreign: Vec<String> = vec![
        foreign_id.clone(),
        foreign_entity["name"].as_str().unwrap().to_string(),
        "@f-matrix.example".into(),
        ids.0["foreign_token"].clone(),
    ];
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
    let actors: Vec<&str> = NATIONAL
        .iter()
        .chain(ENTITY.iter())
        .chain(TOKENS.iter())
        .copied()
        .collect();
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
