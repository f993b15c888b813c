//! Input validation shared by the capabilities: each helper checks one field, pushes a
//! [`FieldError`] naming it when the value is wrong, and returns the value cleaned (trimmed, folded).
//! [`finish`] turns the collected errors into one `Invalid`.

use crate::error::{CoreError, FieldCode, FieldError, Result};

/// Trimmed required text within bounds.
pub(crate) fn text(errors: &mut Vec<FieldError>, field: &str, value: &str, min: usize, max: usize) -> String {
    let v = value.trim().to_string();
    let n = v.chars().count();
    if n < min {
        errors.push(if min <= 1 {
            FieldError::new(field, FieldCode::Required)
        } else {
            FieldError::new(field, FieldCode::TooShort).with("min", min)
        });
    } else if n > max {
        errors.push(FieldError::new(field, FieldCode::TooLong).with("max", max));
    } else if v.chars().any(|c| c.is_control()) {
        errors.push(FieldError::new(field, FieldCode::ControlCharacters));
    }
    v
}

pub(crate) fn optional_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Option<String> {
    match value.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(text(errors, field, v, 1, max)),
    }
}

/// Multi-line text: like `text`, but line breaks and tabs are allowed.
pub(crate) fn text_block(errors: &mut Vec<FieldError>, field: &str, value: &str, min: usize, max: usize) -> String {
    let v = value.trim().replace("\r\n", "\n");
    let n = v.chars().count();
    if n < min {
        errors.push(FieldError::new(field, FieldCode::Required));
    } else if n > max {
        errors.push(FieldError::new(field, FieldCode::TooLong).with("max", max));
    } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        errors.push(FieldError::new(field, FieldCode::ControlCharacters));
    }
    v
}

/// An e-mail address, trimmed and lower-cased: at most 254 characters (counted as sent, before the
/// lower-casing, as the OpenAPI schema counts them), no whitespace, control characters or `<>",;`, a
/// local part and a domain with a dot.
pub(crate) fn email(errors: &mut Vec<FieldError>, field: &str, value: &str) -> String {
    let v = value.trim().to_lowercase();
    let valid = value.trim().chars().count() <= 254
        && v.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.'))
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'));
    if !valid {
        errors.push(FieldError::new(field, FieldCode::NotEmail));
    }
    v
}

pub(crate) fn finish(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Invalid(errors))
    }
}
