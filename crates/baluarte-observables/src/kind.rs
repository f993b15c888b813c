//! The kinds of observable and their stable ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{quote, ObservableError};

/// What an observable is.
///
/// The ids returned by [`Kind::as_str`] (and used by serde) are stored in the database and form the prefix of
/// every correlation key: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Ipv4,
    Ipv6,
    Cidr,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Cve,
    Asn,
}

impl Kind {
    /// Every kind, in declaration order (for forms, fuzzing and exhaustive tests).
    pub const ALL: [Kind; 12] = [
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Cidr,
        Kind::Domain,
        Kind::Url,
        Kind::Email,
        Kind::Md5,
        Kind::Sha1,
        Kind::Sha256,
        Kind::Sha512,
        Kind::Cve,
        Kind::Asn,
    ];

    /// The stable id: `ipv4`, `ipv6`, `cidr`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`, `sha512`, `cve`,
    /// `asn`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Cidr => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Email => "email",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Sha512 => "sha512",
            Kind::Cve => "cve",
            Kind::Asn => "asn",
        }
    }

    /// The kind with this exact id, if any (ids are lowercase; no other spelling is accepted).
    pub fn parse(id: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == id)
    }

    /// The number of hexadecimal digits of a hash kind; `None` for the other kinds.
    pub const fn hash_len(self) -> Option<usize> {
        match self {
            Kind::Md5 => Some(32),
            Kind::Sha1 => Some(40),
            Kind::Sha256 => Some(64),
            Kind::Sha512 => Some(128),
            _ => None,
        }
    }

    /// The kind as a noun with its article, for error messages ("not an IPv4 address: …").
    pub(crate) const fn noun(self) -> &'static str {
        match self {
            Kind::Ipv4 => "an IPv4 address",
            Kind::Ipv6 => "an IPv6 address",
            Kind::Cidr => "a CIDR block",
            Kind::Domain => "a domain name",
            Kind::Url => "a URL",
            Kind::Email => "an e-mail address",
            Kind::Md5 => "an MD5 hash",
            Kind::Sha1 => "a SHA-1 hash",
            Kind::Sha256 => "a SHA-256 hash",
            Kind::Sha512 => "a SHA-512 hash",
            Kind::Cve => "a CVE id",
            Kind::Asn => "an AS number",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ObservableError;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Kind::parse(id).ok_or_else(|| ObservableError::UnknownKind(quote(id)))
    }
}
