//! The access matrix: every API route × every role (five national roles, three entity roles, three
//! token kinds) × own and foreign entity. Each cell names the expected status, and no response to an
//! entity-scoped caller may carry data of the foreign entity. A route missing from the matrix fails
//! the test, so new routes must be added here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use baluarte_test_support::clock;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

conformance!(every_route_every_role_own_and_foreign);

const NATIONAL: [&str; 5] = ["admin", "coordinator", "csirt", "soc", "nat_auditor"];
const ENTITY: [&str; 3] = ["officer", "reporter", "ent_auditor"];
const TOKENS: [&str; 3] = ["token_registry", "token_events", "token_incidents"];

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
    let mut v = vec![
        case("GET", "/sectors", "/sectors", None, "*=200"),
        case(
            "POST",
            "/sectors",
            "/sectors",
            Some(r#"{"id":"s-{actor}-{n}","name_es":"Sector {actor}","name_en":"Sector {actor}"}"#),
            "admin,coordinator=201; *=403",
        ),
        case(
            "GET",
            "/entities",
            "/entities",
            None,
            "token_events,token_incidents=403; *=200",
        ),
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
            "token_events,token_incidents=403; *=200",
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
            "token_events,token_incidents=403; *=200",
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
        case(
            "GET",
            "/contacts",
            "/contacts",
            None,
            "token_events,token_incidents=403; *=200",
        ),
        case(
            "GET",
            "/contacts/{id}",
            "/contacts/{own_contact}",
            None,
            "token_events,token_incidents=403; *=200",
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
    ];
    let last = v.pop();
    v.extend(incident_cases());
    v.extend(last);
    v
}

/// Who reads an incident of the own entity, and of the foreign one.
const READ_OWN: &str = "admin=403; nat,ent,token_incidents=200; *=403";
const READ_FOREIGN: &str = "admin=403; nat=200; *=404";
/// The reporting side's part (a stage, an answer, an attachment): its people and reporting tokens, and
/// the national CSIRT on its behalf.
const CONTRIBUTE_OWN: &str = "coordinator,csirt,officer,reporter,token_incidents=201; *=403";
const CONTRIBUTE_FOREIGN: &str = "coordinator,csirt=201; nat=403; *=404";
/// The national CSIRT's work.
const HANDLE_OWN: &str = "coordinator,csirt=200; *=403";
const HANDLE_FOREIGN: &str = "coordinator,csirt=200; nat=403; *=404";

fn with_code(spec: &'static str, from: &str, to: &str) -> &'static str {
    Box::leak(spec.replace(from, to).into_boxed_str())
}

const REPORT_BODY: &str = r#"{"entity_id":"{own}","title":"Reporte de matriz {actor} {n}","description":"Prueba de acceso.","detected_at":"{detected}","rsit_class":"fraud","rsit_type":"phishing","severity":"low","tlp":"AMBER","pap":"AMBER"}"#;
const FOREIGN_REPORT_BODY: &str = r#"{"entity_id":"{foreign}","title":"Reporte de matriz {actor} {n}","description":"Prueba de acceso.","detected_at":"{detected}","rsit_class":"fraud","rsit_type":"phishing","severity":"low","tlp":"AMBER","pap":"AMBER"}"#;
const STAGE_BODY: &str = r#"{"stage_id":"update","summary":"Actualización de {actor}"}"#;
const TRIAGE_BODY: &str = r#"{"rsit_class":"fraud","rsit_type":"phishing","severity":"medium","tlp":"AMBER"}"#;
const BUNDLE_BODY: &str = r#"{"type":"bundle","id":"bundle--6f1b2a8e-6c2e-4b8e-9d7e-0a1b2c3d4e5f","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--3a9c8f7e-1b2d-4c5e-8f9a-0b1c2d3e4f5a","created":"{detected_utc}","modified":"{detected_utc}","name":"C2 de socio","pattern":"[ipv4-addr:value = '198.51.100.77']","pattern_type":"stix","valid_from":"{detected_utc}"}]}"#;

/// The incident area: reporting, the case file, handling, campaigns, deadlines, notifications,
/// webhooks and sharing. Acts that may happen once (close, reject, merge, a stage request, an answer,
/// a deletion) work on a record of their own per caller (`{own_c_{actor}}`…), so each caller's
/// expectation holds whoever went before.
fn incident_cases() -> Vec<Case> {
    vec![
        case("GET", "/incidents", "/incidents", None, READ_OWN),
        case("POST", "/incidents", "/incidents", Some(REPORT_BODY), CONTRIBUTE_OWN),
        case(
            "POST",
            "/incidents",
            "/incidents",
            Some(FOREIGN_REPORT_BODY),
            CONTRIBUTE_FOREIGN,
        ),
        case("GET", "/incidents/board", "/incidents/board", None, READ_OWN),
        case("GET", "/incidents/{id}", "/incidents/{own_incident}", None, READ_OWN),
        case(
            "GET",
            "/incidents/{id}",
            "/incidents/{foreign_incident}",
            None,
            READ_FOREIGN,
        ),
        case(
            "GET",
            "/incidents/{id}/submissions/{submission_id}/report",
            "/incidents/{own_incident}/submissions/{own_submission}/report",
            None,
            READ_OWN,
        ),
        case(
            "GET",
            "/incidents/{id}/submissions/{submission_id}/report",
            "/incidents/{foreign_incident}/submissions/{foreign_submission}/report",
            None,
            READ_FOREIGN,
        ),
        case(
            "GET",
            "/incidents/{id}/submissions/{submission_id}/receipt",
            "/incidents/{own_incident}/submissions/{own_submission}/receipt",
            None,
            READ_OWN,
        ),
        case(
            "GET",
            "/incidents/{id}/submissions/{submission_id}/receipt",
            "/incidents/{foreign_incident}/submissions/{foreign_submission}/receipt",
            None,
            READ_FOREIGN,
        ),
        case(
            "POST",
            "/incidents/{id}/stages",
            "/incidents/{own_incident}/stages",
            Some(STAGE_BODY),
            CONTRIBUTE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/stages",
            "/incidents/{foreign_incident}/stages",
            Some(STAGE_BODY),
            CONTRIBUTE_FOREIGN,
        ),
        case(
            "POST",
            "/incidents/{id}/requests/{request_id}/answer",
            "/incidents/{own_incident}/requests/{own_req_{actor}}/answer",
            Some(r#"{"answer":"Respuesta de {actor}"}"#),
            with_code(CONTRIBUTE_OWN, "201", "204"),
        ),
        case(
            "POST",
            "/incidents/{id}/requests/{request_id}/answer",
            "/incidents/{foreign_incident}/requests/{foreign_req_{actor}}/answer",
            Some(r#"{"answer":"Respuesta de {actor}"}"#),
            with_code(CONTRIBUTE_FOREIGN, "201", "204"),
        ),
        case(
            "POST",
            "/incidents/{id}/attachments",
            "/incidents/{own_incident}/attachments?filename=matriz-{actor}.txt",
            Some("evidencia de {actor}"),
            CONTRIBUTE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/attachments",
            "/incidents/{foreign_incident}/attachments?filename=matriz-{actor}.txt",
            Some("evidencia de {actor}"),
            CONTRIBUTE_FOREIGN,
        ),
        case(
            "GET",
            "/incidents/{id}/attachments/{attachment_id}",
            "/incidents/{own_incident}/attachments/{own_attachment}",
            None,
            READ_OWN,
        ),
        case(
            "GET",
            "/incidents/{id}/attachments/{attachment_id}",
            "/incidents/{foreign_incident}/attachments/{foreign_attachment}",
            None,
            READ_FOREIGN,
        ),
        case(
            "GET",
            "/observables/lookup",
            "/observables/lookup?value=own-matrix-c2.example",
            None,
            READ_OWN,
        ),
        case("GET", "/receipts/public-key", "/receipts/public-key", None, "*=200"),
        // The national CSIRT's work.
        case(
            "POST",
            "/incidents/{id}/status",
            "/incidents/{own_incident}/status",
            Some(r#"{"status":"in_progress"}"#),
            HANDLE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/status",
            "/incidents/{foreign_incident}/status",
            Some(r#"{"status":"in_progress"}"#),
            HANDLE_FOREIGN,
        ),
        case(
            "POST",
            "/incidents/{id}/triage",
            "/incidents/{own_incident}/triage",
            Some(TRIAGE_BODY),
            HANDLE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/triage",
            "/incidents/{foreign_incident}/triage",
            Some(TRIAGE_BODY),
            HANDLE_FOREIGN,
        ),
        case(
            "POST",
            "/incidents/{id}/assign",
            "/incidents/{own_incident}/assign",
            Some(r#"{"assignee_id":"{csirt_user}"}"#),
            HANDLE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/assign",
            "/incidents/{foreign_incident}/assign",
            Some(r#"{"assignee_id":null}"#),
            HANDLE_FOREIGN,
        ),
        case(
            "POST",
            "/incidents/{id}/notes",
            "/incidents/{own_incident}/notes",
            Some(r#"{"body":"Nota de {actor}","shared":true}"#),
            with_code(HANDLE_OWN, "200", "204"),
        ),
        case(
            "POST",
            "/incidents/{id}/notes",
            "/incidents/{foreign_incident}/notes",
            Some(r#"{"body":"Nota de {actor}"}"#),
            with_code(HANDLE_FOREIGN, "200", "204"),
        ),
        case(
            "POST",
            "/incidents/{id}/tasks",
            "/incidents/{own_incident}/tasks",
            Some(r#"{"title":"Tarea de {actor}"}"#),
            with_code(HANDLE_OWN, "200", "201"),
        ),
        case(
            "POST",
            "/incidents/{id}/tasks",
            "/incidents/{foreign_incident}/tasks",
            Some(r#"{"title":"Tarea de {actor}"}"#),
            with_code(HANDLE_FOREIGN, "200", "201"),
        ),
        case(
            "PATCH",
            "/incidents/{id}/tasks/{task_id}",
            "/incidents/{own_incident}/tasks/{own_task}",
            Some(r#"{"done":true}"#),
            with_code(HANDLE_OWN, "200", "204"),
        ),
        case(
            "PATCH",
            "/incidents/{id}/tasks/{task_id}",
            "/incidents/{foreign_incident}/tasks/{foreign_task}",
            Some(r#"{"done":true}"#),
            with_code(HANDLE_FOREIGN, "200", "204"),
        ),
        case(
            "POST",
            "/incidents/{id}/requests",
            "/incidents/{own_incident}/requests",
            Some(r#"{"question":"¿Pregunta de {actor}?"}"#),
            with_code(HANDLE_OWN, "200", "201"),
        ),
        case(
            "POST",
            "/incidents/{id}/requests",
            "/incidents/{foreign_incident}/requests",
            Some(r#"{"question":"¿Pregunta de {actor}?"}"#),
            with_code(HANDLE_FOREIGN, "200", "201"),
        ),
        case(
            "POST",
            "/incidents/{id}/stage-requests",
            "/incidents/{own_c_{actor}}/stage-requests",
            Some(r#"{"stage_id":"final"}"#),
            with_code(HANDLE_OWN, "200", "204"),
        ),
        case(
            "POST",
            "/incidents/{id}/stage-requests",
            "/incidents/{foreign_c_{actor}}/stage-requests",
            Some(r#"{"stage_id":"final"}"#),
            with_code(HANDLE_FOREIGN, "200", "204"),
        ),
        case(
            "POST",
            "/incidents/{id}/close",
            "/incidents/{own_c_{actor}}/close",
            Some(r#"{"resolution":"Resuelto por {actor}"}"#),
            HANDLE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/close",
            "/incidents/{foreign_c_{actor}}/close",
            Some(r#"{"resolution":"Resuelto por {actor}","lessons_learned":"Ninguna"}"#),
            HANDLE_FOREIGN,
        ),
        case(
            "POST",
            "/incidents/{id}/reject",
            "/incidents/{own_r_{actor}}/reject",
            Some(r#"{"reason":"No es un incidente ({actor})"}"#),
            HANDLE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/reject",
            "/incidents/{foreign_r_{actor}}/reject",
            Some(r#"{"reason":"No es un incidente ({actor})"}"#),
            HANDLE_FOREIGN,
        ),
        case(
            "POST",
            "/incidents/{id}/merge",
            "/incidents/{own_m_{actor}}/merge",
            Some(r#"{"into":"{own_incident}"}"#),
            HANDLE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/merge",
            "/incidents/{foreign_m_{actor}}/merge",
            Some(r#"{"into":"{foreign_incident}"}"#),
            HANDLE_FOREIGN,
        ),
        case(
            "POST",
            "/incidents/{id}/campaign",
            "/incidents/{own_incident}/campaign",
            Some(r#"{"campaign_id":"{campaign}"}"#),
            HANDLE_OWN,
        ),
        case(
            "POST",
            "/incidents/{id}/campaign",
            "/incidents/{foreign_incident}/campaign",
            Some(r#"{"campaign_id":"{campaign}"}"#),
            HANDLE_FOREIGN,
        ),
        case(
            "GET",
            "/incidents/{id}/stix",
            "/incidents/{own_incident}/stix",
            None,
            HANDLE_OWN,
        ),
        case(
            "GET",
            "/incidents/{id}/stix",
            "/incidents/{foreign_incident}/stix",
            None,
            HANDLE_FOREIGN,
        ),
        case(
            "POST",
            "/stix/import",
            "/stix/import?tlp=GREEN&source=matriz",
            Some(BUNDLE_BODY),
            "coordinator,csirt=201; *=403",
        ),
        // Campaigns: the national CSIRT's own analysis.
        case("GET", "/campaigns", "/campaigns", None, "coordinator,csirt=200; *=403"),
        case(
            "POST",
            "/campaigns",
            "/campaigns",
            Some(r#"{"name":"Campaña de {actor} {n}","tlp":"AMBER"}"#),
            "coordinator,csirt=201; *=403",
        ),
        case(
            "GET",
            "/campaigns/{id}",
            "/campaigns/{campaign}",
            None,
            "coordinator,csirt=200; *=403",
        ),
        case(
            "GET",
            "/campaigns/{id}/stix",
            "/campaigns/{campaign}/stix",
            None,
            "coordinator,csirt=200; *=403",
        ),
        // Deadlines.
        case("GET", "/deadline-profiles", "/deadline-profiles", None, "*=200"),
        case(
            "GET",
            "/deadline-assignments",
            "/deadline-assignments",
            None,
            "tok=403; *=200",
        ),
        case(
            "POST",
            "/deadline-assignments",
            "/deadline-assignments",
            Some(r#"{"profile_id":"apf","entity_kind":"municipal"}"#),
            "admin,coordinator=201; *=403",
        ),
        case(
            "DELETE",
            "/deadline-assignments/{id}",
            "/deadline-assignments/{assignment_{actor}}",
            None,
            "admin,coordinator=204; *=403",
        ),
        // Notifications and webhooks.
        case(
            "GET",
            "/notifications",
            "/notifications?unread=true",
            None,
            "people=200; *=403",
        ),
        case(
            "POST",
            "/notifications/read",
            "/notifications/read",
            None,
            "people=204; *=403",
        ),
        case(
            "GET",
            "/entities/{id}/webhooks",
            "/entities/{own}/webhooks",
            None,
            "admin,officer=200; *=403",
        ),
        case(
            "GET",
            "/entities/{id}/webhooks",
            "/entities/{foreign}/webhooks",
            None,
            "admin=200; nat=403; *=404",
        ),
        case(
            "POST",
            "/entities/{id}/webhooks",
            "/entities/{own}/webhooks",
            Some(r#"{"url":"https://hooks.sat.example/{actor}","events":["incident.reported"]}"#),
            "admin,officer=201; *=403",
        ),
        case(
            "POST",
            "/entities/{id}/webhooks",
            "/entities/{foreign}/webhooks",
            Some(r#"{"url":"https://hooks.f-matrix.example/{actor}","events":["incident.closed"]}"#),
            "admin=201; nat=403; *=404",
        ),
        case(
            "POST",
            "/webhooks/{id}/deactivate",
            "/webhooks/{own_webhook}/deactivate",
            None,
            "admin,officer=204; *=403",
        ),
        case(
            "POST",
            "/webhooks/{id}/deactivate",
            "/webhooks/{foreign_webhook}/deactivate",
            None,
            "admin=204; nat=403; *=404",
        ),
    ]
}

struct Ids(HashMap<String, String>);

impl Ids {
    fn fill(&self, template: &str, actor: &str, n: usize) -> String {
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
/// assignment to delete; a campaign; a webhook of each entity. Returns what of the foreign entity an
/// entity-scoped caller must never see.
#[allow(clippy::too_many_arguments)]
async fn incident_records(
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
    secrets
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
