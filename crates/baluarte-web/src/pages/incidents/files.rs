//! Downloads of a case file: a submission's exact report and its signed receipt, attachments. Never
//! rendered and never stored by the browser.

use crate::auth::SignedIn;
use crate::pages::kit::{OrPage, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// `attachment; filename="…"` with an ASCII fallback and the exact name in `filename*` (RFC 6266).
fn disposition(filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact: String = url::form_urlencoded::byte_serialize(filename.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

pub(super) fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, disposition(filename));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `BAL-2026-000123-initial`, from the receipt, to name the two files of a submission.
fn submission_stem(receipt: &str, sid: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(receipt).unwrap_or_default();
    match (v["reference"].as_str(), v["stage_id"].as_str()) {
        (Some(r), Some(st)) => format!("{r}-{st}"),
        _ => sid.to_string(),
    }
}

/// The exact report bytes of a submission (`which` = "report") or its signed receipt, as a download.
async fn submission_file(
    state: &AppState,
    s: &SignedIn,
    id: &str,
    sid: &str,
    which: &str,
) -> Result<Response, PageError> {
    let (report, receipt) = state
        .services
        .incidents()
        .submission_files(s.actor(), id, sid)
        .await
        .page(s.ctx.lang)?;
    let name = format!("{}-{which}.json", submission_stem(&receipt, sid));
    let bytes = if which == "report" { report } else { receipt };
    Ok(download(bytes.into_bytes(), "application/json", &name))
}

pub(super) async fn report_file(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    submission_file(&state, &s, &id, &sid, "report").await
}

pub(super) async fn receipt_file(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    submission_file(&state, &s, &id, &sid, "receipt").await
}

pub(super) async fn attachment_file(
    State(state): State<AppState>,
    s: SignedIn,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (att, content) = state
        .services
        .incidents()
        .attachment(s.actor(), &id, &aid)
        .await
        .page(s.ctx.lang)?;
    Ok(download(content, "application/octet-stream", &att.filename))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_keep_utf8_and_stay_in_ascii_headers() {
        let h = disposition("informe técnico \"final\".pdf");
        let text = h.to_str().unwrap_or_default();
        assert!(
            text.starts_with("attachment; filename=\"informe t_cnico _final_.pdf\""),
            "{text}"
        );
        assert!(
            text.contains("filename*=UTF-8''informe%20t%C3%A9cnico%20%22final%22.pdf"),
            "{text}"
        );
    }
}
