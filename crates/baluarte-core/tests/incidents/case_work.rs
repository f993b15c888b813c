//! Case work: deadline profiles, refused reports, attachments, merges and campaigns.

use super::*;

conformance!(
    deadline_profiles_follow_assignments,
    bad_reports_are_refused_and_store_nothing,
    attachments_are_content_addressed_and_limited,
    merge_and_campaigns,
);

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
