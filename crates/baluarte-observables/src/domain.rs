//! Domain names and e-mail addresses.
//!
//! A canonical domain is the lowercase ASCII (punycode) form produced by UTS 46, without a trailing dot, and:
//! - has at least two labels: a single name such as `intranet` means a different host in each network, and
//!   correlating it across institutions would link unrelated incidents;
//! - has labels of 1 to 63 characters and at most 253 characters in all (the DNS limits);
//! - uses only `a-z`, `0-9` and `-` in labels, plus `_` as the first character of a label, as in service names
//!   like `_dmarc` or `_sip._tcp`; hyphens may stand anywhere, since names under wildcard DNS that break the
//!   hostname rules still resolve and show up in incidents;
//! - ends in a top-level label of at least two letters, or a punycode one (`xn--p1ai`): every delegated TLD is
//!   one of these, and this rules out IP addresses and file names like `1.2.3.999` or `invoice.7z`.

use idna::AsciiDenyList;

use crate::error::{quote, quote_char};

const MAX_DOMAIN: usize = 253;
const MAX_LABEL: usize = 63;
const MAX_LOCAL_PART: usize = 64;
/// RFC 5321's limit for a forward path, less the angle brackets.
const MAX_EMAIL: usize = 254;

/// The canonical form of a domain name, or why it is not one.
pub(crate) fn canonical_domain(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("empty".to_owned());
    }
    if looks_like_ip(text) {
        return Err("this is an IP address (use kind ipv4 or ipv6)".to_owned());
    }
    if let Some(c) = text.chars().find(|c| c.is_ascii() && !is_domain_ascii(*c)) {
        return Err(format!("{} is not allowed in a domain name", quote_char(c)));
    }
    let lower = text.to_ascii_lowercase();
    // No ASCII deny list: the characters are checked below, with messages that say which one is wrong.
    let ascii = idna::domain_to_ascii_cow(lower.as_bytes(), AsciiDenyList::EMPTY)
        .map_err(|_| "not a valid internationalised domain name (UTS 46)".to_owned())?;
    let name = ascii.strip_suffix('.').unwrap_or(&ascii);
    check_labels(name)?;
    Ok(name.to_owned())
}

fn looks_like_ip(text: &str) -> bool {
    let bare = text.trim_end_matches('.');
    bare.parse::<std::net::Ipv4Addr>().is_ok() || bare.parse::<std::net::Ipv6Addr>().is_ok()
}

fn is_domain_ascii(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn check_labels(name: &str) -> Result<(), String> {
    if name.len() > MAX_DOMAIN {
        return Err(format!("longer than {MAX_DOMAIN} characters"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        check_label(label)?;
    }
    match labels.as_slice() {
        [] | [_] => Err(format!(
            "{} has a single label; a domain needs at least two (such as `example.mx`)",
            quote(name)
        )),
        [.., tld] => check_tld(tld),
    }
}

fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("empty label (two dots in a row, or a leading dot)".to_owned());
    }
    if label.len() > MAX_LABEL {
        return Err(format!("label longer than {MAX_LABEL} characters"));
    }
    for (i, c) in label.char_indices() {
        match c {
            'a'..='z' | '0'..='9' | '-' => {}
            '_' if i == 0 => {}
            '_' => return Err("`_` is only allowed as the first character of a label (as in `_dmarc`)".to_owned()),
            other => return Err(format!("{} is not allowed in a domain name", quote_char(other))),
        }
    }
    Ok(())
}

fn check_tld(tld: &str) -> Result<(), String> {
    let letters = tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_lowercase());
    if letters || tld.starts_with("xn--") {
        return Ok(());
    }
    Err(format!(
        "top-level label {} is not a top-level domain (two or more letters, or punycode)",
        quote(tld)
    ))
}

/// The canonical form of an e-mail address: all lowercase (mailbox matching is case-insensitive in practice),
/// the domain as [`canonical_domain`]. Provider rules such as Gmail ignoring dots are not applied: they are not
/// universal, and guessing them wrong would merge different people.
pub(crate) fn canonical_email(text: &str) -> Result<String, String> {
    if text.chars().any(char::is_whitespace) {
        return Err("spaces are not allowed".to_owned());
    }
    let Some((local, domain)) = text.split_once('@') else {
        return Err("missing `@`".to_owned());
    };
    if domain.contains('@') {
        return Err("more than one `@`".to_owned());
    }
    let local = canonical_local_part(local)?;
    let domain = canonical_domain(domain).map_err(|reason| format!("domain part: {reason}"))?;
    let address = format!("{local}@{domain}");
    if address.len() > MAX_EMAIL {
        return Err(format!("longer than {MAX_EMAIL} characters"));
    }
    Ok(address)
}

/// Unquoted local parts (RFC 5322 dot-atom characters, plus non-ASCII for RFC 6531). Quoted local parts are
/// refused: they are vanishingly rare in real mail and would need their own canonical form.
fn canonical_local_part(local: &str) -> Result<String, String> {
    if local.is_empty() {
        return Err("empty local part (before the `@`)".to_owned());
    }
    if local.contains('"') {
        return Err("quoted local parts are not supported".to_owned());
    }
    if let Some(c) = local.chars().find(|c| !is_local_char(*c)) {
        return Err(format!("{} is not allowed before the `@`", quote_char(c)));
    }
    let lower = local.to_lowercase();
    if lower.len() > MAX_LOCAL_PART {
        return Err(format!("local part longer than {MAX_LOCAL_PART} bytes"));
    }
    Ok(lower)
}

fn is_local_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
    } else {
        !c.is_control() && !c.is_whitespace() && !is_invisible(c)
    }
}

/// Zero-width and bidirectional formatting characters: they make two different addresses look identical.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}
