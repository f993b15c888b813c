//! Incident reporting and the national CSIRT, checked on SQLite and on PostgreSQL: intake with signed
//! receipts and idempotency, handling, deadlines per regulation profile, correlation within TLP, tenancy,
//! attachments and bad input.

#[path = "../common/mod.rs"]
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

mod case_options;
mod case_work;
mod concurrency;
mod intake;
mod reminders;
mod sharing;
mod tasks;
