//! IPv4, IPv6 and CIDR blocks, and the numeric ranges used to match addresses against blocks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{invalid, quote, ObservableError};
use crate::kind::Kind;
use crate::Observable;

/// `::ffff:0:0/96`, where IPv4 addresses are mapped so both families share one 128-bit ordering.
const V4_MAPPED: u128 = 0xffff_0000_0000;

/// A dotted quad with four decimal octets, no leading zeros.
pub(crate) fn ipv4(text: &str) -> Result<Observable, ObservableError> {
    if text.contains(':') {
        return Err(invalid(
            Kind::Ipv4,
            "this is IPv6 text (use kind ipv6; an IPv4-mapped address becomes IPv4)",
        ));
    }
    let addr = parse_ipv4(text).map_err(|reason| invalid(Kind::Ipv4, reason))?;
    Ok(address(IpAddr::V4(addr)))
}

/// An IPv6 address in any RFC 4291 spelling, optionally in brackets; an IPv4-mapped one becomes the IPv4.
pub(crate) fn ipv6(text: &str) -> Result<Observable, ObservableError> {
    let addr = parse_ipv6(text).map_err(|reason| invalid(Kind::Ipv6, reason))?;
    Ok(address(IpAddr::V6(addr)))
}

/// `address/prefix` with the host bits zeroed; a single-address block becomes the address.
pub(crate) fn cidr(text: &str) -> Result<Observable, ObservableError> {
    let (addr, prefix) = parse_block(text).map_err(|reason| invalid(Kind::Cidr, reason))?;
    match addr {
        IpAddr::V4(v4) => Ok(v4_block(v4, prefix)),
        IpAddr::V6(v6) => Ok(v6_block(v6, prefix)),
    }
}

/// The inclusive range of 128-bit numbers an ipv4, ipv6 or cidr value covers; `None` for other kinds or a value
/// that does not parse.
pub(crate) fn range(kind: Kind, value: &str) -> Option<(u128, u128)> {
    let (addr, prefix) = match kind {
        Kind::Ipv4 => (IpAddr::V4(parse_ipv4(value).ok()?), 32),
        Kind::Ipv6 => (IpAddr::V6(parse_ipv6(value).ok()?), 128),
        Kind::Cidr => parse_block(value).ok()?,
        _ => return None,
    };
    let (number, host_bits) = match addr {
        IpAddr::V4(v4) => (V4_MAPPED | u128::from(u32::from(v4)), 32 - prefix.min(32)),
        IpAddr::V6(v6) => (u128::from(v6), 128 - prefix.min(128)),
    };
    let host_mask = u128::MAX.checked_shr(128 - host_bits).unwrap_or(0);
    Some((number & !host_mask, number | host_mask))
}

/// The canonical observable of one address: IPv4-mapped IPv6 addresses are the IPv4 they carry, since that is
/// the host they reach.
fn address(addr: IpAddr) -> Observable {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Observable::new(Kind::Ipv4, v4.to_string()),
            // std's Display is the RFC 5952 text: lowercase, longest zero run compressed, no leading zeros.
            None => Observable::new(Kind::Ipv6, v6.to_string()),
        },
        IpAddr::V4(v4) => Observable::new(Kind::Ipv4, v4.to_string()),
    }
}

fn v4_block(addr: Ipv4Addr, prefix: u32) -> Observable {
    if prefix >= 32 {
        return address(IpAddr::V4(addr));
    }
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    let network = Ipv4Addr::from(u32::from(addr) & mask);
    Observable::new(Kind::Cidr, format!("{network}/{prefix}"))
}

/// A block inside `::ffff:0:0/96` is written as the IPv4 block it maps, so both spellings give one key.
fn v6_block(addr: Ipv6Addr, prefix: u32) -> Observable {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    let network = Ipv6Addr::from(u128::from(addr) & mask);
    match network.to_ipv4_mapped() {
        Some(v4) if prefix >= 96 => v4_block(v4, prefix - 96),
        _ if prefix >= 128 => address(IpAddr::V6(network)),
        _ => Observable::new(Kind::Cidr, format!("{network}/{prefix}")),
    }
}

/// Parses `address/prefix` and checks the prefix against the address family. Host bits are left as given.
fn parse_block(text: &str) -> Result<(IpAddr, u32), String> {
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err("missing `/prefix` (a single address is an ipv4 or ipv6 observable)".to_owned());
    };
    let prefix = parse_prefix(prefix)?;
    let (addr, max) = if addr.contains(':') {
        (IpAddr::V6(parse_ipv6(addr)?), 128)
    } else {
        (IpAddr::V4(parse_ipv4(addr)?), 32)
    };
    if prefix > max {
        return Err(format!("prefix length {prefix} is greater than {max}"));
    }
    Ok((addr, prefix))
}

fn parse_prefix(text: &str) -> Result<u32, String> {
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("prefix length {} is not a number from 0 to 128", quote(text)));
    }
    text.parse()
        .map_err(|_| format!("prefix length {} is not a number", quote(text)))
}

/// Strict dotted quad. `inet_aton` also accepts `10.1`, `0x0a.0.0.1` and `010.0.0.1` (octal), which other parsers
/// read differently; an indicator must mean one host, so only the unambiguous form is accepted.
pub(crate) fn parse_ipv4(text: &str) -> Result<Ipv4Addr, String> {
    let parts: Vec<&str> = text.split('.').collect();
    let [a, b, c, d] = parts.as_slice() else {
        return Err("expected four decimal numbers separated by dots".to_owned());
    };
    Ok(Ipv4Addr::new(octet(a)?, octet(b)?, octet(c)?, octet(d)?))
}

fn octet(text: &str) -> Result<u8, String> {
    if text.is_empty() {
        return Err("empty number between dots".to_owned());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{} is not a decimal number", quote(text)));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(format!(
            "leading zeros are ambiguous ({} is octal to some parsers)",
            quote(text)
        ));
    }
    text.parse().map_err(|_| format!("{} is greater than 255", quote(text)))
}

pub(crate) fn parse_ipv6(text: &str) -> Result<Ipv6Addr, String> {
    let bare = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    if let Some((_, zone)) = bare.split_once('%') {
        return Err(format!(
            "zone ids such as {} name an interface of one host and are not allowed",
            quote(&format!("%{zone}"))
        ));
    }
    bare.parse().map_err(|_| ipv6_reason(bare))
}

/// Why std refused an IPv6 text: the strict IPv4 message when the embedded dotted quad is at fault.
fn ipv6_reason(text: &str) -> String {
    if !text.contains(':') {
        return "no `:` in it".to_owned();
    }
    match text.rsplit_once(':') {
        Some((_, tail)) if tail.contains('.') => match parse_ipv4(tail) {
            Err(reason) => format!("embedded IPv4 part: {reason}"),
            Ok(_) => "invalid IPv6 syntax".to_owned(),
        },
        _ => "invalid IPv6 syntax".to_owned(),
    }
}
