//! Hashes, CVE ids and AS numbers: short textual identifiers with one spelling each.

use crate::error::{quote, quote_char};
use crate::kind::Kind;

/// The first year of the CVE list.
const FIRST_CVE_YEAR: u32 = 1999;
/// The CVE JSON schema allows up to 19 digits in the sequence number.
const MAX_CVE_DIGITS: usize = 19;

/// Lowercase hex of exactly the kind's length. `hash_len` is `None` only for a kind that is not a hash.
pub(crate) fn canonical_hash(kind: Kind, text: &str) -> Result<String, String> {
    let Some(want) = kind.hash_len() else {
        return Err("not a hash kind".to_owned());
    };
    if let Some(c) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("{} is not a hexadecimal digit", quote_char(c)));
    }
    if text.len() != want {
        return Err(format!("expected {want} hexadecimal digits, got {}", text.len()));
    }
    Ok(text.to_ascii_lowercase())
}

/// `CVE-YYYY-NNNN`, uppercase. Sequence numbers have four digits, zero-padded, or more without leading zeros
/// (the CVE id syntax since 2014), so `CVE-2021-044228` is refused rather than guessed.
pub(crate) fn canonical_cve(text: &str) -> Result<String, String> {
    let upper = text.to_ascii_uppercase();
    let Some((year, sequence)) = upper.strip_prefix("CVE-").and_then(|rest| rest.split_once('-')) else {
        return Err("expected `CVE-YYYY-NNNN`".to_owned());
    };
    check_cve_year(year)?;
    check_cve_sequence(sequence)?;
    Ok(format!("CVE-{year}-{sequence}"))
}

fn check_cve_year(year: &str) -> Result<(), String> {
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("year {} is not four digits", quote(year)));
    }
    match year.parse::<u32>() {
        Ok(y) if y >= FIRST_CVE_YEAR => Ok(()),
        _ => Err(format!("year {year} is before the first CVE year ({FIRST_CVE_YEAR})")),
    }
}

fn check_cve_sequence(sequence: &str) -> Result<(), String> {
    if !sequence.bytes().all(|b| b.is_ascii_digit()) || sequence.is_empty() {
        return Err(format!("sequence number {} is not a decimal number", quote(sequence)));
    }
    if sequence.len() < 4 || sequence.len() > MAX_CVE_DIGITS {
        return Err(format!(
            "sequence number has {} digits; it needs 4 to {MAX_CVE_DIGITS}",
            sequence.len()
        ));
    }
    if sequence.len() > 4 && sequence.starts_with('0') {
        return Err("sequence numbers longer than four digits have no leading zeros".to_owned());
    }
    Ok(())
}

/// `AS64500`, from `AS64500`, `as64500`, `ASN64500`, `64500` or the asdot form `AS0.64500` (RFC 5396).
pub(crate) fn canonical_asn(text: &str) -> Result<String, String> {
    let upper = text.to_ascii_uppercase();
    let number = upper
        .strip_prefix("ASN")
        .or_else(|| upper.strip_prefix("AS"))
        .unwrap_or(&upper);
    let asn = match number.split_once('.') {
        Some((high, low)) => (u32::from(asdot_half(high)?) << 16) | u32::from(asdot_half(low)?),
        None => asplain(number)?,
    };
    Ok(format!("AS{asn}"))
}

fn asplain(number: &str) -> Result<u32, String> {
    check_digits(number)?;
    number
        .parse()
        .map_err(|_| format!("{} is above 4294967295, the largest 32-bit AS number", quote(number)))
}

fn asdot_half(number: &str) -> Result<u16, String> {
    check_digits(number)?;
    number
        .parse()
        .map_err(|_| format!("{} is above 65535 in the asdot form", quote(number)))
}

fn check_digits(number: &str) -> Result<(), String> {
    if number.is_empty() {
        return Err("missing number".to_owned());
    }
    match number.chars().find(|c| !c.is_ascii_digit()) {
        Some(c) => Err(format!("{} is not a decimal digit", quote_char(c))),
        None => Ok(()),
    }
}
