//! Deadline reminders fire once.

use super::*;

conformance!(deadline_reminders_fire_once,);

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
