//! Incident reporting and the national CSIRT, checked on SQLite and on PostgreSQL: intake with signed
//! receipts and idempotency, handling, deadlines per regulation profile, correlation within TLP, tenancy,
//! attachments and bad input.

mod common;

use baluarte_core::incident::DeadlineState;
use baluarte_core::incident::{Incident, Pap, Severity, Status};
use baluarte_core::model::{EntityKind, PageRequest, Role, Tlp};
use baluarte_core::policy::Actor;
use baluarte_core::receipt;
use baluarte_core::service::{
    CloseInput, DeadlineAssignment, IncidentFilter, ObservableInput, ReportInput, StageInput, TaxiiFilter, TriageInput,
};
use baluarte_core::{CoreError, Services};
use common::*;

conformance!(
    report_triage_request_answer_close,
    idempotent_submissions_under_concurrency,
    tenancy_of_incidents_and_correlation_within_tlp,
    deadline_profiles_follow_assignments,
    bad_reports_are_refused_and_store_nothing,
    attachments_are_content_addressed_and_limited,
    merge_and_campaigns,
    sharing_follows_tlp,
    taxii_paging_survives_updates_between_pages,
    taxii_pages_share_objects_once_and_filter,
    deadline_reminders_fire_once,
    final_acts_race_to_one_winner,
    reopens_race_to_one_reopen,
    reopen_and_close_race_serialises,
    crossed_merges_leave_no_cycle,
    case_options_follow_the_profile_and_the_reader,
);

fn report(title: &str, tlp: Tlp, observables: &[&str]) -> ReportInput {
    ReportInput {
        entity_id: None,
        title: title.into(),
        description: "Se detectó cifrado de archivos en servidores de nómina.".into(),
        // Two hours before the test clock: the filing is on time for every profile.
        detected_at: baluarte_test_support::clock::rfc3339_hours_ago(2),
        occurred_at: None,
        rsit_class: "malicious-code".into(),
        rsit_type: "infected-system".into(),
        severity: Severity::High,
        tlp,
        pap: Pap::Amber,
        affected_services: "Nómina".into(),
        affected_systems: "srv-nomina-01".into(),
        interruption_minutes: Some(90),
        people_affected: Some(1200),
        data_compromised: true,
        personal_data: true,
        observables: observables
            .iter()
            .map(|v| ObservableInput {
                kind: None,
                value: (*v).into(),
            })
            .collect(),
    }
}

struct People {
    fx: Fixture,
    reporter_a: Actor,
    reporter_b: Actor,
    analyst: Actor,
    analyst_id: String,
}

async fn people(svc: &Services) -> TestResult<People> {
    let fx = Fixture::new(svc).await?;
    let (_, reporter_a) = fx.person(svc, &fx.a, Role::Reporter, "reportes@cfe.example").await?;
    let (_, reporter_b) = fx.person(svc, &fx.b, Role::Reporter, "reportes@banco.example").await?;
    let (analyst_user, analyst) = fx
        .person(svc, &fx.national_id, Role::CsirtAnalyst, "analista@nacional.example")
        .await?;
    Ok(People {
        fx,
        reporter_a,
        reporter_b,
        analyst,
        analyst_id: analyst_user.id,
    })
}

async fn report_and_receipt(svc: &Services, actor: &Actor, incident_id: &str) -> TestResult<(String, String)> {
    let case = svc.incidents().case_file(actor, incident_id).await?;
    let sub = case.submissions.first().ok_or("no submission")?;
    Ok(svc.incidents().submission_files(actor, incident_id, &sub.id).await?)
}

async fn report_triage_request_answer_close(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    svc.incidents()
        .assign_deadline_profile(
            &p.fx.admin,
            DeadlineAssignment {
                id: String::new(),
                profile_id: "apf".into(),
                entity_id: None,
                sector_id: None,
                entity_kind: Some(EntityKind::Federal),
            },
        )
        .await?;
    let filed = svc
        .incidents()
        .file_report(
            &p.reporter_a,
            report("Ransomware en nómina", Tlp::Amber, &["198.51.100.7", "evil[.]example"]),
            "web",
            None,
        )
        .await?;
    let id = filed.incident.id.clone();
    assert!(
        filed.incident.reference.starts_with("BAL-"),
        "{}",
        filed.incident.reference
    );
    assert_eq!(filed.incident.status, Status::New);
    assert_eq!(filed.incident.profile_id.as_deref(), Some("apf"));

    // The receipt verifies against the exact report bytes and the server's key; one changed byte fails.
    let (report_text, receipt_text) = report_and_receipt(svc, &p.reporter_a, &id).await?;
    let key = svc.server_key().public_hex();
    receipt::verify(receipt_text.as_bytes(), report_text.as_bytes(), Some(&key))?;
    let mut tampered = report_text.clone().into_bytes();
    tampered[10] ^= 0x20;
    assert!(receipt::verify(receipt_text.as_bytes(), &tampered, Some(&key)).is_err());
    assert_eq!(
        filed.receipt.report_sha256,
        baluarte_core::crypto::sha256_hex(report_text.as_bytes())
    );

    // The initial notification was the filing itself: met on time; the final report waits for the CSIRT.
    let case = svc.incidents().case_file(&p.reporter_a, &id).await?;
    let states: Vec<(String, String)> = case
        .deadlines
        .stages
        .iter()
        .map(|s| (s.stage_id.clone(), s.state.to_string()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("initial".into(), "met_on_time".into()),
            ("final".into(), "waiting".into())
        ]
    );
    assert_eq!(case.observables.len(), 2);

    // The analyst triages, assigns, adds a task and asks for information; the reporter answers.
    let t = svc
        .incidents()
        .triage(
            &p.analyst,
            &id,
            TriageInput {
                rsit_class: "malicious-code".into(),
                rsit_type: "infected-system".into(),
                severity: Severity::Critical,
                tlp: Tlp::Green,
            },
        )
        .await?;
    assert_eq!(
        (t.status, t.severity, t.tlp),
        (Status::Triage, Severity::Critical, Tlp::Green)
    );
    assert!(t.acknowledged_at.is_some());
    svc.incidents().assign(&p.analyst, &id, Some(&p.analyst_id)).await?;
    assert_invalid_field(
        svc.incidents().assign(&p.analyst, &id, Some(&p.fx.admin_user.id)).await,
        "assignee_id",
    );
    let task = svc
        .incidents()
        .add_task(&p.analyst, &id, "Aislar servidores afectados", None)
        .await?;
    svc.incidents().set_task_done(&p.analyst, &id, &task, true).await?;
    let rid = svc
        .incidents()
        .request_info(&p.analyst, &id, "¿Qué variante de ransomware?")
        .await?;
    assert_forbidden(
        svc.incidents()
            .request_info(&p.reporter_a, &id, "¿Puedo preguntar?")
            .await,
    );
    assert_forbidden(svc.incidents().add_task(&p.reporter_a, &id, "Tarea", None).await);
    svc.incidents()
        .answer_request(&p.reporter_a, &id, &rid, "LockBit 3.0")
        .await?;
    assert!(matches!(
        svc.incidents()
            .answer_request(&p.reporter_a, &id, &rid, "otra vez")
            .await,
        Err(CoreError::Conflict(_))
    ));
    // The reporter sees the request and its answer, but not the CSIRT's tasks.
    let case = svc.incidents().case_file(&p.reporter_a, &id).await?;
    assert_eq!(case.requests[0].answer.as_deref(), Some("LockBit 3.0"));
    assert!(case.tasks.is_empty());
    assert!(case.journal.iter().all(|j| j.shared));
    let case = svc.incidents().case_file(&p.analyst, &id).await?;
    assert_eq!(case.tasks.len(), 1);
    assert!(case.tasks[0].done);

    // The CSIRT asks for the final report: the stage's clock starts and it is pending; the reporter sends it.
    svc.incidents().request_stage(&p.analyst, &id, "final").await?;
    let case = svc.incidents().case_file(&p.reporter_a, &id).await?;
    let fin = case
        .deadlines
        .stages
        .iter()
        .find(|s| s.stage_id == "final")
        .ok_or("no final stage")?;
    assert!(
        matches!(fin.state, DeadlineState::Pending | DeadlineState::DueSoon),
        "{}",
        fin.state
    );
    let r = svc
        .incidents()
        .submit_stage(
            &p.reporter_a,
            &id,
            StageInput {
                stage_id: "final".into(),
                summary: "Causa raíz: credenciales VPN filtradas.".into(),
                severity: None,
                interruption_minutes: None,
                people_affected: None,
            },
        )
        .await?;
    assert_eq!(r.stage_id, "final");
    let case = svc.incidents().case_file(&p.reporter_a, &id).await?;
    assert_eq!(case.deadlines.state, DeadlineState::MetOnTime);
    assert_eq!(case.submissions.len(), 2);

    // Close with resolution and lessons learned; a closed incident refuses new work until reopened.
    let closed = svc
        .incidents()
        .close_incident(
            &p.analyst,
            &id,
            CloseInput {
                resolution: "Servidores restaurados desde respaldo.".into(),
                lessons_learned: "MFA en la VPN.".into(),
            },
        )
        .await?;
    assert_eq!(closed.status, Status::Closed);
    assert!(closed.closed_at.is_some());
    assert!(matches!(
        svc.incidents().add_task(&p.analyst, &id, "Otra", None).await,
        Err(CoreError::Conflict(_))
    ));
    let reopened = svc.incidents().set_status(&p.analyst, &id, Status::InProgress).await?;
    assert_eq!((reopened.status, reopened.closed_at), (Status::InProgress, None));

    // Every write is in the audit trail, and the chain holds.
    let audited: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE object_id = $1 AND object_type = 'incident'")
            .bind(&id)
            .fetch_one(svc.db().pool())
            .await?
            .try_get("n")?
    };
    assert!(audited >= 5, "only {audited} audit entries for the incident");
    assert!(baluarte_core::audit::verify(svc.db(), &svc.server_key().public_hex())
        .await?
        .broken
        .is_none());

    // Notifications reached the analyst (assignment) and the reporter (request for information).
    let notes = svc.notifications().notifications(&p.analyst, false).await?;
    assert!(notes.iter().any(|n| n.kind == "incident.assigned"), "{notes:?}");
    let notes = svc.notifications().notifications(&p.reporter_a, false).await?;
    assert!(notes.iter().any(|n| n.kind == "incident.request"), "{notes:?}");
    Ok(())
}

