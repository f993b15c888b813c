//! Concurrent acts on one incident: one winner, and a journal and an audit trail that agree.

use super::*;

conformance!(
    final_acts_race_to_one_winner,
    reopens_race_to_one_reopen,
    reopen_and_close_race_serialises,
    crossed_merges_leave_no_cycle,
);

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
    assert!(
        baluarte_core::audit::verify_chain(svc.db(), &svc.server_key().public_hex())
            .await?
            .broken
            .is_none()
    );
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
