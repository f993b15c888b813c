//! URLs: parsed as a browser would (WHATWG, by the `url` crate), then made canonical.
//!
//! The `url` crate lowercases the scheme and host, applies IDNA to the host, drops the default port, turns an
//! empty path into `/`, resolves `.` and `..` segments and reads hosts like `0x7f.1` as the IPv4 address a browser
//! would connect to. On top of that the fragment and an empty query are dropped (never sent to the server), and
//! percent-escapes are tidied as RFC 3986 §6.2.2 allows: hex digits uppercase, unreserved characters decoded, and a
//! `%` that starts no escape written as `%25`.
//! Path and query keep their case and order: servers may treat `/Login` and `/login`, or `?a=1&b=2` and
//! `?b=2&a=1`, differently (case-sensitive file systems, order-dependent query parsers, signed URLs).

use url::{Host, Url};

use crate::domain::canonical_domain;
use crate::error::{invalid, quote, ObservableError};
use crate::kind::Kind;
use crate::MAX_INPUT;

const SCHEMES: [&str; 3] = ["http", "https", "ftp"];

pub(crate) fn canonical_url(text: &str) -> Result<String, ObservableError> {
    let mut url = Url::parse(text).map_err(|e| invalid(Kind::Url, parse_reason(e)))?;
    if !SCHEMES.contains(&url.scheme()) {
        return Err(ObservableError::UnsupportedScheme(quote(url.scheme())));
    }
    canonical_host(&mut url)?;
    url.set_fragment(None);
    tidy_path_and_query(&mut url);
    let canonical = String::from(url);
    // Percent-encoding can make a URL longer; past the limit its canonical form could not be normalised again.
    if canonical.len() > MAX_INPUT {
        return Err(invalid(
            Kind::Url,
            format!("longer than {MAX_INPUT} bytes once normalised"),
        ));
    }
    Ok(canonical)
}

/// The correlation key of the URL's host: `domain:…`, `ipv4:…` or `ipv6:…`.
pub(crate) fn host_key(value: &str) -> Option<String> {
    let url = Url::parse(value).ok()?;
    match url.host()? {
        Host::Domain(domain) => Some(format!("{}:{domain}", Kind::Domain.as_str())),
        Host::Ipv4(v4) => Some(format!("{}:{v4}", Kind::Ipv4.as_str())),
        Host::Ipv6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => format!("{}:{v4}", Kind::Ipv4.as_str()),
            None => format!("{}:{v6}", Kind::Ipv6.as_str()),
        }),
    }
}

fn parse_reason(error: url::ParseError) -> String {
    match error {
        url::ParseError::RelativeUrlWithoutBase => "missing scheme (expected http://, https:// or ftp://)".to_owned(),
        other => other.to_string(),
    }
}

/// The host must be one the other kinds accept, so that the URL's related key is a valid domain or IP key and
/// single-label hosts (`http://intranet/`), which name a different machine in each network, are refused.
fn canonical_host(url: &mut Url) -> Result<(), ObservableError> {
    let replacement = match url.host() {
        None => return Err(invalid(Kind::Url, "missing host")),
        Some(Host::Ipv4(_)) => return Ok(()),
        Some(Host::Ipv6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()),
        Some(Host::Domain(domain)) => {
            let canonical = canonical_domain(domain).map_err(|reason| invalid(Kind::Url, format!("host: {reason}")))?;
            (canonical != domain).then_some(canonical)
        }
    };
    match replacement {
        Some(host) => url
            .set_host(Some(&host))
            .map_err(|e| invalid(Kind::Url, format!("host: {e}"))),
        None => Ok(()),
    }
}

fn tidy_path_and_query(url: &mut Url) {
    let path = tidy_percent(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    match url.query().map(tidy_percent) {
        // `?` alone is never distinguished from no query by the servers behind real indicators.
        Some(query) if query.is_empty() => url.set_query(None),
        Some(query) if Some(query.as_str()) != url.query() => url.set_query(Some(&query)),
        _ => {}
    }
}

/// Uppercases the hex digits of percent-escapes and decodes escaped unreserved characters (RFC 3986 §6.2.2.1 and
/// §6.2.2.2): both spellings mean the same resource to every server. A stray `%` becomes `%25`.
fn tidy_percent(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let escaped = escaped_byte(bytes.get(i + 1..i + 3)).filter(|_| byte == b'%');
        match escaped {
            Some(decoded) if is_unreserved(decoded) => out.push(decoded),
            Some(decoded) => out.extend_from_slice(format!("%{decoded:02X}").as_bytes()),
            // A `%` that starts no escape is a literal percent sign; written as `%25`, it cannot pair with a
            // decoded digit that follows (`%d%32` would otherwise become the different escape `%d2`).
            None if byte == b'%' => out.extend_from_slice(b"%25"),
            None => out.push(byte),
        }
        i += if escaped.is_some() { 3 } else { 1 };
    }
    // Only ASCII was replaced by ASCII, so the bytes are still UTF-8; fall back to the input rather than panic.
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

fn escaped_byte(pair: Option<&[u8]>) -> Option<u8> {
    match pair? {
        [high, low] => Some(hex_digit(*high)? << 4 | hex_digit(*low)?),
        _ => None,
    }
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}
