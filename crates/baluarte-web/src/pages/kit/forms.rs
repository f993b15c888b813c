//! Small helpers of forms and lists: field errors, text fields, paging, redirects.

use crate::i18n::Tr;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baluarte_core::model::{Page, PageRequest};
use baluarte_core::{CoreError, FieldCode, FieldError};
use serde::Deserialize;

/// Field errors of a submitted form, for inline display next to each input: each already in the
/// page's language (field, text).
#[derive(Debug, Clone, Default)]
pub struct FormErrors(Vec<(String, String)>);

impl FormErrors {
    /// The service's verdict on each field, in the page's language.
    pub fn new(t: Tr, errors: &[FieldError]) -> Self {
        FormErrors(errors.iter().map(|e| (e.field.clone(), t.error(e))).collect())
    }
    /// One field's error.
    pub fn one(t: Tr, error: FieldError) -> Self {
        Self::new(t, &[error])
    }
    /// A text the page composed itself (several errors shown under one input).
    pub fn push_text(&mut self, field: impl Into<String>, text: impl Into<String>) {
        self.0.push((field.into(), text.into()));
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, text)| text.as_str())
    }
    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A text field: trimmed, and None when empty.
pub fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A value for a URL query.
pub fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// A page with the given status.
pub fn status_with<T: IntoResponse>(status: StatusCode, page: T) -> Response {
    let mut res = page.into_response();
    *res.status_mut() = status;
    res
}

/// 422 when the form came back with errors, 200 otherwise.
pub fn invalid_status(errors: &FormErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// The longest `next` that is followed.
const MAX_NEXT: usize = 1024;

/// Where to go after a form (`next`): only a local path, anything else is `/`. A local path is `/`
/// followed by ASCII letters, digits and `/_.~?=&%+,-` only, without `//` and at most [`MAX_NEXT`]
/// bytes; and its percent escapes, decoded, bring no control character, backslash or `//` either.
/// Browsers drop tabs and line breaks from a `Location` and read `\` as `/`, so `/\t/evil.example` or
/// `/\\evil.example` would lead to another host; a line break would not even be a header value.
pub fn safe_next(next: &str) -> &str {
    if is_local_path(next) {
        next
    } else {
        "/"
    }
}

fn is_local_path(next: &str) -> bool {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"/_.~?=&%+,-".contains(&b);
    if next.len() > MAX_NEXT || !next.starts_with('/') || next.contains("//") || !next.bytes().all(plain) {
        return false;
    }
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8_lossy();
    !decoded.contains("//") && !decoded.chars().any(|c| c == '\\' || c.is_control())
}

/// The confirmation a page shows after a redirect (`?done=`).
#[derive(Debug, Deserialize, Default)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// Paging parameters, taken as text so that a stray value falls back to the default instead of failing.
pub fn page_request(page: &Option<String>, per_page: &Option<String>) -> PageRequest {
    let num = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    PageRequest::new(num(page), num(per_page))
}

/// "Page X of Y" with links to the previous and next pages that keep the filters.
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `filters` with an empty value are left out of the links.
    pub fn new<T>(path: &str, filters: &[(&str, &str)], p: &Page<T>) -> Self {
        let per_page = p.per_page.max(1);
        let pages = ((p.total + per_page - 1) / per_page).max(1);
        let href = |n: i64| {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in filters.iter().filter(|(_, v)| !v.is_empty()) {
                q.append_pair(k, v);
            }
            if n > 1 {
                q.append_pair("page", &n.to_string());
            }
            if per_page != PageRequest::default().per_page {
                q.append_pair("per_page", &per_page.to_string());
            }
            let q = q.finish();
            if q.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{q}")
            }
        };
        Pager {
            page: p.page,
            pages,
            total: p.total,
            prev: (p.page > 1).then(|| href((p.page - 1).min(pages))),
            next: (p.page < pages).then(|| href(p.page + 1)),
        }
    }
}

/// A page that shows a secret once: never stored by the browser or a proxy.
pub fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A form error set by the page itself (a value the service could not even be asked about).
pub fn field_error(field: &str, code: FieldCode) -> CoreError {
    CoreError::invalid(field, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(total: i64, page: i64, per_page: i64) -> Page<()> {
        Page {
            items: vec![],
            total,
            page,
            per_page,
        }
    }

    #[test]
    fn next_is_a_local_path_or_home() {
        for hostile in [
            "",
            "x",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "/ x",
            "https://evil.example",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/%0d%0a",
            "/\u{202E}",
            "/a//b",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(MAX_NEXT))), "/");
        for local in [
            "/",
            "/incidents?status=new&page=2",
            "/incidents?q=n%C3%B3mina+marzo",
            "/a-b_c.d~e",
        ] {
            assert_eq!(safe_next(local), local);
        }
    }

    #[test]
    fn pager_keeps_filters_and_counts_pages() {
        let p = Pager::new("/entities", &[("q", "salud y más"), ("kind", "")], &page(120, 2, 50));
        assert_eq!((p.page, p.pages), (2, 3));
        assert_eq!(p.prev.as_deref(), Some("/entities?q=salud+y+m%C3%A1s"));
        assert_eq!(p.next.as_deref(), Some("/entities?q=salud+y+m%C3%A1s&page=3"));
        let p = Pager::new("/directory", &[], &page(0, 1, 20));
        assert_eq!((p.pages, p.prev, p.next), (1, None, None));
        let p = Pager::new("/x", &[], &page(10, 1, 5));
        assert_eq!(p.next.as_deref(), Some("/x?page=2&per_page=5"));
    }
}
