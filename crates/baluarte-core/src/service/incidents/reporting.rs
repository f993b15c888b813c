//! The reporting side's part in an incident after its intake: later stage submissions, answers to the
//! CSIRT's requests for information, and attachments.

use super::Incidents;
use crate::audit::{self, Change};
use crate::error::{CoreError, FieldCode, FieldError, Result};
use crate::incident::{Attachment, Severity};
use crate::policy::{Action, Actor};
use crate::receipt::Receipt;
use crate::service::kit::new_id;
use crate::service::kit::validation::{finish, text_block};
use serde::Deserialize;
use sqlx::Row;
use utoipa::ToSchema;

/// Largest attachment accepted, in bytes.
pub const MAX_ATTACHMENT: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    /// The profile's stage this submission answers, e.g. `update` or `final`.
    pub stage_id: String,
    #[schema(schema_with = crate::service::schema::block::<1, 20_000>)]
    pub summary: String,
    /// The report's fields that changed since the first one, if any.
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default, deserialize_with = "crate::service::kit::json::optional_i64")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub interruption_minutes: Option<i64>,
    #[serde(default, deserialize_with = "crate::service::kit::json::optional_i64")]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub people_affected: Option<i64>,
}

impl Incidents<'_> {
    /// Send a later stage (update, final report) of a filed incident.
    pub async fn submit_stage(self, actor: &Actor, incident_id: &str, input: StageInput) -> Result<Receipt> {
        let incident = self.incident_for(actor, incident_id, Action::Contribute).await?;
        let mut errors = Vec::new();
        let stage_ids = self.stage_ids(&incident).await?;
        if !stage_ids.contains(&input.stage_id) {
            errors.push(FieldError::new("stage_id", FieldCode::NotAStage).with("choices", stage_ids.join(", ")));
        }
        let summary = text_block(&mut errors, "summary", &input.summary, 1, 20_000);
        if !incident.status.is_open() && input.stage_id != "final" && input.stage_id != "root_cause" {
            errors.push(FieldError::new("stage_id", FieldCode::IncidentClosed));
        }
        finish(errors)?;
        let now = self.s.now();
        let body = serde_json::json!({
            "incident_id": incident.id,
            "reference": incident.reference,
            "stage_id": input.stage_id,
            "summary": summary,
            "severity": input.severity.map(|s| s.as_str()),
            "interruption_minutes": input.interruption_minutes,
            "people_affected": input.people_affected,
        });
        let mut tx = self.s.db.begin_write().await?;
        let sub_id = self
            .store_submission(
                &mut tx,
                actor,
                &incident.id,
                &incident.reference,
                &input.stage_id,
                &body,
                now,
            )
            .await?;
        if let Some(sev) = input.severity {
            sqlx::query("UPDATE incidents SET severity = $1 WHERE id = $2")
                .bind(sev.as_str())
                .bind(&incident.id)
                .execute(tx.conn())
                .await?;
        }
        if let Some(p) = input.people_affected {
            sqlx::query("UPDATE incidents SET people_affected = $1 WHERE id = $2")
                .bind(p)
                .bind(&incident.id)
                .execute(tx.conn())
                .await?;
        }
        if let Some(m) = input.interruption_minutes {
            sqlx::query("UPDATE incidents SET interruption_minutes = $1 WHERE id = $2")
                .bind(m)
                .bind(&incident.id)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&incident.id)
            .execute(tx.conn())
            .await?;
        self.journal(
            &mut tx,
            &incident.id,
            actor,
            "stage",
            &format!("{}: {summary}", input.stage_id),
            true,
            now,
        )
        .await?;
        audit::append(
            &mut tx,
            actor,
            Change::created("incident_submission", &sub_id, &incident.entity_id, &body),
        )
        .await?;
        self.s
            .notifications()
            .notify_handlers(
                &mut tx,
                &incident,
                "incident.stage",
                &format!("{} · {}", incident.reference, input.stage_id),
                now,
            )
            .await?;
        tx.commit().await?;
        self.receipt(actor, incident_id, &sub_id).await
    }

    /// The reporting side answers a request for information.
    pub async fn answer_request(self, actor: &Actor, incident_id: &str, request_id: &str, answer: &str) -> Result<()> {
        let incident = self.incident_for(actor, incident_id, Action::Contribute).await?;
        let mut errors = Vec::new();
        let answer = text_block(&mut errors, "answer", answer, 1, 20_000);
        finish(errors)?;
        let row = sqlx::query("SELECT question, answer FROM info_requests WHERE id = $1 AND incident_id = $2")
            .bind(request_id)
            .bind(incident_id)
            .fetch_optional(self.s.db.pool())
            .await?
            .ok_or(CoreError::NotFound)?;
        if row.try_get::<Option<String>, _>("answer")?.is_some() {
            return Err(CoreError::Conflict("this request was already answered".into()));
        }
        let now = self.s.now();
        let mut tx = self.s.db.begin_write().await?;
        let answered = sqlx::query(
            "UPDATE info_requests SET answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND answer IS NULL",
        )
        .bind(&answer)
        .bind(&actor.label)
        .bind(now)
        .bind(request_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        // Two answers racing: the first wins, the second is told so (and its transaction rolls back).
        if answered == 0 {
            return Err(CoreError::Conflict("this request was already answered".into()));
        }
        self.journal(&mut tx, incident_id, actor, "answer", &answer, true, now)
            .await?;
        audit::append(
            &mut tx,
            actor,
            Change::changed(
                "answer",
                "info_request",
                request_id,
                &incident.entity_id,
                &serde_json::json!({"answer": null}),
                &serde_json::json!({"answer": answer}),
            ),
        )
        .await?;
        self.s
            .notifications()
            .notify_handlers(
                &mut tx,
                &incident,
                "incident.answer",
                &format!("{} · respuesta", incident.reference),
                now,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Attach a file. The content is stored once per SHA-256; the same file on two incidents is one blob.
    pub async fn add_attachment(
        self,
        actor: &Actor,
        incident_id: &str,
        filename: &str,
        media_type: &str,
        content: &[u8],
    ) -> Result<Attachment> {
        let incident = self.incident_for(actor, incident_id, Action::Contribute).await?;
        let mut errors = Vec::new();
        let filename = sanitize_filename(filename);
        if filename.is_empty() {
            errors.push(FieldError::new("file", FieldCode::FileNameRequired));
        }
        if content.is_empty() {
            errors.push(FieldError::new("file", FieldCode::FileEmpty));
        }
        if content.len() > MAX_ATTACHMENT {
            errors.push(
                FieldError::new("file", FieldCode::FileTooLarge)
                    .with("size", content.len())
                    .with("max_mib", MAX_ATTACHMENT / 1024 / 1024),
            );
        }
        finish(errors)?;
        let media_type =
            if media_type.len() <= 127 && media_type.contains('/') && !media_type.chars().any(|c| c.is_control()) {
                media_type.to_string()
            } else {
                "application/octet-stream".to_string()
            };
        let sha = crate::crypto::sha256_hex(content);
        let now = self.s.now();
        let att = Attachment {
            id: new_id(),
            incident_id: incident_id.into(),
            sha256: sha.clone(),
            filename,
            media_type,
            size: content.len() as i64,
            uploaded_by: actor.label.clone(),
            created_at: now,
        };
        let mut tx = self.s.db.begin_write().await?;
        sqlx::query("INSERT INTO blobs (sha256, size, content, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(&sha)
            .bind(att.size)
            .bind(content.to_vec())
            .bind(now)
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO attachments (id, incident_id, entity_id, sha256, filename, media_type, size, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&att.id)
            .bind(incident_id)
            .bind(&incident.entity_id)
            .bind(&sha)
            .bind(&att.filename)
            .bind(&att.media_type)
            .bind(att.size)
            .bind(&att.uploaded_by)
            .bind(now)
            .execute(tx.conn())
            .await?;
        self.journal(
            &mut tx,
            incident_id,
            actor,
            "attachment",
            &format!("{} ({} B, SHA-256 {sha})", att.filename, att.size),
            true,
            now,
        )
        .await?;
        audit::append(
            &mut tx,
            actor,
            Change::created("attachment", &att.id, &incident.entity_id, &att),
        )
        .await?;
        tx.commit().await?;
        Ok(att)
    }
}

/// A file name safe to store and to send back in Content-Disposition: no path, no quote characters, at
/// most 200 characters, and no control or invisible formatting characters. The latter are Unicode's
/// format characters (general category Cf: the bidi controls U+202A–U+202E, U+2066–U+2069, U+200E,
/// U+200F, U+061C, zero-width characters, the BOM, …) and the line and paragraph separators: a right-to-left
/// override would show `factura\u{202E}fdp.exe` as `facturaexe.pdf`, so they are removed.
pub(crate) fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    base.chars()
        .filter(|c| !c.is_control() && !invisible(*c) && !matches!(c, '"' | ';' | '\\'))
        .take(200)
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string()
}

/// A character that changes how text around it is shown without being seen itself.
fn invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Format | GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
    )
}

#[cfg(test)]
mod tests {
    use super::sanitize_filename;

    #[test]
    fn file_names_lose_paths_quotes_controls_and_bidi_overrides() {
        for (given, kept) in [
            ("factura\u{202E}fdp.exe", "facturafdp.exe"),
            ("\u{202A}a\u{202B}b\u{202C}c\u{202D}d\u{202E}e.txt", "abcde.txt"),
            ("\u{2066}x\u{2067}y\u{2068}z\u{2069}.pdf", "xyz.pdf"),
            ("\u{200E}izq\u{200F}der\u{061C}.log", "izqder.log"),
            ("cero\u{200B}ancho\u{FEFF}\u{2060}\u{00AD}.doc", "ceroancho.doc"),
            ("línea\u{2028}párrafo\u{2029}.txt", "líneapárrafo.txt"),
            ("C:\\Users\\ana\\bitácora.log", "bitácora.log"),
            ("../../etc/passwd", "passwd"),
            ("\"a\";b\n\t.csv", "ab.csv"),
            ("  .oculto  ", "oculto"),
            ("informe – marzo (2027) ✓.pdf", "informe – marzo (2027) ✓.pdf"),
        ] {
            assert_eq!(sanitize_filename(given), kept, "{given:?}");
        }
    }
}
