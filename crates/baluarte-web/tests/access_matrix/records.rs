//! The records each caller acts on: one per caller where an act may happen only once.

use super::*;

pub(super) struct Ids(pub(super) HashMap<String, String>);

impl Ids {
    pub(super) fn fill(&self, template: &str, actor: &str, n: usize) -> String {
        let mut s = template
            .replace("{actor}", actor)
            .replace("{n}", &n.to_string())
            .replace("{detected}", &clock::local_hours_ago(24, "America/Mexico_City"))
            .replace("{detected_utc}", &clock::rfc3339_hours_ago(24));
        for (k, v) in &self.0 {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }
}

async fn post_json(c: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let res = c.post(&url).bearer_auth(token).json(&body).send().await.expect("post");
    let status = res.status();
    let v: Value = res.json().await.expect("json");
    assert!(status.is_success(), "setup {url}: {status} {v}");
    v
}

async fn upload(c: &reqwest::Client, url: String, token: &str) -> String {
    let res = c
        .post(&url)
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body("bitácora del incidente")
        .send()
        .await
        .expect("upload");
    let status = res.status();
    let v: Value = res.json().await.expect("json");
    assert!(status.is_success(), "setup {url}: {status} {v}");
    v["id"].as_str().unwrap().to_string()
}

fn report(entity: &str, title: &str, observable: Option<&str>) -> Value {
    json!({
        "entity_id": entity, "title": title, "description": "Incidente de la matriz de acceso.",
        "detected_at": clock::local_hours_ago(48, "America/Mexico_City"), "rsit_class": "malicious-code", "rsit_type": "c2-server",
        "severity": "high", "tlp": "AMBER", "pap": "AMBER",
        "observables": observable.map(|o| vec![json!({"value": o})]).unwrap_or_default()
    })
}

/// The incident area's records: an incident of each entity with a submission, an attachment and a
/// task; per caller, a request to answer and incidents to close, reject and merge, and a deadline
/// assignment to delete; a campaign; a webhook of each entity; a sector and a deadline rule of it. Returns what of the foreign entity an
/// entity-scoped caller must never see.
#[allow(clippy::too_many_arguments)]
pub(super) async fn incident_records(
    c: &reqwest::Client,
    api: &str,
    tokens: &HashMap<&str, String>,
    own: &str,
    foreign: &str,
    actors: &[&str],
    other_entities: &[String],
    ids: &mut HashMap<String, String>,
) -> Vec<String> {
    let csirt = &tokens["csirt"];
    let officer = &tokens["officer"];
    let admin = &tokens["admin"];
    let me = get_json(c, format!("{api}/me"), csirt).await;
    ids.insert("csirt_user".into(), me["user"]["id"].as_str().unwrap().to_string());
    let own_filed = post_json(
        c,
        format!("{api}/incidents"),
        officer,
        report(own, "Incidente propio de matriz", Some("own-matrix-c2.example")),
    )
    .await;
    let foreign_title = "Incidente ajeno reservado de matriz";
    let foreign_filed = post_json(
        c,
        format!("{api}/incidents"),
        csirt,
        report(foreign, foreign_title, Some("foreign-matrix-c2.example")),
    )
    .await;
    let mut secrets = vec![foreign_title.to_string(), "foreign-matrix-c2.example".to_string()];
    for (side, filed, uploader) in [("own", &own_filed, officer), ("foreign", &foreign_filed, csirt)] {
        let id = filed["incident"]["id"].as_str().unwrap().to_string();
        let sub = filed["receipt"]["submission_id"].as_str().unwrap().to_string();
        let att = upload(
            c,
            format!("{api}/incidents/{id}/attachments?filename=bitacora.txt"),
            uploader,
        )
        .await;
        let task = post_json(
            c,
            format!("{api}/incidents/{id}/tasks"),
            csirt,
            json!({"title": "Contener el servidor de mando"}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        if side == "foreign" {
            let reference = filed["incident"]["reference"].as_str().unwrap().to_string();
            secrets.extend([id.clone(), sub.clone(), att.clone(), task.clone(), reference]);
        }
        ids.insert(format!("{side}_incident"), id.clone());
        ids.insert(format!("{side}_submission"), sub);
        ids.insert(format!("{side}_attachment"), att);
        ids.insert(format!("{side}_task"), task);
        let entity = if side == "own" { own } else { foreign };
        for actor in actors {
            let rid = post_json(
                c,
                format!("{api}/incidents/{id}/requests"),
                csirt,
                json!({"question": format!("¿Qué sistemas se afectaron? ({actor})")}),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_string();
            ids.insert(format!("{side}_req_{actor}"), rid.clone());
            for act in ["c", "r", "m"] {
                let title = format!("Incidente {side} {act} para {actor}");
                let filed = post_json(c, format!("{api}/incidents"), csirt, report(entity, &title, None)).await;
                let iid = filed["incident"]["id"].as_str().unwrap().to_string();
                if side == "foreign" {
                    secrets.push(iid.clone());
                }
                ids.insert(format!("{side}_{act}_{actor}"), iid);
            }
            if side == "foreign" {
                secrets.push(rid);
            }
        }
    }
    let campaign = post_json(
        c,
        format!("{api}/campaigns"),
        csirt,
        json!({"name": "Servidores de mando compartidos", "tlp": "AMBER"}),
    )
    .await;
    ids.insert("campaign".into(), campaign["id"].as_str().unwrap().to_string());
    for (side, entity) in [("own", own), ("foreign", foreign)] {
        let hook = post_json(
            c,
            format!("{api}/entities/{entity}/webhooks"),
            admin,
            json!({"url": format!("https://hooks.{side}-setup.example/in"), "events": ["incident.reported"]}),
        )
        .await;
        let hid = hook["webhook"]["id"].as_str().unwrap().to_string();
        if side == "foreign" {
            secrets.extend([
                hid.clone(),
                "hooks.foreign-setup.example".into(),
                "hooks.f-matrix.example".into(),
            ]);
        }
        ids.insert(format!("{side}_webhook"), hid);
    }
    assert!(
        other_entities.len() >= actors.len(),
        "enough entities for the assignments"
    );
    for (actor, entity) in actors.iter().zip(other_entities) {
        let a = post_json(
            c,
            format!("{api}/deadline-assignments"),
            admin,
            json!({"profile_id": "apf", "entity_id": entity}),
        )
        .await;
        ids.insert(format!("assignment_{actor}"), a["id"].as_str().unwrap().to_string());
    }
    // A sector and a deadline rule of that sector: records of no entity, whose history is national.
    let sectors = get_json(c, format!("{api}/sectors"), admin).await;
    let sector = sectors[0]["id"].as_str().unwrap().to_string();
    let a = post_json(
        c,
        format!("{api}/deadline-assignments"),
        admin,
        json!({"profile_id": "apf", "sector_id": sector}),
    )
    .await;
    ids.insert("sector".into(), sector);
    ids.insert("sector_assignment".into(), a["id"].as_str().unwrap().to_string());
    secrets
}