async fn idempotent_submissions_under_concurrency(store: TestStore) -> TestResult {
    let svc = store.svc.clone();
    let p = people(&svc).await?;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (svc, actor) = (svc.clone(), p.reporter_a.clone());
        tasks.push(tokio::spawn(async move {
            svc.incidents()
                .file_report(
                    &actor,
                    report("Phishing masivo", Tlp::Green, &["https://login-sat.example/x"]),
                    "api",
                    Some("k-2026-0001"),
                )
                .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut replayed = 0;
    for t in tasks {
        let filed = t.await??;
        ids.insert(filed.incident.id.clone());
        replayed += usize::from(filed.replayed);
    }
    assert_eq!(ids.len(), 1, "one incident for one key, got {ids:?}");
    assert_eq!(replayed, 19);
    assert_eq!(count(svc.db(), "incidents").await?, 1);
    assert_eq!(count(svc.db(), "incident_submissions").await?, 1);
    // The same key for another report is a conflict; another caller's same key is its own.
    let other = svc
        .incidents()
        .file_report(
            &p.reporter_a,
            report("Otro asunto", Tlp::Green, &[]),
            "api",
            Some("k-2026-0001"),
        )
        .await;
    assert!(matches!(other, Err(CoreError::Conflict(_))), "{other:?}");
    svc.incidents()
        .file_report(
            &p.reporter_b,
            report("Phishing masivo", Tlp::Green, &[]),
            "api",
            Some("k-2026-0001"),
        )
        .await?;
    assert_eq!(count(svc.db(), "incidents").await?, 2);
    Ok(())
}

async fn tenancy_of_incidents_and_correlation_within_tlp(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    let (_, officer_b) =
        p.fx.person(svc, &p.fx.b, Role::SecurityOfficer, "oficial@banco.example")
            .await?;
    let a = svc
        .incidents()
        .file_report(
            &p.reporter_a,
            report(
                "Escaneo desde 203.0.113.9",
                Tlp::Green,
                &["203.0.113.9", "HXXPS://Malo.Example/a"],
            ),
            "web",
            None,
        )
        .await?
        .incident;
    let b = svc
        .incidents()
        .file_report(
            &p.reporter_b,
            report("Intrusión", Tlp::AmberStrict, &["203.0.113.0/24", "malo.example"]),
            "web",
            None,
        )
        .await?
        .incident;

    // B never sees A's incident, its report or its receipt, and its lists hold only its own.
    assert_not_found(svc.incidents().get_incident(&p.reporter_b, &a.id).await);
    assert_not_found(svc.incidents().case_file(&officer_b, &a.id).await);
    let sub = svc.incidents().case_file(&p.reporter_a, &a.id).await?.submissions[0]
        .id
        .clone();
    assert_not_found(svc.incidents().submission_files(&p.reporter_b, &a.id, &sub).await);
    let all = IncidentFilter {
        status: Some("all".into()),
        ..Default::default()
    };
    let page = svc
        .incidents()
        .list_incidents(&p.reporter_b, &all, PageRequest::default())
        .await?;
    assert_eq!(
        page.items.iter().map(|i| i.incident.id.as_str()).collect::<Vec<_>>(),
        vec![b.id.as_str()]
    );
    let page = svc
        .incidents()
        .list_incidents(
            &p.reporter_b,
            &IncidentFilter {
                entity_id: Some(p.fx.a.clone()),
                ..all.clone()
            },
            PageRequest::default(),
        )
        .await?;
    assert_eq!(page.total, 0);
    assert_not_found(svc.incidents().set_status(&p.reporter_b, &a.id, Status::Triage).await);

    // The CSIRT sees both reports linked: the address is inside B's network, the URL's host is B's domain.
    let case = svc.incidents().case_file(&p.analyst, &a.id).await?;
    assert_eq!(case.correlations.len(), 2, "{:?}", case.correlations);
    assert!(case
        .correlations
        .iter()
        .all(|h| h.other_entities == 1 && h.incidents.iter().any(|r| r.id == b.id)));
    // A learns nothing of B's AMBER+STRICT report…
    let case = svc.incidents().case_file(&p.reporter_a, &a.id).await?;
    assert!(case.correlations.is_empty(), "{:?}", case.correlations);
    // …while B learns A's GREEN report exists (a count, never A's name or incident).
    let case = svc.incidents().case_file(&p.reporter_b, &b.id).await?;
    assert_eq!(case.correlations.len(), 2, "{:?}", case.correlations);
    assert!(case
        .correlations
        .iter()
        .all(|h| h.other_reports == 1 && h.incidents.is_empty()));
    // The national board is the CSIRT's; an entity's board counts only its own incidents.
    assert_forbidden(svc.incidents().national_incident_board(&p.reporter_b).await);
    assert_eq!(svc.incidents().national_incident_board(&p.analyst).await?.open, 2);
    assert_eq!(svc.incidents().incident_board(&p.reporter_b).await?.open, 1);
    // Lookups by any spelling follow the same rules.
    let l = svc.incidents().lookup_observable(&p.analyst, "malo[.]example").await?;
    assert_eq!((l.reports, l.entities), (2, 2));
    let l = svc.incidents().lookup_observable(&p.reporter_a, "malo.example").await?;
    assert_eq!(
        l.incidents.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        vec![a.id.as_str()]
    );
    Ok(())
}

async fn deadline_profiles_follow_assignments(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    let assign = |profile: &str, sector: &str| DeadlineAssignment {
        id: String::new(),
        profile_id: profile.into(),
        entity_id: None,
        sector_id: Some(sector.into()),
        entity_kind: None,
    };
    svc.incidents()
        .assign_deadline_profile(&p.fx.admin, assign("nis2", "energia"))
        .await?;
    svc.incidents()
        .assign_deadline_profile(&p.fx.admin, assign("financiero", "banca"))
        .await?;
    assert_forbidden(
        svc.incidents()
            .assign_deadline_profile(&p.analyst, assign("apf", "banca"))
            .await,
    );
    assert_invalid_field(
        svc.incidents()
            .assign_deadline_profile(&p.fx.admin, assign("gdpr", "banca"))
            .await,
        "profile_id",
    );

    // A (electricidad, a subsector of energía) gets NIS2 through its parent sector; B the financial profile.
    let a = svc
        .incidents()
        .file_report(&p.reporter_a, report("Corte", Tlp::Green, &[]), "web", None)
        .await?
        .incident;
    assert_eq!(a.profile_id.as_deref(), Some("nis2"));
    let mut short = report("Caída breve", Tlp::Green, &[]);
    short.interruption_minutes = Some(20);
    let b = svc
        .incidents()
        .file_report(&p.reporter_b, short, "web", None)
        .await?
        .incident;
    assert_eq!(b.profile_id.as_deref(), Some("financiero"));
    let d = svc.incidents().case_file(&p.reporter_b, &b.id).await?.deadlines;
    assert!(!d.applicable);
    assert_eq!(d.state, DeadlineState::NotApplicable);
    // NIS2: the early warning was the report (on time); the incident notification is due 72 h after
    // detection, and pending until then.
    let d = svc.incidents().case_file(&p.reporter_a, &a.id).await?.deadlines;
    assert_eq!(d.stages[0].state, DeadlineState::MetOnTime);
    assert_eq!(d.stages[1].due_at, Some(a.detected_at + 72 * baluarte_core::time::HOUR));
    assert_eq!(d.stages[1].state, DeadlineState::Pending);
    store.clock().advance(69 * baluarte_core::time::HOUR);
    let d = svc.incidents().case_file(&p.reporter_a, &a.id).await?.deadlines;
    assert_eq!(d.stages[1].state, DeadlineState::DueSoon);
    store.clock().advance(2 * baluarte_core::time::HOUR);
    let d = svc.incidents().case_file(&p.reporter_a, &a.id).await?.deadlines;
    assert_eq!(d.stages[1].state, DeadlineState::Overdue);
    // An entity assignment beats the sector's.
    svc.incidents()
        .assign_deadline_profile(
            &p.fx.admin,
            DeadlineAssignment {
                id: String::new(),
                profile_id: "apf".into(),
                entity_id: Some(p.fx.a.clone()),
                sector_id: None,
                entity_kind: None,
            },
        )
        .await?;
    let a2 = svc
        .incidents()
        .file_report(&p.reporter_a, report("Otro", Tlp::Green, &[]), "web", None)
        .await?
        .incident;
    assert_eq!(a2.profile_id.as_deref(), Some("apf"));
    // A filed incident keeps the profile it was filed under.
    assert_eq!(
        svc.incidents()
            .get_incident(&p.reporter_a, &a.id)
            .await?
            .profile_id
            .as_deref(),
        Some("nis2")
    );
    Ok(())
}

async fn bad_reports_are_refused_and_store_nothing(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    let mut r = report("Algo", Tlp::Green, &[]);
    r.rsit_type = "ddos".into();
    assert_invalid_field(
        svc.incidents().file_report(&p.reporter_a, r, "api", None).await,
        "rsit_type",
    );
    let mut r = report("Algo", Tlp::Green, &[]);
    r.rsit_class = "made-up".into();
    assert_invalid_field(
        svc.incidents().file_report(&p.reporter_a, r, "api", None).await,
        "rsit_class",
    );
    let r = report("Algo", Tlp::Green, &["198.51.100.1", "010.0.0.1"]);
    let fields = invalid_fields(svc.incidents().file_report(&p.reporter_a, r, "api", None).await);
    assert_eq!(fields, vec!["observables[1]".to_string()]);
    let r = report("Algo", Tlp::Green, &["0.0.0.0/0"]);
    assert_invalid_field(
        svc.incidents().file_report(&p.reporter_a, r, "api", None).await,
        "observables[0]",
    );
    let mut r = report("Algo", Tlp::Green, &[]);
    r.detected_at = "2099-01-01T00:00:00Z".into();
    assert_invalid_field(
        svc.incidents().file_report(&p.reporter_a, r, "api", None).await,
        "detected_at",
    );
    let mut r = report("Algo", Tlp::Green, &[]);
    r.detected_at = "ayer".into();
    assert_invalid_field(
        svc.incidents().file_report(&p.reporter_a, r, "api", None).await,
        "detected_at",
    );
    let mut r = report("Algo", Tlp::Green, &[]);
    r.entity_id = Some(p.fx.b.clone());
    assert_not_found(svc.incidents().file_report(&p.reporter_a, r, "api", None).await);
    assert!(svc
        .incidents()
        .file_report(&p.fx.admin, report("Algo", Tlp::Green, &[]), "api", None)
        .await
        .is_err());
    assert_eq!(count(svc.db(), "incidents").await?, 0);
    assert_eq!(count(svc.db(), "observables").await?, 0);
    // A civil time is read in the entity's zone (America/Mexico_City, UTC−6 all year since 2022).
    let mut r = report("Hora local", Tlp::Green, &[]);
    let civil = baluarte_test_support::clock::local_hours_ago(5, "America/Mexico_City");
    r.detected_at = civil.clone();
    let i = svc
        .incidents()
        .file_report(&p.reporter_a, r, "web", None)
        .await?
        .incident;
    let utc: jiff::civil::DateTime = civil.parse()?;
    let utc = utc.to_zoned(jiff::tz::TimeZone::UTC)? + jiff::SignedDuration::from_hours(6);
    assert_eq!(i.detected_at, utc.timestamp().as_microsecond());
    Ok(())
}

async fn attachments_are_content_addressed_and_limited(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    let a = svc
        .incidents()
        .file_report(&p.reporter_a, report("Uno", Tlp::Green, &[]), "web", None)
        .await?
        .incident;
    let a2 = svc
        .incidents()
        .file_report(&p.reporter_a, report("Dos", Tlp::Green, &[]), "web", None)
        .await?
        .incident;
    let log = b"2026-11-20 09:31 cifrado de /srv/nomina\n".to_vec();
    let x = svc
        .incidents()
        .add_attachment(&p.reporter_a, &a.id, "../../etc/bitácora.log", "text/plain", &log)
        .await?;
    svc.incidents()
        .add_attachment(&p.reporter_a, &a2.id, "copia.log", "text/plain", &log)
        .await?;
    assert_eq!(x.filename, "bitácora.log");
    assert_eq!(count(svc.db(), "blobs").await?, 1);
    assert_eq!(count(svc.db(), "attachments").await?, 2);
    let (meta, content) = svc.incidents().attachment(&p.reporter_a, &a.id, &x.id).await?;
    assert_eq!(
        (meta.sha256.as_str(), content),
        (baluarte_core::crypto::sha256_hex(&log).as_str(), log.clone())
    );
    assert_not_found(svc.incidents().attachment(&p.reporter_b, &a.id, &x.id).await);
    assert_not_found(
        svc.incidents()
            .add_attachment(&p.reporter_b, &a.id, "x.log", "text/plain", &log)
            .await,
    );
    let big = vec![0u8; baluarte_core::service::MAX_ATTACHMENT + 1];
    assert_invalid_field(
        svc.incidents()
            .add_attachment(&p.reporter_a, &a.id, "big.bin", "application/octet-stream", &big)
            .await,
        "file",
    );
    assert_invalid_field(
        svc.incidents()
            .add_attachment(&p.reporter_a, &a.id, "vacío.txt", "text/plain", &[])
            .await,
        "file",
    );
    assert_eq!(count(svc.db(), "attachments").await?, 2);
    Ok(())
}

async fn merge_and_campaigns(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    let a = svc
        .incidents()
        .file_report(&p.reporter_a, report("Uno", Tlp::Green, &["bad.example"]), "web", None)
        .await?
        .incident;
    let dup = svc
        .incidents()
        .file_report(
            &p.reporter_a,
            report("Uno otra vez", Tlp::Green, &["bad.example"]),
            "web",
            None,
        )
        .await?
        .incident;
    let merged = svc.incidents().merge_incident(&p.analyst, &dup.id, &a.id).await?;
    assert_eq!(
        (merged.status, merged.merged_into.as_deref()),
        (Status::Merged, Some(a.id.as_str()))
    );
    assert_eq!(svc.incidents().case_file(&p.analyst, &a.id).await?.merged[0].id, dup.id);
    assert_invalid_field(svc.incidents().merge_incident(&p.analyst, &a.id, &a.id).await, "into");
    let c = svc
        .incidents()
        .create_campaign(
            &p.analyst,
            baluarte_core::service::CampaignInput {
                name: "Campaña de phishing fiscal".into(),
                description: String::new(),
                tlp: Tlp::Amber,
            },
        )
        .await?;
    svc.incidents().set_campaign(&p.analyst, &a.id, Some(&c.id)).await?;
    assert_eq!(svc.incidents().get_campaign(&p.analyst, &c.id).await?.incident_count, 1);
    assert_forbidden(svc.incidents().list_campaigns(&p.reporter_a).await);
    let page = svc
        .incidents()
        .list_incidents(
            &p.analyst,
            &IncidentFilter {
                campaign_id: Some(c.id.clone()),
                ..Default::default()
            },
            PageRequest::default(),
        )
        .await?;
    assert_eq!(page.total, 1);
    Ok(())
}

/// The demo's year of incidents loads through the service layer on both backends, with correlations
/// across entities and deadlines in every state a board shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_history_loads_with_correlations() {
    common::run(common::Backend::Sqlite, demo_history).await;
}

async fn demo_history(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let dataset = baluarte_core::demo::parse_dataset(baluarte_core::demo::MX_DATASET)?;
    baluarte_core::demo::load(svc, &dataset, &|_, _| {}).await?;
    let started = std::time::Instant::now();
    let n = baluarte_core::demo_incidents::load(svc, svc.now(), &|_, _| {}).await?;
    eprintln!("{n} demo incidents in {:?}", started.elapsed());
    assert!(n >= 250, "{n}");
    let system = baluarte_test_support::actors::national(Role::Coordinator);
    let board = svc.incidents().incident_board(&system).await?;
    assert!(board.open > 0 && board.mean_hours_to_acknowledge.is_some() && board.mean_hours_to_resolve.is_some());
    assert!(board.open_by_sector.len() >= 5, "{:?}", board.open_by_sector);
    let l = svc
        .incidents()
        .lookup_observable(&system, "sat-devoluciones[.]example")
        .await?;
    assert!(l.entities >= 3, "{l:?}");
    assert!(baluarte_core::audit::verify(svc.db(), &svc.server_key().public_hex())
        .await?
        .broken
        .is_none());
    Ok(())
}

async fn sharing_follows_tlp(store: TestStore) -> TestResult {
    use baluarte_core::model::Purpose;
    use baluarte_core::service::TokenInput;
    let svc = &store.svc;
    let p = people(svc).await?;
    let (_, officer_b) =
        p.fx.person(svc, &p.fx.b, Role::SecurityOfficer, "oficial@banco.example")
            .await?;
    let triage = |tlp| TriageInput {
        rsit_class: "fraud".into(),
        rsit_type: "phishing".into(),
        severity: Severity::Medium,
        tlp,
    };
    let mut ids = Vec::new();
    for (tlp, value) in [
        (Tlp::Green, "phish.example"),
        (Tlp::AmberStrict, "secret.example"),
        (Tlp::Amber, "amber.example"),
    ] {
        let i = svc
            .incidents()
            .file_report(&p.reporter_a, report("Phishing", tlp, &[value]), "web", None)
            .await?
            .incident;
        svc.incidents().triage(&p.analyst, &i.id, triage(tlp)).await?;
        ids.push(i.id);
    }
    // Export: a bundle with the incident, its indicator and the TLP marking; entities may not export.
    let bundle = svc.incidents().export_incident_stix(&p.analyst, &ids[0]).await?;
    let objects = bundle["objects"].as_array().ok_or("no objects")?;
    assert!(objects.iter().any(|o| o["type"] == "incident"));
    assert!(objects
        .iter()
        .any(|o| o["type"] == "indicator" && o["pattern"].as_str().is_some_and(|p| p.contains("phish.example"))));
    assert_forbidden(svc.incidents().export_incident_stix(&p.reporter_a, &ids[0]).await);

    // TAXII: B's token reads GREEN (A's incident) but neither AMBER+STRICT nor A's AMBER.
    let token = svc
        .tokens()
        .create_token(
            &officer_b,
            TokenInput {
                entity_id: p.fx.b.clone(),
                name: "TAXII".into(),
                purposes: vec![Purpose::IndicatorsRead],
                expires_in_days: None,
            },
        )
        .await?;
    let reader = svc.tokens().authenticate_token(&token.secret).await?;
    let cols = svc.incidents().taxii_collections(&reader);
    let readable: Vec<&str> = cols.iter().filter(|c| c.can_read).map(|c| c.title).collect();
    assert_eq!(readable, vec!["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"]);
    let green = cols.iter().find(|c| c.title == "TLP:GREEN").ok_or("no green")?.id;
    let amber = cols.iter().find(|c| c.title == "TLP:AMBER").ok_or("no amber")?.id;
    let strict = cols
        .iter()
        .find(|c| c.title == "TLP:AMBER+STRICT")
        .ok_or("no strict")?
        .id;
    let any = TaxiiFilter::default();
    let page = svc.incidents().taxii_objects(&reader, green, &any, 1000, None).await?;
    let text = serde_json::to_string(&page.objects)?;
    assert!(text.contains("phish.example") && !text.contains("secret.example"));
    assert!(!serde_json::to_string(
        &svc.incidents()
            .taxii_objects(&reader, amber, &any, 1000, None)
            .await?
            .objects
    )?
    .contains("amber.example"));
    assert_forbidden(svc.incidents().taxii_objects(&reader, strict, &any, 10, None).await);
    // Paging: pages of 2 cover the collection exactly once.
    let mut seen = Vec::new();
    let mut next = None;
    loop {
        let page = svc
            .incidents()
            .taxii_objects(&reader, green, &any, 2, next.as_ref())
            .await?;
        seen.extend(page.objects.iter().map(|o| o["id"].to_string()));
        if !page.more {
            break;
        }
        next = page.next;
    }
    let all = svc
        .incidents()
        .taxii_objects(&reader, green, &any, 1000, None)
        .await?
        .objects;
    assert_eq!(seen.len(), all.len());

    // Import a partner's bundle (our own export, as a partner would send it): its indicators correlate.
    let summary = svc
        .incidents()
        .import_stix(
            &p.analyst,
            serde_json::to_string(&bundle)?.as_bytes(),
            "partner CSIRT",
            Tlp::Amber,
        )
        .await?;
    assert!(summary.observables >= 1, "{summary:?}");
    let l = svc.incidents().lookup_observable(&p.analyst, "phish.example").await?;
    assert_eq!(l.reports, 2, "{l:?}");
    let bad = svc
        .incidents()
        .import_stix(&p.analyst, b"{\"type\": \"bundle\"", "partner", Tlp::Amber)
        .await;
    assert_invalid_field(bad, "bundle");
    Ok(())
}

/// TAXII's GREEN collection, as `baluarte_core::service::sharing` fixes it.
const TAXII_GREEN: &str = "1f6f2d2e-6a3c-4d1e-9f55-0c1a5b6e0002";

/// A TAXII client follows `next` two objects at a time through 15 incidents while the CSIRT changes one
/// incident the client has already read and one it has not: no incident is lost, none is repeated except
/// the one already read, which comes again, changed, after the rest.
async fn taxii_paging_survives_updates_between_pages(store: TestStore) -> TestResult {
    use std::collections::HashMap;
    let svc = &store.svc;
    let p = people(svc).await?;
    let mut refs = Vec::new();
    for n in 0..15 {
        // A minute between reports: a collection lists incidents in the order they were added.
        svc.clock().advance(baluarte_core::time::MINUTE);
        let value = format!("paging-{n:02}.example");
        let i = svc
            .incidents()
            .file_report(
                &p.reporter_a,
                report(&format!("Paginación {n:02}"), Tlp::Green, &[&value]),
                "web",
                None,
            )
            .await?
            .incident;
        svc.incidents()
            .triage(
                &p.analyst,
                &i.id,
                TriageInput {
                    rsit_class: "fraud".into(),
                    rsit_type: "phishing".into(),
                    severity: Severity::Medium,
                    tlp: Tlp::Green,
                },
            )
            .await?;
        refs.push((i.id, i.reference));
    }
    let any = TaxiiFilter::default();
    let reference_of = |o: &serde_json::Value| o["external_references"][0]["external_id"].as_str().map(str::to_string);
    let mut walked: Vec<serde_json::Value> = Vec::new();
    let mut next = None;
    let mut updated: Option<(String, String)> = None;
    for _ in 0..500 {
        let page = svc
            .incidents()
            .taxii_objects(&p.analyst, TAXII_GREEN, &any, 2, next.as_ref())
            .await?;
        assert!(page.objects.len() <= 2, "a page holds at most `limit` objects");
        assert!(
            page.incidents_read <= 3,
            "a page of 2 read {} incidents",
            page.incidents_read
        );
        walked.extend(page.objects.iter().cloned());
        let seen: Vec<String> = walked
            .iter()
            .filter(|o| o["type"] == "incident")
            .filter_map(reference_of)
            .collect();
        if updated.is_none() && seen.len() >= 3 {
            // One incident already read, one not yet: both change (status), so both move to the end.
            let read = refs.iter().find(|(_, r)| *r == seen[0]).ok_or("seen")?.clone();
            let unread = refs
                .iter()
                .rev()
                .find(|(_, r)| !seen.contains(r))
                .ok_or("unread")?
                .clone();
            svc.clock().advance(baluarte_core::time::MINUTE);
            svc.incidents()
                .set_status(&p.analyst, &read.0, Status::InProgress)
                .await?;
            svc.incidents()
                .set_status(&p.analyst, &unread.0, Status::InProgress)
                .await?;
            updated = Some((read.1, unread.1));
        }
        if !page.more {
            break;
        }
        next = Some(page.next.ok_or("next when more")?);
    }
    let (read, unread) = updated.ok_or("the walk never saw three incidents")?;
    let incidents: Vec<(String, String)> = walked
        .iter()
        .filter(|o| o["type"] == "incident")
        .map(|o| {
            (
                reference_of(o).unwrap_or_default(),
                o["x_baluarte_status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (r, _) in &incidents {
        *count.entry(r.as_str()).or_default() += 1;
    }
    for (_, r) in &refs {
        let expected = if *r == read { 2 } else { 1 };
        assert_eq!(
            count.get(r.as_str()).copied().unwrap_or(0),
            expected,
            "incident {r} in {incidents:?}"
        );
    }
    // The re-read incident comes back with its new status after every incident that did not change.
    let last_read = incidents.iter().rposition(|(r, _)| *r == read).ok_or("read")?;
    assert_eq!(incidents[last_read].1, "in_progress", "{incidents:?}");
    let unchanged_last = incidents
        .iter()
        .rposition(|(r, _)| *r != read && *r != unread)
        .ok_or("unchanged")?;
    assert!(last_read > unchanged_last, "{incidents:?}");
    let unread_at = incidents.iter().position(|(r, _)| *r == unread).ok_or("unread")?;
    assert_eq!(incidents[unread_at].1, "in_progress", "{incidents:?}");
    // Nothing the collection holds now was missed; only the re-read incident's objects came twice.
    let walked_ids: Vec<String> = walked
        .iter()
        .map(|o| o["id"].as_str().unwrap_or("").to_string())
        .collect();
    let now = svc
        .incidents()
        .taxii_objects(&p.analyst, TAXII_GREEN, &any, 1000, None)
        .await?;
    for o in &now.objects {
        let id = o["id"].as_str().unwrap_or("");
        assert!(walked_ids.iter().any(|w| w == id), "{id} was never paged");
    }
    let read_id = &refs.iter().find(|(_, r)| *r == read).ok_or("read")?.0;
    let read_bundle = svc.incidents().export_incident_stix(&p.analyst, read_id).await?;
    let read_group: Vec<&str> = read_bundle["objects"]
        .as_array()
        .ok_or("objects")?
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    for id in &walked_ids {
        if walked_ids.iter().filter(|w| *w == id).count() > 1 {
            assert!(
                read_group.contains(&id.as_str()),
                "{id} came twice but is not the re-read incident's"
            );
        }
    }
    Ok(())
}

/// Walk a collection `limit` objects at a time with `filter`; every page reads few incidents.
async fn taxii_walk(
    svc: &Services,
    actor: &Actor,
    filter: &TaxiiFilter,
    limit: usize,
) -> TestResult<Vec<serde_json::Value>> {
    let mut walked = Vec::new();
    let mut next = None;
    for _ in 0..1000 {
        let page = svc
            .incidents()
            .taxii_objects(actor, TAXII_GREEN, filter, limit, next.as_ref())
            .await?;
        assert!(page.objects.len() <= limit);
        let most = if filter.ids.is_empty() && filter.types.is_empty() && filter.versions.is_none() {
            limit + 1
        } else {
            baluarte_core::service::TAXII_SCAN_BUDGET + limit + 1
        };
        assert!(
            page.incidents_read <= most,
            "read {} incidents for a page of {limit}",
            page.incidents_read
        );
        walked.extend(page.objects);
        if !page.more {
            return Ok(walked);
        }
        next = Some(page.next.ok_or("next when more")?);
    }
    Err("the walk did not end".into())
}

fn stix_ids(objects: &[serde_json::Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| o["id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Incidents of two entities sharing an address and a CVE: whatever the page size, the pages hold each
/// object of the incidents' exports once, the same as one unpaged answer; and the TAXII filters.
async fn taxii_pages_share_objects_once_and_filter(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    let plan: [(&Actor, &[&str]); 5] = [
        (&p.reporter_a, &["shared.example", "CVE-2023-4966"]),
        (&p.reporter_b, &["only-b.example"]),
        (&p.reporter_a, &["198.51.100.7"]),
        (
            &p.reporter_b,
            &["shared.example", "CVE-2023-4966", "https://only-b.example/x"],
        ),
        (&p.reporter_a, &[]),
    ];
    let mut ids = Vec::new();
    for (n, (who, values)) in plan.iter().enumerate() {
        svc.clock().advance(baluarte_core::time::MINUTE);
        let i = svc
            .incidents()
            .file_report(who, report(&format!("Compartido {n}"), Tlp::Green, values), "web", None)
            .await?
            .incident;
        let triage = TriageInput {
            rsit_class: "fraud".into(),
            rsit_type: "phishing".into(),
            severity: Severity::Medium,
            tlp: Tlp::Green,
        };
        svc.incidents().triage(&p.analyst, &i.id, triage).await?;
        ids.push(i.id);
    }
    let any = TaxiiFilter::default();
    let whole = svc
        .incidents()
        .taxii_objects(&p.analyst, TAXII_GREEN, &any, 1000, None)
        .await?;
    assert!(!whole.more);
    let whole_ids = stix_ids(&whole.objects);
    let mut expected = Vec::new();
    for id in &ids {
        let bundle = svc.incidents().export_incident_stix(&p.analyst, id).await?;
        for o in bundle["objects"].as_array().ok_or("objects")? {
            let oid = o["id"].as_str().unwrap_or("").to_string();
            if !expected.contains(&oid) {
                expected.push(oid);
            }
        }
    }
    let mut sorted = whole_ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), whole_ids.len(), "an object twice in {whole_ids:?}");
    expected.sort();
    assert_eq!(sorted, expected, "the collection holds every exported object once");
    for limit in [1, 2, 3, 5, 8] {
        let walked = taxii_walk(svc, &p.analyst, &any, limit).await?;
        assert_eq!(stix_ids(&walked), whole_ids, "pages of {limit}");
    }

    // match[type], paged: only indicators, all of them.
    let of_type = |t: &str| -> Vec<String> {
        whole
            .objects
            .iter()
            .filter(|o| o["type"] == t)
            .map(|o| o["id"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let indicators = TaxiiFilter {
        types: vec!["indicator".into()],
        ..Default::default()
    };
    assert_eq!(
        stix_ids(&taxii_walk(svc, &p.analyst, &indicators, 2).await?),
        of_type("indicator")
    );
    assert_eq!(of_type("indicator").len(), 5, "one per observable but the CVE");
    let two_types = TaxiiFilter {
        types: vec!["vulnerability".into(), "domain-name".into()],
        ..Default::default()
    };
    let got = stix_ids(&taxii_walk(svc, &p.analyst, &two_types, 1).await?);
    assert_eq!(got.len(), 3, "one CVE and two domains, each once: {got:?}");
    let none = TaxiiFilter {
        types: vec!["malware".into()],
        ..Default::default()
    };
    assert!(taxii_walk(svc, &p.analyst, &none, 5).await?.is_empty());

    // match[id]: exactly the objects named, wherever they are.
    let incident4 = of_type("incident")[3].clone();
    let cve = of_type("vulnerability")[0].clone();
    let by_id = TaxiiFilter {
        ids: vec![
            cve.clone(),
            incident4.clone(),
            "indicator--00000000-0000-4000-8000-000000000000".into(),
        ],
        ..Default::default()
    };
    let got = stix_ids(&taxii_walk(svc, &p.analyst, &by_id, 10).await?);
    assert_eq!(got, vec![cve, incident4.clone()]);

    // match[version]: an incident's version picks its own objects, not the shared ones.
    let inc4 = whole
        .objects
        .iter()
        .find(|o| o["id"] == incident4.as_str())
        .ok_or("incident 4")?;
    let version: jiff::Timestamp = inc4["modified"].as_str().ok_or("modified")?.parse()?;
    let at = TaxiiFilter {
        versions: Some(vec![version.as_microsecond()]),
        ..Default::default()
    };
    let got = taxii_walk(svc, &p.analyst, &at, 100).await?;
    assert!(got.iter().any(|o| o["id"] == incident4.as_str()));
    // Objects with a version of their own carry that one; a cyber-observable's version is when it was
    // added, which is its incident's.
    for o in &got {
        let own = o.get("modified").or_else(|| o.get("created"));
        assert_eq!(own.unwrap_or(&inc4["modified"]), &inc4["modified"], "{o}");
    }
    assert!(!got.iter().any(|o| o["type"] == "identity"));

    // added_after: only what the incidents after the third one hold.
    let third = whole
        .objects
        .iter()
        .position(|o| o["id"] == of_type("incident")[2].as_str())
        .ok_or("third")?;
    let after = TaxiiFilter {
        added_after: Some(whole.added[third]),
        ..Default::default()
    };
    let later = svc
        .incidents()
        .taxii_objects(&p.analyst, TAXII_GREEN, &after, 1000, None)
        .await?;
    let later_incidents: Vec<&serde_json::Value> = later.objects.iter().filter(|o| o["type"] == "incident").collect();
    assert_eq!(later_incidents.len(), 2, "{:?}", stix_ids(&later.objects));
    assert!(later.added.iter().all(|a| *a > whole.added[third]));
    // That view stands alone: its pages carry the shared objects its incidents need.
    assert!(later.objects.iter().any(|o| o["type"] == "identity"));

    // match[spec_version]: everything here is 2.1.
    let old = TaxiiFilter {
        spec_versions: vec!["2.0".into()],
        ..Default::default()
    };
    assert!(taxii_walk(svc, &p.analyst, &old, 50).await?.is_empty());
    let current = TaxiiFilter {
        spec_versions: vec!["2.0".into(), "2.1".into()],
        ..Default::default()
    };
    assert_eq!(stix_ids(&taxii_walk(svc, &p.analyst, &current, 50).await?), whole_ids);
    Ok(())
}

async fn deadline_reminders_fire_once(store: TestStore) -> TestResult {
    use baluarte_core::time::{rfc3339, HOUR};
    let svc = &store.svc;
    let clock = svc.clock();
    let p = people(svc).await?;
    svc.incidents()
        .assign_deadline_profile(
            &p.fx.admin,
            DeadlineAssignment {
                id: String::new(),
                profile_id: "nis2".into(),
                entity_id: None,
                sector_id: Some("energia".into()),
                entity_kind: None,
            },
        )
        .await?;
    // Detected 71 h ago: NIS2's 72 h incident notification is due in an hour.
    let t0 = svc.now();
    let mut r = report("Corte de suministro", Tlp::Green, &[]);
    r.detected_at = rfc3339(t0 - 71 * HOUR);
    let i = svc
        .incidents()
        .file_report(&p.reporter_a, r, "web", None)
        .await?
        .incident;
    let missed = |svc: &Services, actor: Actor| {
        let svc = svc.clone();
        async move {
            let n = svc.notifications().notifications(&actor, false).await?;
            Ok::<usize, CoreError>(n.iter().filter(|n| n.kind == "deadline.missed").count())
        }
    };
    assert_eq!(
        svc.incidents().scan_deadlines().await?,
        0,
        "the first scan only sets its bookmark"
    );
    clock.set(t0 + HOUR / 2);
    assert_eq!(svc.incidents().scan_deadlines().await?, 0, "nothing is due yet");
    assert_eq!(missed(svc, p.reporter_a.clone()).await?, 0);
    // Read half an hour after filing (half an hour before the due time): the early warning went in
    // late (71 h for a 24 h deadline) and the notification is due soon.
    let d = svc.incidents().case_file(&p.reporter_a, &i.id).await?.deadlines;
    let states: Vec<&str> = d.stages.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, vec!["met_late", "due_soon", "pending"], "{d:?}");
    assert_eq!(d.state, DeadlineState::DueSoon);
    // The scan that covers the due time emits the missed notice once, to the entity and to the CSIRT.
    clock.set(t0 + 2 * HOUR);
    assert_eq!(svc.incidents().scan_deadlines().await?, 1);
    assert_eq!(missed(svc, p.reporter_a.clone()).await?, 1);
    assert_eq!(missed(svc, p.analyst.clone()).await?, 1);
    clock.set(t0 + 3 * HOUR);
    assert_eq!(svc.incidents().scan_deadlines().await?, 0);
    assert_eq!(missed(svc, p.reporter_a.clone()).await?, 1);
    let d = svc.incidents().case_file(&p.reporter_a, &i.id).await?.deadlines;
    let states: Vec<&str> = d.stages.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, vec!["met_late", "overdue", "pending"], "{d:?}");
    assert_eq!(d.state, DeadlineState::Overdue);
    Ok(())
}

// ----- concurrent acts on one incident -----

/// The digest the audit trail records as an act's `before`: the fields the act sets, in the order it
/// sets them, as the incident read before the act serialises them.
fn before_digest(before: &Incident, fields: &[&str]) -> TestResult<String> {
    let state = serde_json::to_value(before)?;
    let subset: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter_map(|f| state.get(*f).map(|v| ((*f).to_string(), v.clone())))
        .collect();
    Ok(baluarte_core::audit::digest(&Some(serde_json::Value::Object(subset))))
}

/// The incident's audit entries, oldest first, as (action, before_digest).
async fn incident_audit(svc: &Services, id: &str) -> TestResult<Vec<(String, String)>> {
    let rows = text_rows(
        svc.db(),
        &format!(
            "SELECT action, before_digest FROM audit_log WHERE object_type = 'incident' AND object_id = '{id}' ORDER BY seq"
        ),
        2,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r[0].clone().unwrap_or_default(), r[1].clone().unwrap_or_default()))
        .collect())
}

/// The incident's journal, oldest first, as (kind, body), as the CSIRT sees it.
async fn journal_lines(svc: &Services, actor: &Actor, id: &str) -> TestResult<Vec<(String, String)>> {
    let case = svc.incidents().case_file(actor, id).await?;
    Ok(case.journal.into_iter().map(|j| (j.kind, j.body)).collect())
}

/// Run `n` acts at once (released together by a barrier); each task gets its index.
async fn race<F, Fut, T>(n: usize, act: F) -> TestResult<Vec<Result<T, CoreError>>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, CoreError>> + Send + 'static,
    T: Send + 'static,
{
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (start, fut) = (start.clone(), act(i));
            tokio::spawn(async move {
                start.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await?);
    }
    Ok(out)
}

fn close_input(i: usize) -> CloseInput {
    CloseInput {
        resolution: format!("Resuelto por el analista {i}."),
        lessons_learned: String::new(),
    }
}

/// Twenty closes, rejects and merges of one open incident: one wins, the rest are conflicts, and the
/// journal and the audit trail each hold the one act, audited from the state it started from.
async fn final_acts_race_to_one_winner(store: TestStore) -> TestResult {
    let svc = store.svc.clone();
    let p = people(&svc).await?;
    let survivor = svc
        .incidents()
        .file_report(&p.reporter_a, report("Original", Tlp::Green, &[]), "web", None)
        .await?
        .incident;
    let id = svc
        .incidents()
        .file_report(&p.reporter_a, report("Duplicado", Tlp::Green, &[]), "web", None)
        .await?
        .incident
        .id;
    let before = svc.incidents().get_incident(&p.analyst, &id).await?;
    let outcomes = race(20, |i| {
        let (svc, actor, id, into) = (svc.clone(), p.analyst.clone(), id.clone(), survivor.id.clone());
        async move {
            match i % 3 {
                0 => svc
                    .incidents()
                    .close_incident(&actor, &id, close_input(i))
                    .await
                    .map(|_| "close"),
                1 => svc
                    .incidents()
                    .reject_incident(&actor, &id, &format!("No es un incidente ({i})."))
                    .await
                    .map(|_| "reject"),
                _ => svc
                    .incidents()
                    .merge_incident(&actor, &id, &into)
                    .await
                    .map(|_| "merge"),
            }
        }
    })
    .await?;
    let mut winners = Vec::new();
    for o in outcomes {
        match o {
            Ok(action) => winners.push(action),
            Err(CoreError::Conflict(_)) => {}
            Err(e) => return Err(format!("a losing act must be a conflict, got {e:?}").into()),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one act wins, got {winners:?}");
    let won = winners[0];

    let finals = ["close", "reject", "merge"];
    let journal = journal_lines(&svc, &p.analyst, &id).await?;
    let lines: Vec<_> = journal.iter().filter(|(k, _)| finals.contains(&k.as_str())).collect();
    assert_eq!(lines.len(), 1, "one journal line for the act: {journal:?}");
    assert_eq!(lines[0].0, won);
    let audited = incident_audit(&svc, &id).await?;
    let entries: Vec<_> = audited.iter().filter(|(a, _)| finals.contains(&a.as_str())).collect();
    assert_eq!(entries.len(), 1, "one audit entry for the act: {audited:?}");
    assert_eq!(entries[0].0, won);
    let fields: &[&str] = match won {
        "close" => &[
            "status",
            "resolution",
            "lessons_learned",
            "closed_at",
            "acknowledged_at",
        ],
        "reject" => &["status", "resolution", "closed_at"],
        _ => &["status", "merged_into", "closed_at"],
    };
    assert_eq!(
        entries[0].1,
        before_digest(&before, fields)?,
        "`before` is the open incident"
    );

    let on_survivor = journal_lines(&svc, &p.analyst, &survivor.id).await?;
    let merges = on_survivor.iter().filter(|(k, _)| k == "merge").count();
    assert_eq!(merges, usize::from(won == "merge"), "{on_survivor:?}");
    let status = match won {
        "close" => Status::Closed,
        "reject" => Status::Rejected,
        _ => Status::Merged,
    };
    assert_eq!(svc.incidents().get_incident(&p.analyst, &id).await?.status, status);
    assert!(baluarte_core::audit::verify(svc.db(), &svc.server_key().public_hex())
        .await?
        .broken
        .is_none());
    Ok(())
}

/// Twenty analysts set a closed incident in progress at once: one reopens it, audited from the closed
/// state; the other nineteen find it already in progress and are audited as plain status changes.
async fn reopens_race_to_one_reopen(store: TestStore) -> TestResult {
    let svc = store.svc.clone();
    let p = people(&svc).await?;
    let id = svc
        .incidents()
        .file_report(&p.reporter_a, report("Reabierto", Tlp::Green, &[]), "web", None)
        .await?
        .incident
        .id;
    svc.incidents().close_incident(&p.analyst, &id, close_input(0)).await?;
    let closed = svc.incidents().get_incident(&p.analyst, &id).await?;
    let outcomes = race(20, |_| {
        let (svc, actor, id) = (svc.clone(), p.analyst.clone(), id.clone());
        async move { svc.incidents().set_status(&actor, &id, Status::InProgress).await }
    })
    .await?;
    for o in outcomes {
        assert_eq!(o?.status, Status::InProgress);
    }

    let audited = incident_audit(&svc, &id).await?;
    let reopens: Vec<_> = audited.iter().filter(|(a, _)| a == "reopen").collect();
    assert_eq!(reopens.len(), 1, "one reopen: {audited:?}");
    assert_eq!(reopens[0].1, before_digest(&closed, &["status", "closed_at"])?);
    let in_progress = Incident {
        status: Status::InProgress,
        ..closed.clone()
    };
    let expected = before_digest(&in_progress, &["status"])?;
    let changes: Vec<_> = audited.iter().filter(|(a, _)| a == "status").collect();
    assert_eq!(changes.len(), 19, "{audited:?}");
    assert!(changes.iter().all(|(_, d)| *d == expected), "{changes:?}");

    let journal = journal_lines(&svc, &p.analyst, &id).await?;
    let bodies: Vec<&str> = journal
        .iter()
        .filter(|(k, _)| k == "status")
        .map(|(_, b)| b.as_str())
        .collect();
    let reopen_line = format!("{} → {}", Status::Closed, Status::InProgress);
    let stay_line = format!("{} → {}", Status::InProgress, Status::InProgress);
    assert_eq!(bodies.iter().filter(|b| **b == reopen_line).count(), 1, "{bodies:?}");
    assert_eq!(bodies.iter().filter(|b| **b == stay_line).count(), 19, "{bodies:?}");
    Ok(())
}

/// Ten reopens and ten closes of a closed incident at once: whatever order they run in, it is a serial
/// history — reopens and closes alternate, starting with a reopen — and each act that succeeded has
/// its one journal line and its one audit entry; every act that failed was a conflict.
async fn reopen_and_close_race_serialises(store: TestStore) -> TestResult {
    let svc = store.svc.clone();
    let p = people(&svc).await?;
    let id = svc
        .incidents()
        .file_report(&p.reporter_a, report("Vaivén", Tlp::Green, &[]), "web", None)
        .await?
        .incident
        .id;
    svc.incidents()
        .close_incident(&p.analyst, &id, close_input(100))
        .await?;
    let audit_start = incident_audit(&svc, &id).await?.len();
    let journal_start = journal_lines(&svc, &p.analyst, &id).await?.len();
    let outcomes = race(20, |i| {
        let (svc, actor, id) = (svc.clone(), p.analyst.clone(), id.clone());
        async move {
            if i % 2 == 0 {
                svc.incidents()
                    .set_status(&actor, &id, Status::InProgress)
                    .await
                    .map(|_| "reopen")
            } else {
                svc.incidents()
                    .close_incident(&actor, &id, close_input(i))
                    .await
                    .map(|_| "close")
            }
        }
    })
    .await?;
    let mut closes = 0;
    for o in outcomes {
        match o {
            Ok("close") => closes += 1,
            Ok(_) => {}
            Err(CoreError::Conflict(_)) => {}
            Err(e) => return Err(format!("a losing act must be a conflict, got {e:?}").into()),
        }
    }

    let audited: Vec<String> = incident_audit(&svc, &id).await?[audit_start..]
        .iter()
        .map(|(a, _)| a.clone())
        .collect();
    let acts: Vec<&str> = audited
        .iter()
        .map(String::as_str)
        .filter(|a| matches!(*a, "reopen" | "close"))
        .collect();
    assert_eq!(acts.first(), Some(&"reopen"), "{audited:?}");
    assert!(
        acts.windows(2).all(|w| w[0] != w[1]),
        "reopens and closes alternate: {audited:?}"
    );
    assert_eq!(acts.iter().filter(|a| **a == "close").count(), closes, "{audited:?}");
    let journal = journal_lines(&svc, &p.analyst, &id).await?;
    let journal_acts: Vec<&str> = journal[journal_start..].iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        journal_acts.len(),
        audited.len(),
        "one journal line per audited act: {journal_acts:?}"
    );
    assert_eq!(
        journal_acts.iter().filter(|k| **k == "close").count(),
        closes,
        "{journal_acts:?}"
    );
    let last = svc.incidents().get_incident(&p.analyst, &id).await?;
    let expected = if acts.last() == Some(&"close") {
        Status::Closed
    } else {
        Status::InProgress
    };
    assert_eq!(last.status, expected);
    Ok(())
}

/// Ten merges of A into B and ten of B into A at once: one wins, and the pair never ends up merged into
/// each other (nor does PostgreSQL abort one as a deadlock).
async fn crossed_merges_leave_no_cycle(store: TestStore) -> TestResult {
    let svc = store.svc.clone();
    let p = people(&svc).await?;
    let mut ids = Vec::new();
    for title in ["Uno", "Dos"] {
        let filed = svc
            .incidents()
            .file_report(&p.reporter_a, report(title, Tlp::Green, &[]), "web", None)
            .await?;
        ids.push(filed.incident.id);
    }
    let outcomes = race(20, |i| {
        let (svc, actor) = (svc.clone(), p.analyst.clone());
        let (dup, into) = (ids[i % 2].clone(), ids[1 - i % 2].clone());
        async move { svc.incidents().merge_incident(&actor, &dup, &into).await }
    })
    .await?;
    let mut won = 0;
    for o in outcomes {
        match o {
            Ok(_) => won += 1,
            Err(CoreError::Conflict(_)) => {}
            Err(e) => assert_eq!(invalid_fields(Err::<(), _>(e)), vec!["into".to_string()]),
        }
    }
    assert_eq!(won, 1);
    let a = svc.incidents().get_incident(&p.analyst, &ids[0]).await?;
    let b = svc.incidents().get_incident(&p.analyst, &ids[1]).await?;
    let merged: Vec<_> = [&a, &b]
        .iter()
        .filter(|i| i.status == Status::Merged)
        .map(|i| &i.id)
        .collect();
    assert_eq!(merged.len(), 1, "exactly one of the pair is merged: {a:?} {b:?}");
    assert!(
        a.merged_into.is_none() || b.merged_into.is_none(),
        "a cycle: {a:?} {b:?}"
    );
    Ok(())
}

/// What a case file's forms offer is decided by the service: the profile's stages, the one due next, the
/// stages the CSIRT may still request and who may be assigned.
async fn case_options_follow_the_profile_and_the_reader(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    // Without a deadline profile the stages are the usual three, and none is requestable.
    let plain = svc
        .incidents()
        .file_report(&p.reporter_a, report("Sin perfil", Tlp::Green, &[]), "web", None)
        .await?
        .incident;
    let cf = svc.incidents().case_file(&p.analyst, &plain.id).await?;
    let o = svc.incidents().case_options(&p.analyst, &cf).await?;
    assert!(o.may_handle && o.requestable_stages.is_empty(), "{o:?}");
    let cf = svc.incidents().case_file(&p.reporter_a, &plain.id).await?;
    let o = svc.incidents().case_options(&p.reporter_a, &cf).await?;
    assert_eq!(o.sendable_stages, vec!["initial", "update", "final"]);
    svc.incidents()
        .assign_deadline_profile(
            &p.fx.admin,
            DeadlineAssignment {
                id: String::new(),
                profile_id: "apf".into(),
                entity_id: Some(p.fx.a.clone()),
                sector_id: None,
                entity_kind: None,
            },
        )
        .await?;
    let i = svc
        .incidents()
        .file_report(&p.reporter_a, report("Opciones", Tlp::Green, &[]), "web", None)
        .await?
        .incident;
    let options = |actor: Actor| {
        let (svc, id) = (svc.clone(), i.id.clone());
        async move {
            let cf = svc.incidents().case_file(&actor, &id).await?;
            svc.incidents().case_options(&actor, &cf).await
        }
    };
    // The reporter may send the profile's stages; none is due yet (the report was the initial
    // notification, the final report waits for the CSIRT's request).
    let o = options(p.reporter_a.clone()).await?;
    assert!(o.may_contribute && !o.may_handle, "{o:?}");
    let profile =
        baluarte_core::service::deadline_profile(i.profile_id.as_deref().ok_or("no profile")?).ok_or("profile")?;
    let stages: Vec<String> = profile.stages.iter().map(|s| s.id.clone()).collect();
    assert_eq!(o.sendable_stages, stages);
    assert!(stages.len() >= 2, "{stages:?}");
    assert_eq!(o.proposed_stage, None);
    assert!(o.requestable_stages.is_empty() && o.assignees.is_empty(), "{o:?}");
    // The CSIRT may request the final report and assign the case to its own members only.
    let o = options(p.analyst.clone()).await?;
    assert!(o.may_handle, "{o:?}");
    let requestable: Vec<&str> = o.requestable_stages.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(requestable, vec!["final"]);
    // The coordinator, who may list the authority's people, is offered the CSIRT's members and no one else.
    let (_, coordinator) =
        p.fx.person(
            svc,
            &p.fx.national_id,
            Role::Coordinator,
            "coordinacion@nacional.example",
        )
        .await?;
    let o = options(coordinator).await?;
    assert!(o.assignees.iter().any(|u| u.id == p.analyst_id), "{:?}", o.assignees);
    assert!(o.assignees.iter().all(|u| u.role.is_csirt()), "{:?}", o.assignees);
    assert!(
        o.assignees.len() >= 2,
        "the analyst and the coordinator: {:?}",
        o.assignees
    );
    // Once requested, the final report is proposed to the reporter and no longer requestable.
    svc.incidents().request_stage(&p.analyst, &i.id, "final").await?;
    assert_eq!(
        options(p.reporter_a.clone()).await?.proposed_stage.as_deref(),
        Some("final")
    );
    assert!(options(p.analyst.clone()).await?.requestable_stages.is_empty());
    Ok(())
}
