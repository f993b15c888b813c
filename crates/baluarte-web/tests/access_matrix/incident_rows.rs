//! The matrix rows of the incident area: reporting, the case file, handling, campaigns, deadlines, notifications, webhooks and sharing.

use super::*;

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
pub(super) fn incident_cases() -> Vec<Case> {
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
