//! Intake and handling: a report's whole life, idempotent submissions, tenancy and correlation within TLP.

use super::*;

conformance!(
    report_triage_request_answer_close,
    idempotent_submissions_under_concurrency,
    tenancy_of_incidents_and_correlation_within_tlp,
);

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
    assert!(
        baluarte_core::audit::verify_chain(svc.db(), &svc.server_key().public_hex())
            .await?
            .broken
            .is_none()
    );

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
