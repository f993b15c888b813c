//! Incident intake: a report filed from the web form or the API becomes an incident, its observables,
//! its first stage submission and a signed receipt, all in one transaction with the audit entry.
//! A repeated API call with the same `Idempotency-Key` returns the first result.

use super::Incidents;
use crate::audit::{self, Change};
use crate::db::{flag, WriteTx};
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::incident::{rsit_valid, Incident, Pap, Severity, Status};
use crate::model::{Entity, Tlp};
use crate::policy::{self, Action, Actor, Resource};
use crate::receipt::{canonical_json, Receipt};
use crate::service::kit::new_id;
use crate::service::kit::validation::{finish, optional_text, text, text_block};
use crate::time::{self, Micros};
use baluarte_observables::{detect, normalise, Kind, Observable, ObservableError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most observables one report may carry; a larger set belongs in a STIX bundle.
pub const MAX_OBSERVABLES: usize = 500;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservableInput {
    /// `ipv4`, `ipv6`, `cidr`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`, `sha512`, `cve`, `asn`;
    /// guessed from the value when absent.
    #[serde(default)]
    pub kind: Option<String>,
    pub value: String,
}

/// A report as the reporting entity files it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// The entity reporting; only the national CSIRT may file for another entity. Defaults to the caller's.
    #[serde(default)]
    pub entity_id: Option<String>,
    #[schema(schema_with = crate::service::schema::line::<3, 200>)]
    pub title: String,
    #[schema(schema_with = crate::service::schema::block::<1, 20_000>)]
    pub description: String,
    /// When the entity detected the incident: RFC 3339, or `YYYY-MM-DDTHH:MM` in the entity's time zone.
    pub detected_at: String,
    /// When it began, if known (same formats).
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// RSIT class, e.g. `intrusions`.
    #[schema(schema_with = crate::service::schema::rsit_class)]
    pub rsit_class: String,
    /// RSIT type within the class, e.g. `system-compromise`.
    #[schema(schema_with = crate::service::schema::rsit_type)]
    pub rsit_type: String,
    pub severity: Severity,
    pub tlp: Tlp,
    pub pap: Pap,
    #[serde(default)]
    #[schema(schema_with = crate::service::schema::blank_or_line::<2000>)]
    pub affected_services: String,
    #[serde(default)]
    #[schema(schema_with = crate::service::schema::blank_or_line::<2000>)]
    pub affected_systems: String,
    /// Minutes the affected service was interrupted.
    #[serde(default, deserialize_with = "crate::service::kit::json::optional_i64")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub interruption_minutes: Option<i64>,
    #[serde(default, deserialize_with = "crate::service::kit::json::optional_i64")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub people_affected: Option<i64>,
    #[serde(default)]
    pub data_compromised: bool,
    /// Personal data involved, under the LFPDPPP.
    #[serde(default)]
    pub personal_data: bool,
    #[serde(default)]
    pub observables: Vec<ObservableInput>,
}

/// What a submission returns: the incident and the receipt; `replayed` when an Idempotency-Key matched.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Filed {
    pub incident: Incident,
    pub receipt: Receipt,
    pub replayed: bool,
}

/// A report after validation, ready to store.
#[derive(Debug)]
pub(crate) struct ValidReport {
    pub entity: Entity,
    pub title: String,
    pub description: String,
    pub detected_at: Micros,
    pub occurred_at: Option<Micros>,
    pub observables: Vec<Observable>,
}

/// Parse a time given as RFC 3339 or as a civil date-time in `zone`.
pub(crate) fn parse_time(errors: &mut Vec<FieldError>, field: &str, raw: &str, zone: &str) -> Option<Micros> {
    let raw = raw.trim();
    let parsed = raw.parse::<jiff::Timestamp>().ok().or_else(|| {
        let civil = raw.parse::<jiff::civil::DateTime>().ok()?;
        let tz = jiff::tz::TimeZone::get(zone).ok()?;
        civil.to_zoned(tz).ok().map(|z| z.timestamp())
    });
    match parsed {
        Some(t) => Some(t.as_microsecond()),
        None => {
            errors.push(FieldError::new(field, FieldCode::NotDateTime).with("example", "2026-11-21T08:30"));
            None
        }
    }
}

