//! Guessing the kind of a pasted value.
//!
//! The guess looks only at the shape of the text; the chosen kind's normaliser then decides, so a wrong value
//! gets that kind's message ("not an IPv4 address: leading zeros are ambiguous") rather than a vague one.
//! Every canonical value is guessed as its own kind, so `detect` of a canonical value gives it back.

use crate::error::ObservableError;
use crate::ip::{parse_ipv4, parse_ipv6};
use crate::kind::Kind;

/// Hex strings at least this long that are not a hash length are reported as mistyped hashes, not as domains.
const HASH_LIKE_MIN: usize = 24;

/// The kind `text` (trimmed and refanged) looks like.
pub(crate) fn guess(text: &str) -> Result<Kind, ObservableError> {
    if text.contains("://") || has_scheme(text) {
        Ok(Kind::Url)
    } else if is_cve_like(text) {
        Ok(Kind::Cve)
    } else if is_asn_like(text) {
        Ok(Kind::Asn)
    } else if text.contains('@') {
        Ok(Kind::Email)
    } else if let Some(kind) = hash_kind(text) {
        Ok(kind)
    } else if let Some((addr, _)) = text.split_once('/') {
        block_or_scheme_less_url(addr)
    } else if text.contains(':') {
        ipv6_or_host_port(text)
    } else {
        dotted_or_domain(text)
    }
}

/// `javascript:…`, `mailto:…`, `data:…`: a scheme without `//`, guessed as a URL so the message names the scheme.
/// A letter must come first and the part must not be all hex, which keeps `fe80::1` an IPv6 address; a digit
/// after the colon means `host:port`.
fn has_scheme(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let starts_with_letter = scheme.starts_with(|c: char| c.is_ascii_alphabetic());
    let scheme_chars = scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let all_hex = scheme.chars().all(|c| c.is_ascii_hexdigit());
    let port_follows = rest.starts_with(|c: char| c.is_ascii_digit());
    starts_with_letter && scheme_chars && !all_hex && !port_follows && !rest.starts_with(':')
}

fn is_cve_like(text: &str) -> bool {
    let prefix = text.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("cve-"));
    prefix
        && text
            .get(4..)
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
}

/// `AS64500`, `ASN64500`, `AS1.10`: a bare number is not enough (it could be anything).
fn is_asn_like(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    let Some(number) = upper.strip_prefix("ASN").or_else(|| upper.strip_prefix("AS")) else {
        return false;
    };
    number.starts_with(|c: char| c.is_ascii_digit()) && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Hashes are told apart by length alone: 32, 40, 64 or 128 hex digits.
fn hash_kind(text: &str) -> Option<Kind> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    [Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Sha512]
        .into_iter()
        .find(|k| k.hash_len() == Some(text.len()))
}

fn block_or_scheme_less_url(addr: &str) -> Result<Kind, ObservableError> {
    if parse_ipv4(addr).is_ok() || parse_ipv6(addr).is_ok() {
        return Ok(Kind::Cidr);
    }
    Err(ObservableError::Unrecognised(
        "a `/` after something that is not an IP address looks like a URL without its scheme; add http:// or https://"
            .to_owned(),
    ))
}

fn ipv6_or_host_port(text: &str) -> Result<Kind, ObservableError> {
    if text.matches(':').count() == 1 {
        return Err(ObservableError::Unrecognised(
            "`host:port` is not an observable; give the host alone, or a URL with its scheme".to_owned(),
        ));
    }
    Ok(Kind::Ipv6)
}

fn dotted_or_domain(text: &str) -> Result<Kind, ObservableError> {
    let digits_and_dots = text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if digits_and_dots && text.contains('.') {
        return Ok(Kind::Ipv4);
    }
    if digits_and_dots {
        return Err(ObservableError::Unrecognised(
            "a bare number could be many things; write an AS number as `AS64500`".to_owned(),
        ));
    }
    if text.len() >= HASH_LIKE_MIN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ObservableError::Unrecognised(format!(
            "{} hexadecimal digits is not a hash length (MD5 32, SHA-1 40, SHA-256 64, SHA-512 128)",
            text.len()
        )));
    }
    Ok(Kind::Domain)
}
