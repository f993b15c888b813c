//! What a case file's forms offer, decided by the service.

use super::*;

conformance!(case_options_follow_the_profile_and_the_reader,);

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
