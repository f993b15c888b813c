//! Tasks on a case: who may be named as a task's assignee.

use super::*;
use baluarte_core::error::FieldCode;

conformance!(task_assignees_are_active_csirt_staff,);

/// The error codes on `field`, or a panic naming what came instead.
#[track_caller]
fn codes_on<T: std::fmt::Debug>(r: Result<T, CoreError>, field: &str) -> Vec<FieldCode> {
    match r {
        Err(CoreError::Invalid(fields)) => fields
            .into_iter()
            .filter(|f| f.field == field)
            .map(|f| f.code)
            .collect(),
        other => panic!("expected CoreError::Invalid on {field}, got {other:?}"),
    }
}

/// A task's assignee is chosen as an incident's is: an active CSIRT analyst or coordinator of the national
/// authority. An id no one has is `unknown_user` (not a foreign-key failure), anyone else `not_assignable`;
/// a refused task writes nothing.
async fn task_assignees_are_active_csirt_staff(store: TestStore) -> TestResult {
    let svc = &store.svc;
    let p = people(svc).await?;
    let i = svc
        .incidents()
        .file_report(&p.reporter_a, report("Tareas", Tlp::Amber, &[]), "web", None)
        .await?
        .incident;
    let (officer, _) =
        p.fx.person(svc, &p.fx.a, Role::SecurityOfficer, "oficial@cfe.example")
            .await?;
    let (auditor, _) =
        p.fx.person(svc, &p.fx.national_id, Role::Auditor, "auditoria@nacional.example")
            .await?;
    let (former, _) =
        p.fx.person(svc, &p.fx.national_id, Role::CsirtAnalyst, "antes@nacional.example")
            .await?;
    svc.users().set_user_active(&p.fx.admin, &former.id, false).await?;
    let tasks_before = count(svc.db(), "incident_tasks").await?;
    let audit_before = count(svc.db(), "audit_log").await?;

    let add = |assignee: Option<String>| {
        let (svc, analyst, id) = (svc.clone(), p.analyst.clone(), i.id.clone());
        async move {
            svc.incidents()
                .add_task(&analyst, &id, "Revisar bitácoras", assignee.as_deref())
                .await
        }
    };
    assert_eq!(
        codes_on(add(Some("no-such-user".into())).await, "assignee_id"),
        [FieldCode::UnknownUser]
    );
    for (who, id) in [
        ("an entity's officer", &officer.id),
        ("an auditor of the authority", &auditor.id),
        ("a deactivated analyst", &former.id),
    ] {
        assert_eq!(
            codes_on(add(Some(id.clone())).await, "assignee_id"),
            [FieldCode::NotAssignable],
            "{who}"
        );
    }
    assert_eq!(count(svc.db(), "incident_tasks").await?, tasks_before);
    assert_eq!(count(svc.db(), "audit_log").await?, audit_before);

    // A member of the CSIRT may be named, and so may no one.
    let assigned = add(Some(p.analyst_id.clone())).await?;
    let unassigned = add(None).await?;
    let case = svc.incidents().case_file(&p.analyst, &i.id).await?;
    let assignee_of = |task_id: &str| {
        case.tasks
            .iter()
            .find(|t| t.id == task_id)
            .map(|t| t.assignee_id.clone())
    };
    assert_eq!(assignee_of(&assigned), Some(Some(p.analyst_id.clone())));
    assert_eq!(assignee_of(&unassigned), Some(None));
    Ok(())
}