fn check_not_future(errors: &mut Vec<FieldError>, field: &str, at: Option<Micros>, now: Micros) {
    // Five minutes of grace for clocks that run a little ahead.
    if at.is_some_and(|t| t > now + 5 * 60_000_000) {
        errors.push(FieldError::new(field, FieldCode::InFuture));
    }
    if at.is_some_and(|t| t < 631_152_000_000_000) {
        errors.push(FieldError::new(field, FieldCode::TooEarly).with("year", 1990));
    }
}

pub(crate) fn parse_observables(errors: &mut Vec<FieldError>, input: &[ObservableInput]) -> Vec<Observable> {
    if input.len() > MAX_OBSERVABLES {
        errors.push(FieldError::new("observables", FieldCode::TooManyObservables).with("max", MAX_OBSERVABLES));
        return Vec::new();
    }
    let mut out: Vec<Observable> = Vec::new();
    for (i, o) in input.iter().enumerate() {
        let field = format!("observables[{i}]");
        let parsed = match o.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => detect(&o.value),
            Some(k) => match Kind::parse(k) {
                Some(kind) => normalise(kind, &o.value),
                None => {
                    errors.push(FieldError::new(field, FieldCode::UnknownObservableKind).with("kind", truncate(k, 40)));
                    continue;
                }
            },
        };
        match parsed {
            Ok(obs) if too_broad(&obs) => {
                errors.push(FieldError::new(field, FieldCode::NetworkTooBroad).with("value", obs.value))
            }
            Ok(obs) if !out.contains(&obs) => out.push(obs),
            Ok(_) => {}
            Err(e) => errors.push(observable_error(field, &o.value, &e)),
        }
    }
    out
}

/// Why a value is not an observable: the cases a person fixes differently have their own code; the
/// rest keep the parser's technical reason.
pub(crate) fn observable_error(field: impl Into<String>, value: &str, e: &ObservableError) -> FieldError {
    let value = truncate(value, 80);
    match e {
        ObservableError::Empty => FieldError::new(field, FieldCode::ObservableEmpty),
        ObservableError::Unrecognised(_) => {
            FieldError::new(field, FieldCode::ObservableUnrecognised).with("value", value)
        }
        other => FieldError::new(field, FieldCode::ObservableInvalid)
            .with("value", value)
            .with("detail", other.to_string()),
    }
}

/// A class/type pair that is not in the Reference Security Incident Taxonomy.
pub(crate) fn not_in_taxonomy(field: &str, class: &str, kind: &str) -> FieldError {
    FieldError::new(field, FieldCode::NotInTaxonomy)
        .with("class", truncate(class, 40))
        .with("type", truncate(kind, 40))
}

/// A network so wide it would link every report (`0.0.0.0/0`) is refused rather than stored.
fn too_broad(o: &Observable) -> bool {
    if o.kind != Kind::Cidr {
        return false;
    }
    let prefix: u8 = o.value.rsplit('/').next().and_then(|p| p.parse().ok()).unwrap_or(0);
    prefix < if o.value.contains(':') { 16 } else { 8 }
}

