//! Multipart uploads. The session comes from [`crate::auth::load_session`] as for every page (mounted
//! with [`crate::auth::CsrfInMultipart`], it leaves the body unread); the `_csrf` token must be the
//! body's first part, and no other part is read before it matches.

use super::actions::after;
use crate::auth::{SignedIn, CSRF_FIELD};
use crate::pages::kit::error_page;
use crate::AppState;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baluarte_core::CoreError;
use baluarte_core::FieldCode;

/// A file sent with a form.
#[derive(Debug, Clone)]
pub(super) struct Upload {
    pub filename: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// The text fields and the file of a multipart form. The first part must be the session's `_csrf`
/// token; nothing else is read before it matches.
pub(super) async fn read_multipart(
    mut mp: Multipart,
    s: &SignedIn,
) -> Result<(Vec<(String, String)>, Option<Upload>), Response> {
    let lang = s.ctx.lang;
    let forged = || error_page(lang, StatusCode::FORBIDDEN, "error.csrf");
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            error_page(lang, StatusCode::PAYLOAD_TOO_LARGE, "error.file_too_large")
        } else {
            error_page(lang, StatusCode::BAD_REQUEST, "error.invalid")
        }
    };
    let mut pairs = Vec::new();
    let mut upload = None;
    let mut checked = false;
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        if !checked {
            if name != CSRF_FIELD || field.file_name().is_some() {
                return Err(forged());
            }
            let sent = field.text().await.map_err(bad)?;
            if !baluarte_core::crypto::same_secret(&sent, &s.ctx.csrf) {
                return Err(forged());
            }
            checked = true;
            continue;
        }
        match field.file_name().map(str::to_string) {
            Some(filename) => {
                let media_type = field.content_type().unwrap_or("application/octet-stream").to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                // A file input left empty still sends a part, with no name and no content.
                if filename.is_empty() && bytes.is_empty() {
                    continue;
                }
                upload = Some(Upload {
                    filename,
                    media_type,
                    bytes: bytes.to_vec(),
                });
            }
            None => pairs.push((name, field.text().await.map_err(bad)?)),
        }
    }
    if !checked {
        return Err(forged());
    }
    Ok((pairs, upload))
}

pub(super) async fn upload_attachment(
    State(state): State<AppState>,
    s: SignedIn,
    Path(id): Path<String>,
    mp: Multipart,
) -> Response {
    let (pairs, upload) = match read_multipart(mp, &s).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let result = match upload {
        Some(u) => state
            .services
            .incidents()
            .add_attachment(s.actor(), &id, &u.filename, &u.media_type, &u.bytes)
            .await
            .map(|_| ()),
        None => Err(CoreError::invalid("file", FieldCode::Required)),
    };
    match after(&state, &s, &id, "attach", pairs, result, "attached", "attachments").await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}
