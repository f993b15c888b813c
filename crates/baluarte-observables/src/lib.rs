//! Observables (indicators) carried by incident reports, normalised so that they correlate.
//!
//! The national CSIRT links incidents of different institutions that share an observable ("also reported by 3
//! other institutions"). For that, every spelling of the same indicator must give the same canonical value and so
//! the same [`Observable::key`]: `Evil.Example.` and `evil[.]example` are one domain, `::ffff:10.0.0.1` is the IPv4
//! address `10.0.0.1`, `10.1.2.3/8` is the block `10.0.0.0/8`.
//!
//! Matching is meant to be cheap in SQL over millions of rows:
//! - exact matches compare [`Observable::key`] (plus [`Observable::related_keys`], such as a URL's host);
//! - address-in-block matches compare the fixed-width hex strings of [`Observable::ip_range`] as TEXT:
//!   `lo <= ? AND hi >= ?`, with both bounds of the address looked up.
//!
//! Everything here is pure: no I/O, no DNS, no panics on any input.

mod detect;
mod domain;
mod error;
mod fang;
mod ip;
mod kind;
mod text;
mod urls;

use serde::{Deserialize, Serialize};

pub use error::ObservableError;
pub use kind::Kind;

use error::invalid;

/// Longest accepted input in bytes, after trimming. Longer input is an error, not truncated: a truncated indicator
/// would be a different one.
pub const MAX_INPUT: usize = 2048;

/// One observable in canonical form.
///
/// Build it with [`normalise`] or [`detect`]: the fields are public for reading and for pattern matching, but a
/// hand-made value may not be canonical. Deserialising normalises (and so validates) the value again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawObservable")]
pub struct Observable {
    pub kind: Kind,
    /// The canonical value, without the kind prefix.
    pub value: String,
}

/// The wire form before validation.
#[derive(Deserialize)]
struct RawObservable {
    kind: Kind,
    value: String,
}

impl TryFrom<RawObservable> for Observable {
    type Error = ObservableError;

    fn try_from(raw: RawObservable) -> Result<Self, Self::Error> {
        normalise(raw.kind, &raw.value)
    }
}

/// Normalises `raw` as an observable of `kind`.
///
/// Whitespace around the value is trimmed and defanged spellings (`hxxp://`, `[.]`, `[at]`, …) are refanged
/// first. The result can be of another kind than asked for, where two kinds overlap: an IPv4-mapped IPv6 address
/// is the IPv4 address, and a CIDR block of a single address (`/32`, `/128`) is that address.
///
/// # Errors
/// [`ObservableError`] saying what is wrong with the value for that kind.
pub fn normalise(kind: Kind, raw: &str) -> Result<Observable, ObservableError> {
    normalise_clean(kind, &clean(raw)?)
}

/// Guesses the kind of a pasted value from its shape and normalises it as that kind.
///
/// Hashes are told apart by length, a bare number is refused (write AS numbers as `AS64500`), and a value that
/// fits no shape is tried as a domain. `detect` of a canonical value always gives the same observable back.
///
/// # Errors
/// [`ObservableError::Unrecognised`] when the shape fits no kind, or the guessed kind's error.
pub fn detect(raw: &str) -> Result<Observable, ObservableError> {
    let text = clean(raw)?;
    normalise_clean(detect::guess(&text)?, &text)
}

/// Trimmed, length-checked and refanged input.
fn clean(raw: &str) -> Result<String, ObservableError> {
    let trimmed = raw.trim();
    if trimmed.len() > MAX_INPUT {
        return Err(ObservableError::TooLong);
    }
    let text = fang::refang(trimmed);
    if text.is_empty() {
        return Err(ObservableError::Empty);
    }
    Ok(text)
}

fn normalise_clean(kind: Kind, text: &str) -> Result<Observable, ObservableError> {
    let value = match kind {
        Kind::Ipv4 => return ip::ipv4(text),
        Kind::Ipv6 => return ip::ipv6(text),
        Kind::Cidr => return ip::cidr(text),
        Kind::Url => urls::canonical_url(text)?,
        Kind::Domain => domain::canonical_domain(text).map_err(|reason| invalid(kind, reason))?,
        Kind::Email => domain::canonical_email(text).map_err(|reason| invalid(kind, reason))?,
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => {
            text::canonical_hash(kind, text).map_err(|reason| invalid(kind, reason))?
        }
        Kind::Cve => text::canonical_cve(text).map_err(|reason| invalid(kind, reason))?,
        Kind::Asn => text::canonical_asn(text).map_err(|reason| invalid(kind, reason))?,
    };
    Ok(Observable::new(kind, value))
}

impl Observable {
    pub(crate) fn new(kind: Kind, value: String) -> Self {
        Observable { kind, value }
    }

    /// The exact-match correlation key, `kind:value` (`domain:xn--bcher-kva.example`, `ipv4:10.0.0.1`).
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.value)
    }

    /// Other keys this observable should also match: a URL matches its host's `domain:`, `ipv4:` or `ipv6:` key.
    ///
    /// An e-mail address relates to nothing: its domain (`gmail.com`) would link every incident with a webmail
    /// sender. Likewise a domain is not related to its parent domains, since without the public suffix list
    /// `victim.blogspot.com` would link to every other blog. Address-in-block matching is [`Self::ip_range`].
    pub fn related_keys(&self) -> Vec<String> {
        match self.kind {
            Kind::Url => urls::host_key(&self.value).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// For `ipv4`, `ipv6` and `cidr`: the inclusive range of addresses covered, as two 32-digit lowercase hex
    /// strings (the 128-bit number of the address). IPv4 is mapped into `::ffff:0:0/96` so that both families
    /// share one ordering. Equal width means lexicographic order is numeric order, so a TEXT column can be compared
    /// in SQL: the blocks containing address `a` are those with `lo <= a AND hi >= a`, where `a` is the address's
    /// own `lo` (equal to its `hi`). `None` for other kinds.
    pub fn ip_range(&self) -> Option<(String, String)> {
        let (lo, hi) = ip::range(self.kind, &self.value)?;
        Some((format!("{lo:032x}"), format!("{hi:032x}")))
    }

    /// The value made safe to print in a report: `hxxps://evil[.]example/x`, `10[.]0[.]0[.]1`,
    /// `user[@]example[.]com`. IPv6 addresses, hashes, CVE ids and AS numbers are printed as they are. Normalising
    /// the defanged text gives this observable back.
    pub fn defanged(&self) -> String {
        fang::defang(self.kind, &self.value)
    }
}