fn truncate(s: &str, n: usize) -> String {
    let t: String = s.chars().take(n).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

fn count(errors: &mut Vec<FieldError>, field: &str, v: Option<i64>) {
    if v.is_some_and(|n| !(0..=1_000_000_000_000).contains(&n)) {
        errors.push(FieldError::new(field, FieldCode::NotCount));
    }
}

impl Incidents<'_> {
    /// Validate a report and decide which entity it is for.
    async fn validate_report(self, actor: &Actor, input: &ReportInput, now: Micros) -> Result<ValidReport> {
        let entity_id = input.entity_id.clone().unwrap_or_else(|| actor.entity_id.clone());
        policy::check(actor, Resource::Incident, Action::Create, Some(&entity_id))?;
        let entity = self.s.registry().load_entity(&entity_id).await?;
        let mut errors = Vec::new();
        if !entity.active {
            errors.push(FieldError::new("entity_id", FieldCode::EntityDeactivated));
        }
        let title = text(&mut errors, "title", &input.title, 3, 200);
        let description = text_block(&mut errors, "description", &input.description, 1, 20_000);
        let detected_at = parse_time(&mut errors, "detected_at", &input.detected_at, &entity.time_zone);
        check_not_future(&mut errors, "detected_at", detected_at, now);
        let occurred_at = match input.occurred_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => parse_time(&mut errors, "occurred_at", raw, &entity.time_zone),
            None => None,
        };
        check_not_future(&mut errors, "occurred_at", occurred_at, now);
        if let (Some(o), Some(d)) = (occurred_at, detected_at) {
            if o > d {
                errors.push(FieldError::new("occurred_at", FieldCode::AfterDetection));
            }
        }
        if !rsit_valid(&input.rsit_class, &input.rsit_type) {
            let field = if crate::incident::rsit().iter().any(|c| c.id == input.rsit_class) {
                "rsit_type"
            } else {
                "rsit_class"
            };
            errors.push(not_in_taxonomy(field, &input.rsit_class, &input.rsit_type));
        }
        optional_text(
            &mut errors,
            "affected_services",
            &Some(input.affected_services.clone()),
            2000,
        );
        optional_text(
            &mut errors,
            "affected_systems",
            &Some(input.affected_systems.clone()),
            2000,
        );
        count(&mut errors, "interruption_minutes", input.interruption_minutes);
        count(&mut errors, "people_affected", input.people_affected);
        let observables = parse_observables(&mut errors, &input.observables);
        finish(errors)?;
        Ok(ValidReport {
            entity,
            title,
            description,
            detected_at: detected_at.unwrap_or_default(),
            occurred_at,
            observables,
        })
    }

    /// File a report. With an idempotency key, a repeat of the same request by the same caller returns
    /// the first incident and receipt; the same key with a different report is a conflict.
    pub async fn file_report(
        self,
        actor: &Actor,
        input: ReportInput,
        channel: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Filed> {
        self.file_report_at(actor, input, channel, idempotency_key, self.s.now())
            .await
    }

    /// [`Incidents::file_report`] as if received at `now` (the demo writes a year of history).
    pub(crate) async fn file_report_at(
        self,
        actor: &Actor,
        input: ReportInput,
        channel: &str,
        idempotency_key: Option<&str>,
        now: Micros,
    ) -> Result<Filed> {
        if let Some(key) = idempotency_key {
            if key.is_empty() || key.len() > 255 || key.chars().any(|c| c.is_control()) {
                return Err(CoreError::invalid("Idempotency-Key", FieldCode::NotIdempotencyKey));
            }
        }
        let v = self.validate_report(actor, &input, now).await?;
        // Read before the transaction: a write transaction must not wait on a second pool connection.
        let profile = self.profile_for(&v.entity).await?;
        let request_digest =
            crate::crypto::sha256_hex(canonical_json(&serde_json::to_value(&input).unwrap_or_default()).as_bytes());
        let mut tx = self.s.db.begin_write().await?;
        let incident_id = new_id();
        if let Some(key) = idempotency_key {
            let claimed = sqlx::query(
                "INSERT INTO idempotency_keys (principal_id, idem_key, request_digest, incident_id, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(actor.id())
            .bind(key)
            .bind(&request_digest)
            .bind(&incident_id)
            .bind(now)
            .execute(tx.conn())
            .await;
            match claimed {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    drop(tx);
                    return self.replay(actor, key, &request_digest).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let filed = self
            .store_report(&mut tx, actor, &incident_id, &input, v, profile, channel, now)
            .await?;
        tx.commit().await?;
        self.load_filed(actor, &filed.0, &filed.1).await
    }

    /// The first result of an idempotent request.
    async fn replay(self, actor: &Actor, key: &str, request_digest: &str) -> Result<Filed> {
        use sqlx::Row;
        let row = sqlx::query(
            "SELECT request_digest, incident_id FROM idempotency_keys WHERE principal_id = $1 AND idem_key = $2",
        )
        .bind(actor.id())
        .bind(key)
        .fetch_optional(self.s.db.pool())
        .await?
        // The first request holding the key failed and rolled back after this one saw it taken: the
        // caller retries and the key is free again.
        .ok_or_else(|| {
            CoreError::Conflict("a request with this Idempotency-Key did not complete; send it again".into())
        })?;
        let stored: String = row.try_get("request_digest")?;
        if stored != request_digest {
            return Err(CoreError::Conflict(
                "this Idempotency-Key was already used for a different report".into(),
            ));
        }
        let incident_id: String = row.try_get("incident_id")?;
        let submission_id: String =
            sqlx::query("SELECT id FROM incident_submissions WHERE incident_id = $1 ORDER BY submitted_at, id LIMIT 1")
                .bind(&incident_id)
                .fetch_one(self.s.db.pool())
                .await?
                .try_get("id")?;
        let mut filed = self.load_filed(actor, &incident_id, &submission_id).await?;
        filed.replayed = true;
        Ok(filed)
    }

    async fn load_filed(self, actor: &Actor, incident_id: &str, submission_id: &str) -> Result<Filed> {
        let incident = self.get_incident(actor, incident_id).await?;
        let receipt = self.receipt(actor, incident_id, submission_id).await?;
        Ok(Filed {
            incident,
            receipt,
            replayed: false,
        })
    }

    /// Insert the incident, its observables, the first submission and its receipt. Returns the
    /// incident and submission ids.
    #[allow(clippy::too_many_arguments)]
    async fn store_report(
        self,
        tx: &mut WriteTx,
        actor: &Actor,
        incident_id: &str,
        input: &ReportInput,
        v: ValidReport,
        profile: Option<&'static baluarte_deadlines::Profile>,
        channel: &str,
        now: Micros,
    ) -> Result<(String, String)> {
        let reference = next_reference(tx, now).await?;
        let first_stage = profile
            .as_ref()
            .and_then(|p| p.stages.first().map(|s| s.id.clone()))
            .unwrap_or_else(|| "initial".to_string());
        sqlx::query(
            "INSERT INTO incidents (id, reference, entity_id, reported_by, reported_by_label, channel, title, description, detected_at, occurred_at, rsit_class, rsit_type, severity, tlp, pap, affected_services, affected_systems, interruption_minutes, people_affected, data_compromised, personal_data, status, profile_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $24)",
        )
        .bind(incident_id)
        .bind(&reference)
        .bind(&v.entity.id)
        .bind(actor.id())
        .bind(&actor.label)
        .bind(channel)
        .bind(&v.title)
        .bind(&v.description)
        .bind(v.detected_at)
        .bind(v.occurred_at)
        .bind(&input.rsit_class)
        .bind(&input.rsit_type)
        .bind(input.severity.as_str())
        .bind(input.tlp.as_str())
        .bind(input.pap.as_str())
        .bind(input.affected_services.trim())
        .bind(input.affected_systems.trim())
        .bind(input.interruption_minutes)
        .bind(input.people_affected)
        .bind(flag(input.data_compromised))
        .bind(flag(input.personal_data))
        .bind(Status::New.as_str())
        .bind(profile.as_ref().map(|p| p.id.clone()))
        .bind(now)
        .execute(tx.conn())
        .await?;
        insert_observables(
            tx,
            Some(incident_id),
            None,
            &v.entity.id,
            input.tlp,
            &v.observables,
            now,
        )
        .await?;
        let mut report = serde_json::to_value(input).unwrap_or_default();
        if let Some(m) = report.as_object_mut() {
            m.insert("entity_id".into(), v.entity.id.clone().into());
            m.insert("reference".into(), reference.clone().into());
            m.insert(
                "observables".into(),
                serde_json::to_value(
                    v.observables
                        .iter()
                        .map(|o| serde_json::json!({"kind": o.kind.as_str(), "value": o.value}))
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_default(),
            );
        }
        let submission_id = self
            .store_submission(tx, actor, incident_id, &reference, &first_stage, &report, now)
            .await?;
        self.journal(
            tx,
            incident_id,
            actor,
            "reported",
            &format!("{reference}: {}", v.title),
            true,
            now,
        )
        .await?;
        audit::append(
            tx,
            actor,
            Change::created("incident", incident_id, &v.entity.id, &report),
        )
        .await?;
        self.s
            .notifications()
            .notify_csirt(
                tx,
                "incident.reported",
                incident_id,
                &format!("{reference} · {}", v.title),
                now,
            )
            .await?;
        Ok((incident_id.to_string(), submission_id))
    }

    /// Store one stage's exact bytes with its signed receipt.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn store_submission(
        self,
        tx: &mut WriteTx,
        actor: &Actor,
        incident_id: &str,
        reference: &str,
        stage_id: &str,
        body: &serde_json::Value,
        now: Micros,
    ) -> Result<String> {
        let id = new_id();
        let bytes = format!("{}\n", serde_json::to_string_pretty(body).unwrap_or_default());
        let receipt = Receipt::issue(
            &self.s.key,
            incident_id,
            reference,
            &id,
            stage_id,
            bytes.as_bytes(),
            &time::rfc3339(now),
        );
        sqlx::query(
            "INSERT INTO incident_submissions (id, incident_id, stage_id, body, digest, submitted_by, submitted_at, receipt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(incident_id)
        .bind(stage_id)
        .bind(&bytes)
        .bind(&receipt.report_sha256)
        .bind(&actor.label)
        .bind(now)
        .bind(receipt.to_text())
        .execute(tx.conn())
        .await?;
        Ok(id)
    }
}

/// The next reference number of the year, e.g. `BAL-2026-000123`.
async fn next_reference(tx: &mut WriteTx, now: Micros) -> Result<String> {
    use sqlx::Row;
    let year = i64::from(time::to_timestamp(now).to_zoned(jiff::tz::TimeZone::UTC).year());
    sqlx::query("INSERT INTO incident_counters (year, next) VALUES ($1, 1) ON CONFLICT (year) DO NOTHING")
        .bind(year)
        .execute(tx.conn())
        .await?;
    let n: i64 = sqlx::query("UPDATE incident_counters SET next = next + 1 WHERE year = $1 RETURNING next - 1 AS n")
        .bind(year)
        .fetch_one(tx.conn())
        .await?
        .try_get("n")?;
    Ok(format!("BAL-{year}-{n:06}"))
}

pub(crate) async fn insert_observables(
    tx: &mut WriteTx,
    incident_id: Option<&str>,
    import_id: Option<&str>,
    entity_id: &str,
    tlp: Tlp,
    observables: &[Observable],
    now: Micros,
) -> Result<()> {
    for o in observables {
        let (lo, hi) = o.ip_range().unzip();
        sqlx::query(
            "INSERT INTO observables (id, incident_id, import_id, entity_id, kind, value, corr_key, related_key, ip_lo, ip_hi, tlp, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(new_id())
        .bind(incident_id)
        .bind(import_id)
        .bind(entity_id)
        .bind(o.kind.as_str())
        .bind(&o.value)
        .bind(o.key())
        .bind(o.related_keys().into_iter().next())
        .bind(lo)
        .bind(hi)
        .bind(tlp.as_str())
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}
